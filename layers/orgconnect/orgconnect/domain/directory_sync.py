"""The state of a connection's directory sync job (docs/sync.md): which sync runs, which chunk is
next, and where the listing stopped. Kept in one item (``DIRECTORY#{cnx}`` / ``SYNC``) so that a
redelivered or stale chunk message can tell, from one read, whether it still has work to do. Pure.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from msgspec import Struct, field


class SyncStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # revoked, needs_reauthorization, no such connection: a new sync may start


class SyncPhase(StrEnum):
    LISTING = "listing"  # pages of the provider's directory, kept per page under the sync id
    RECONCILE = "reconcile"  # the directory items and the profiles written, bounded per chunk


class SyncCursor(Struct, frozen=True):
    """Where the sync resumes: the phase, the provider listing's segment (Zoom: the status being
    listed, by index) and page token (None: the segment's first page), the pages listed, and
    the items of listed users kept so far."""

    phase: SyncPhase = SyncPhase.LISTING
    segment: int = 0
    page_token: str | None = None
    pages: int = 0
    parts: int = 0  # kept items of listed users (those beyond it, left by a lost attempt, are ignored)

    def to_dict(self) -> dict[str, Any]:
        """The cursor as stored and queued (JSON-friendly)."""
        body: dict[str, Any] = {
            "phase": str(self.phase),
            "segment": self.segment,
            "pages": self.pages,
            "parts": self.parts,
        }
        if self.page_token is not None:
            body["page_token"] = self.page_token
        return body

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> SyncCursor:
        """A cursor from :meth:`to_dict` (the first page when absent)."""
        if not data:
            return cls()
        token = data.get("page_token")
        return cls(
            SyncPhase(data.get("phase", SyncPhase.LISTING)),
            int(data.get("segment", 0)),
            str(token) if token else None,
            int(data.get("pages", 0)),
            int(data.get("parts", 0)),
        )


class SyncStats(Struct, frozen=True):
    """What a sync did so far (summed over its chunks; reported by the CLI and in the item)."""

    users_listed: int = 0
    api_calls: int = 0
    rate_limited: int = 0  # 429 answers seen (every one, those the client waited out too)
    directory_writes: int = 0
    profile_writes: int = 0
    matched: int = 0
    pending: int = 0
    unmatched: int = 0
    chunks: int = 0

    def to_dict(self) -> dict[str, int]:
        return {name: int(getattr(self, name)) for name in self.__struct_fields__}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> SyncStats:
        data = data or {}
        return cls(**{name: int(data.get(name, 0)) for name in cls.__struct_fields__})


class SyncState(Struct, frozen=True):
    """The ``SYNC`` item of a connection's directory."""

    connection_id: str
    sync_id: str
    status: SyncStatus
    seq: int  # the chunk whose message may run now; other chunk numbers are stale
    sent: int  # the highest chunk number whose message was queued
    cursor: SyncCursor = field(default_factory=SyncCursor)
    stats: SyncStats = field(default_factory=SyncStats)
    expires_at: int = 0  # a running sync that stopped progressing may be taken over after this
    reason: str | None = None  # why it failed

    def runnable(self, sync_id: str, seq: int) -> bool:
        """Whether the chunk message (``sync_id``, ``seq``) is the one to run now."""
        return self.sync_id == sync_id and self.status is SyncStatus.RUNNING and self.seq == seq
