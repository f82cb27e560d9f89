"""Authenticated encryption of credentials that must rest briefly in DynamoDB (anchors E1).

Provider tokens obtained during a flow wait in the authorization request until the
administrator approves; only then do they move to Secrets Manager. Until then they are sealed
with AES-256-GCM (96-bit random nonce per message, associated data binding the ciphertext to its
item) under a rotatable keyring: new seals use the current key, old ones open with theirs.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping

VERSION = "v1"
NONCE_BYTES = 12


class SealingError(Exception):
    """A sealed value could not be opened (tampered, wrong item, or unknown key)."""


def key_from_material(material: str) -> bytes:
    """A 256-bit key from secret material (a generated string from Secrets Manager)."""
    if len(material) < 32:
        raise ValueError("key material must be at least 32 characters")
    return hashlib.sha256(material.encode()).digest()


class Sealer:
    """Seal and open values with a keyring ``{key id: 32-byte key}``."""

    def __init__(self, keys: Mapping[str, bytes], current: str) -> None:
        if current not in keys:
            raise ValueError(f"current key {current!r} is not in the keyring")
        if any(len(k) != 32 for k in keys.values()):
            raise ValueError("keys must be 32 bytes (AES-256)")
        if any("." in kid for kid in keys):
            raise ValueError("key ids cannot contain '.'")
        self._keys = dict(keys)
        self._current = current

    def seal(self, plaintext: bytes, *, associated_data: bytes) -> str:
        """``v1.{key id}.{base64(nonce || ciphertext+tag)}``."""
        nonce = os.urandom(NONCE_BYTES)
        # cryptography loads only where sealing happens (the flow's other steps never pay for it).
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        sealed = AESGCM(self._keys[self._current]).encrypt(nonce, plaintext, associated_data)
        return f"{VERSION}.{self._current}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, token: str, *, associated_data: bytes) -> bytes:
        """The plaintext of ``token``; raises SealingError if it was not sealed for this data."""
        try:
            version, kid, payload = token.split(".", 2)
            raw = base64.urlsafe_b64decode(payload.encode())
        except ValueError:
            raise SealingError("malformed sealed value") from None
        if version != VERSION or kid not in self._keys or len(raw) <= NONCE_BYTES:
            raise SealingError("unknown format or key")
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            return AESGCM(self._keys[kid]).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated_data)
        except InvalidTag:
            raise SealingError("authentication failed") from None
