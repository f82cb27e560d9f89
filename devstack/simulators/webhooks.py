"""Outgoing webhooks: where they go, how they are signed, and one synchronous delivery."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class WebhookConfig:
    """Where webhooks go and the secret they are signed with (``url`` None: not configured)."""

    url: str | None
    secret_token: str


@dataclass
class PendingWebhook:
    """A delivery queued inside a transaction, sent once the lock is released."""

    event: str
    url: str
    body: bytes
    headers: dict[str, str]


def hmac_sha256_hex(key: str, message: str | bytes) -> str:
    """Hex HMAC-SHA256 of ``message`` under ``key`` (webhook signatures and challenges)."""
    data = message.encode() if isinstance(message, str) else message
    return hmac.new(key.encode(), data, hashlib.sha256).hexdigest()


def post_webhook(
    url: str, body: bytes, headers: Mapping[str, str], timeout_seconds: float
) -> tuple[int | None, str | None, Any]:
    """POST ``body`` to ``url``: ``(status, error, response_json)``; never raises.

    ``status`` is None and ``error`` the exception's class name when the receiver is unreachable;
    ``response_json`` is None when the reply is not JSON.
    """
    try:
        reply = httpx.post(url, content=body, headers=dict(headers), timeout=timeout_seconds)
    except httpx.HTTPError as exc:
        return None, type(exc).__name__, None
    try:
        return reply.status_code, None, reply.json()
    except ValueError:
        return reply.status_code, None, None
