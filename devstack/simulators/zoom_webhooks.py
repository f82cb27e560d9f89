"""Zoom webhook envelopes and signatures (providers.md 1.8).

Every delivery is signed over the exact bytes sent:
``x-zm-signature: v0=hex(HMAC_SHA256(secret_token, "v0:{x-zm-request-timestamp}:{body}"))``.
``endpoint.url_validation`` expects ``{"plainToken", "encryptedToken"}`` back, where
``encryptedToken = hex(HMAC_SHA256(secret_token, plainToken))``.
"""

from __future__ import annotations

import hmac
from typing import Any

from devstack.simulators.common import hmac_sha256_hex
from devstack.simulators.zoom_model import compact_json


def envelope(event: str, payload: dict[str, Any], now: float) -> dict[str, Any]:
    """``{"event", "event_ts" (ms), "payload"}``."""
    return {"event": event, "event_ts": int(now * 1000), "payload": payload}


def sign(secret_token: str, timestamp: str, body: bytes) -> str:
    """The ``x-zm-signature`` value for ``body`` sent at ``timestamp``."""
    return "v0=" + hmac_sha256_hex(secret_token, b"v0:" + timestamp.encode() + b":" + body)


def signed_request(secret_token: str, event: dict[str, Any], now: float) -> tuple[bytes, dict[str, str]]:
    """The body bytes and headers of one delivery."""
    body = compact_json(event)
    timestamp = str(int(now))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Zoom Marketplace/1.1a",
        "x-zm-request-timestamp": timestamp,
        "x-zm-signature": sign(secret_token, timestamp, body),
    }
    return body, headers


def validation_ok(secret_token: str, plain_token: str, response_json: Any) -> bool:
    """Whether a receiver answered the ``endpoint.url_validation`` challenge correctly."""
    if not isinstance(response_json, dict) or response_json.get("plainToken") != plain_token:
        return False
    answer = response_json.get("encryptedToken")
    expected = hmac_sha256_hex(secret_token, plain_token)
    return isinstance(answer, str) and hmac.compare_digest(answer, expected)
