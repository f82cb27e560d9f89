"""Identifiers, secrets and keyed hashes.

Every secret orgconnect hands out (client secrets, link tokens, codes, tokens) comes from the
operating system CSPRNG and is stored only as a keyed hash (HMAC-SHA256 with the deployment's
pepper), so a copy of the table alone cannot be used to authenticate or to find a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

ID_HEX_CHARS = 24
SECRET_BYTES = 32  # 256 bits: above the 128 bits RFC 6749 section 10.10 asks for, as SPEC 2.1 requires


def new_id(prefix: str) -> str:
    """A new entity id: ``prefix`` + ``_`` + 24 lowercase hex characters (SPEC section 1)."""
    return f"{prefix}_{secrets.token_hex(ID_HEX_CHARS // 2)}"


def id_pattern(prefix: str) -> re.Pattern[str]:
    """The regular expression that matches ids minted by :func:`new_id` for ``prefix``."""
    # \Z, not $: "$" also matches before a trailing newline, which must never pass as an id.
    return re.compile(rf"^{re.escape(prefix)}_[0-9a-f]{{{ID_HEX_CHARS}}}\Z")


def new_secret(nbytes: int = SECRET_BYTES) -> str:
    """A new URL-safe secret with ``nbytes`` bytes of CSPRNG randomness (43 chars for 32 bytes)."""
    return secrets.token_urlsafe(nbytes)


class SecretHasher:
    """Keyed hashing of secrets with the deployment's pepper.

    The same input always gives the same digest, so a digest is also the lookup key.
    """

    def __init__(self, pepper: bytes) -> None:
        if len(pepper) < 32:
            raise ValueError("the pepper must be at least 32 bytes")
        self._pepper = pepper

    def digest(self, purpose: str, value: str) -> str:
        """The hex HMAC-SHA256 of ``value``, domain-separated by ``purpose``."""
        message = purpose.encode() + b"\x00" + value.encode()
        return hmac.new(self._pepper, message, hashlib.sha256).hexdigest()

    def matches(self, purpose: str, value: str, expected_digest: str) -> bool:
        """Constant-time check that ``value`` hashes to ``expected_digest``."""
        return hmac.compare_digest(self.digest(purpose, value), expected_digest)
