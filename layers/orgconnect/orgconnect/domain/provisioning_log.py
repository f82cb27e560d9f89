"""The provisioning log (issue 11 item 3): every action orgconnect took, or skipped, at Zoom, kept
90 days under the Organizational Unit and read newest first (``GET
/v1/organizational_unit/provisioning_events``). Pure: the event, its result, the page cursor.

An event holds ids, never an email or a token: a user erased with ``request_pii_erasure`` leaves
no address behind in the log.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from enum import StrEnum
from typing import Protocol

from msgspec import Struct

from orgconnect.domain.errors import InvalidRequest

RETENTION_SECONDS = 90 * 24 * 3600
PAGE_SIZE = 50
MAX_ERROR_LENGTH = 300
_SORT_KEY = re.compile(r"^EVENT#\d{11}#pev_[A-Za-z0-9_-]{1,64}\Z")


class EventResult(StrEnum):
    """How an action ended."""

    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


class ProvisioningEvent(Struct, frozen=True):
    """One action at Zoom as the log keeps it."""

    event_id: str  # pev_…
    ou_id: str
    connection_id: str
    occurred_at: int  # epoch seconds
    action: str  # create, adopt, update, disable, remove
    account_id: str | None
    provider_user_id: str | None
    result: EventResult
    error: str | None = None

    @property
    def expires_at(self) -> int:
        """When the log forgets it (the table's TTL; reads check it too)."""
        return self.occurred_at + RETENTION_SECONDS


class EventPage(Struct, frozen=True):
    """One page, newest first, and the cursor of the next one (None: the last page)."""

    events: list[ProvisioningEvent]
    current: int
    total: int
    next_cursor: str | None


class ProvisioningEventLog(Protocol):
    """The log's storage (store/provisioning_events.py)."""

    def record(self, event: ProvisioningEvent) -> None:
        """Keep ``event`` (one PutItem)."""
        ...

    def page(self, ou_id: str, *, cursor: PageCursor | None, now: int) -> EventPage:
        """The OU's live events, newest first, from ``cursor`` (None: the first page)."""
        ...

    def created_user_ids(self, ou_id: str, connection_id: str, *, now: int) -> frozenset[str]:
        """Zoom users orgconnect created through the connection (``create`` ``ok`` events still
        kept: 90 days), for ``deprovision_on_policy_removal``."""
        ...


class PageCursor(Struct, frozen=True):
    """Where the next page starts: after the event with sort key ``after``; it is page ``page``."""

    after: str
    page: int

    def encode(self) -> str:
        """Opaque and URL-safe."""
        raw = json.dumps({"a": self.after, "p": self.page}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str) -> PageCursor:
    """The cursor of a ``next_page`` link, or InvalidRequest (``page``) for anything else."""
    invalid = InvalidRequest.single("page", "errors.invalid", "page is not a page of this list")
    if not value or len(value) > 400:
        raise invalid
    try:
        data = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid from None
    if not isinstance(data, dict) or set(data) != {"a", "p"}:
        raise invalid
    after, page = data["a"], data["p"]
    if not isinstance(after, str) or not _SORT_KEY.fullmatch(after):
        raise invalid
    if not isinstance(page, int) or isinstance(page, bool) or not 2 <= page <= 1_000_000:
        raise invalid
    return PageCursor(after, page)


def sort_key(occurred_at: int, event_id: str) -> str:
    """Events sort by time, then id (the store reads them backwards: newest first)."""
    return f"EVENT#{occurred_at:011d}#{event_id}"


def short_error(text: str) -> str:
    """An error for the log: one line, bounded."""
    line = " ".join(text.split())
    return line if len(line) <= MAX_ERROR_LENGTH else line[: MAX_ERROR_LENGTH - 1] + "…"
