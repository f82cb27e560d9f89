"""``GET /v1/organizational_unit/provisioning_events`` (issue 11 item 3; docs/provisioning.md, "The
provisioning log"): the OU's provisioning events, newest first, in Cronofy-style pages
(``pages.current``, ``pages.total``, ``pages.next_page`` as a URL to GET), and its schemas.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from orgconnect.domain.provisioning_log import PAGE_SIZE, EventPage, EventResult, ProvisioningEvent

PROVISIONING_EVENTS_PATH = "/v1/organizational_unit/provisioning_events"
ACTIONS = ("create", "adopt", "update", "disable", "remove")


def _iso(epoch_seconds: int) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_body(event: ProvisioningEvent) -> dict[str, Any]:
    """One event as the API shows it (ids, never an email or a token)."""
    return {
        "id": event.event_id,
        "occurred_at": _iso(event.occurred_at),
        "connection_id": event.connection_id,
        "action": event.action,
        "account_id": event.account_id,
        "provider_user_id": event.provider_user_id,
        "result": str(event.result),
        "error": event.error,
    }


def events_body(page: EventPage, base_url: str) -> dict[str, Any]:
    """``{"pages": {"current", "total", "next_page"?}, "provisioning_events": [...]}``."""
    pages: dict[str, Any] = {"current": page.current, "total": page.total}
    if page.next_cursor is not None:
        pages["next_page"] = f"{base_url}{PROVISIONING_EVENTS_PATH}?{urlencode({'page': page.next_cursor})}"
    return {"pages": pages, "provisioning_events": [event_body(e) for e in page.events]}


_EVENT = {
    "type": "object",
    "required": [
        "id",
        "occurred_at",
        "connection_id",
        "action",
        "account_id",
        "provider_user_id",
        "result",
        "error",
    ],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": "^pev_[0-9a-f]{24}$"},
        "occurred_at": {"type": "string", "description": "ISO 8601 UTC"},
        "connection_id": {"type": "string"},
        "action": {"enum": list(ACTIONS)},
        "account_id": {"type": ["string", "null"], "description": "null for a user no account matches"},
        "provider_user_id": {"type": ["string", "null"], "description": "the Zoom user id"},
        "result": {"enum": [str(r) for r in EventResult]},
        "error": {"type": ["string", "null"], "description": "why it failed or was skipped"},
    },
}
EVENTS_ANSWER: dict[str, Any] = {
    "type": "object",
    "required": ["pages", "provisioning_events"],
    "properties": {
        "pages": {
            "type": "object",
            "required": ["current", "total"],
            "properties": {
                "current": {"type": "integer", "minimum": 1},
                "total": {"type": "integer", "minimum": 1},
                "next_page": {
                    "type": "string",
                    "description": "GET it for the next page; absent on the last",
                },
            },
        },
        "provisioning_events": {
            "type": "array",
            "maxItems": PAGE_SIZE,
            "description": "Newest first; kept 90 days",
            "items": _EVENT,
        },
    },
}
