"""Provider webhooks: Zoom's request signature, its URL-validation challenge, and event parsing.

Zoom signs every delivery (providers.md 1.8)::

    x-zm-signature = "v0=" + hex(HMAC_SHA256(secret_token, "v0:{x-zm-request-timestamp}:{raw body}"))

The timestamp is epoch seconds; a request whose timestamp is further than
:data:`TIMESTAMP_TOLERANCE_SECONDS` from our clock is refused, which bounds how long a captured
request can be replayed (and every effect of an event is idempotent within that window).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

from msgspec import Struct, field

# Five minutes either way: Zoom delivers within seconds; the window only absorbs clock skew.
TIMESTAMP_TOLERANCE_SECONDS = 300
SIGNATURE_VERSION = "v0"
URL_VALIDATION = "endpoint.url_validation"
APP_DEAUTHORIZED = "app_deauthorized"
# The user events Zoom sends for directory changes (the simulator also sends the last two).
USER_EVENTS = frozenset(
    {
        "user.created",
        "user.updated",
        "user.deactivated",
        "user.activated",
        "user.deleted",
        "user.disassociated",
        "user.invitation_accepted",
    }
)
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_MAX_PLAIN_TOKEN = 256


class WebhookRefused(Exception):
    """The request is not a genuine, fresh delivery (the reason is for the log, never the caller)."""


class MalformedEvent(Exception):
    """A correctly signed body that is not an event we can read."""


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    """Hex HMAC-SHA256 of ``message`` keyed with ``secret`` (UTF-8)."""
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def zoom_signature(secret_token: str, timestamp: str, body: bytes) -> str:
    """The ``x-zm-signature`` Zoom sends for ``body`` at ``timestamp``."""
    message = f"{SIGNATURE_VERSION}:{timestamp}:".encode() + body
    return f"{SIGNATURE_VERSION}=" + hmac_sha256_hex(secret_token, message)


def verify_zoom_request(
    *,
    secret_token: str | None,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: int,
    tolerance_seconds: int = TIMESTAMP_TOLERANCE_SECONDS,
) -> None:
    """Accept a genuine, fresh Zoom delivery; raise :class:`WebhookRefused` otherwise.

    No secret configured refuses everything: an unsigned event is never accepted.
    """
    if not secret_token:
        raise WebhookRefused("no Zoom webhook secret token is configured")
    if not timestamp or not signature:
        raise WebhookRefused("the signature or timestamp header is missing")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise WebhookRefused("the timestamp header is not epoch seconds")
    if abs(now - int(timestamp)) > tolerance_seconds:
        raise WebhookRefused("the timestamp is outside the accepted window")
    expected = zoom_signature(secret_token, timestamp, body).encode()
    if not hmac.compare_digest(expected, signature.encode("utf-8", "replace")):
        raise WebhookRefused("the signature does not match")


class ZoomEvent(Struct, frozen=True):
    """A verified Zoom event: its name, when it happened (``event_ts``, ms) and its payload."""

    name: str
    event_ts_ms: int | None
    payload: Mapping[str, Any] = field(default_factory=dict)

    @property
    def account_id(self) -> str | None:
        """The Zoom account the event is about (every event but the URL challenge has one)."""
        value = self.payload.get("account_id")
        return value if isinstance(value, str) and value else None

    def happened_at(self, default: int) -> int:
        """``event_ts`` in epoch seconds; ``default`` when Zoom sent none."""
        return self.event_ts_ms // 1000 if self.event_ts_ms is not None else default


def parse_zoom_event(body: bytes) -> ZoomEvent:
    """Read a verified body: ``{"event": str, "event_ts": ms?, "payload": {...}}``."""
    try:
        data = json.loads(body)
    except ValueError as error:
        raise MalformedEvent("the body is not JSON") from error
    if not isinstance(data, dict) or not isinstance(data.get("event"), str) or not data["event"]:
        raise MalformedEvent("the body has no event name")
    payload = data.get("payload", {})
    if not isinstance(payload, dict):
        raise MalformedEvent("the payload is not an object")
    event_ts = data.get("event_ts")
    if isinstance(event_ts, bool) or not isinstance(event_ts, int):
        event_ts = None
    return ZoomEvent(data["event"], event_ts, payload)


def url_validation_answer(secret_token: str, event: ZoomEvent) -> dict[str, str]:
    """Zoom's challenge: ``{"plainToken", "encryptedToken": hex HMAC-SHA256(secret, plainToken)}``."""
    plain = event.payload.get("plainToken")
    if not isinstance(plain, str) or not plain or len(plain) > _MAX_PLAIN_TOKEN:
        raise MalformedEvent("the challenge has no plainToken")
    return {"plainToken": plain, "encryptedToken": hmac_sha256_hex(secret_token, plain.encode())}
