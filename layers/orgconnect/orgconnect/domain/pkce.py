"""PKCE at our own authorization server (RFC 7636; RFC 9700 section 2.1.1).

The authorization request may carry an S256 ``code_challenge``; the code issued from it is bound
to that challenge, and its redemption must present the ``code_verifier`` whose S256 it is.
``plain`` is not offered (RFC 9700 section 2.1.1: S256 only).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

S256 = "S256"
# RFC 7636 section 4.1: 43-128 characters of the unreserved set.
CODE_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
# RFC 7636 section 4.2: BASE64URL(SHA256(verifier)) without padding is always 43 characters.
CODE_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")


def is_code_verifier(value: str) -> bool:
    """Whether ``value`` is a well-formed code_verifier."""
    return CODE_VERIFIER.fullmatch(value) is not None


def is_s256_challenge(value: str) -> bool:
    """Whether ``value`` is a well-formed S256 code_challenge."""
    return CODE_CHALLENGE.fullmatch(value) is not None


def s256_challenge(code_verifier: str) -> str:
    """The S256 code_challenge of ``code_verifier``."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verifier_matches(code_verifier: str, code_challenge: str) -> bool:
    """Constant-time check that ``code_verifier`` is the S256 preimage of ``code_challenge``."""
    return hmac.compare_digest(s256_challenge(code_verifier), code_challenge)
