"""The shapes that credentials and identifiers from outside must have before anything reads storage.

A value that cannot be one of ours is refused by its shape alone: it never reaches a DynamoDB
key (which real DynamoDB limits to 2048 bytes, and refuses with a server-side error beyond),
and it is never hashed at any length. Every pattern is ASCII-only and bounded, so an oversized
or multibyte value fails here. Each check returns whether the value is well-formed; the caller
raises the error its protocol prescribes (invalid_client, invalid_grant, 401, 422, …).
"""

from __future__ import annotations

import re

# Longer credentials are refused before any hashing or storage read.
MAX_CREDENTIAL_LENGTH = 512

# Our ids: a lowercase prefix and 24 hex characters (orgconnect.domain.secrets.new_id).
_ID = re.compile(r"[a-z]{2,4}_[0-9a-f]{24}")
# RFC 6749 appendix A: client secrets, codes and refresh tokens are VSCHAR (printable ASCII).
_VSCHAR = re.compile(rf"[\x20-\x7e]{{1,{MAX_CREDENTIAL_LENGTH}}}")
# RFC 6750 section 2.1: the b64token syntax of a bearer credential.
_B64TOKEN = re.compile(rf"(?=.{{1,{MAX_CREDENTIAL_LENGTH}}}\Z)[A-Za-z0-9\-._~+/]+=*")


def is_id(value: object, prefix: str) -> bool:
    """Whether ``value`` has the shape of an id minted for ``prefix`` (``cli``, ``ou``, ``ser``, …)."""
    return isinstance(value, str) and value.startswith(prefix + "_") and _ID.fullmatch(value) is not None


def is_subject(value: object) -> bool:
    """Whether ``value`` has the shape of a ``sub`` we issue (an id: ``ou_…`` today)."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def is_vschar_credential(value: object) -> bool:
    """Whether ``value`` can be a client secret, an authorization code or a refresh token."""
    return isinstance(value, str) and _VSCHAR.fullmatch(value) is not None


def is_bearer_credential(value: object) -> bool:
    """Whether ``value`` can be the credentials of an ``Authorization: Bearer`` header."""
    return isinstance(value, str) and _B64TOKEN.fullmatch(value) is not None
