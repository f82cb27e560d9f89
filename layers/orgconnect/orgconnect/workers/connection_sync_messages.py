"""A connection sync's queue messages and chunk results (docs/sync.md); the job is
:mod:`orgconnect.workers.connection_sync`."""

from __future__ import annotations

from typing import Any

from msgspec import Struct

from orgconnect.domain.directory_sync import SyncCursor, SyncState

SYNC_KIND = "sync"


class SyncMessage(Struct, frozen=True):
    """One queue message: a new sync (``sync_id`` None) or chunk ``seq`` of sync ``sync_id``."""

    connection_id: str
    sync_id: str | None = None
    seq: int = 0
    cursor: SyncCursor | None = None

    def to_message(self) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": SYNC_KIND, "connection_id": self.connection_id}
        if self.sync_id is not None:
            body.update(sync_id=self.sync_id, seq=self.seq)
        if self.cursor is not None:
            body["cursor"] = self.cursor.to_dict()  # for operators: the SYNC item's cursor decides
        return body

    @classmethod
    def from_message(cls, body: Any) -> SyncMessage:
        """The message, or ValueError/KeyError/TypeError when it is not one."""
        if not isinstance(body, dict) or body.get("kind") != SYNC_KIND:
            raise ValueError("not a sync message")
        connection_id = body["connection_id"]
        sync_id = body.get("sync_id")
        if not isinstance(connection_id, str) or not connection_id.startswith("cnx_"):
            raise ValueError("connection_id")
        if sync_id is not None and not isinstance(sync_id, str):
            raise TypeError("sync_id")
        return cls(connection_id, sync_id, int(body.get("seq", 0)))


class ChunkResult(Struct, frozen=True):
    """What one chunk did: ``outcome`` (continued, done, failed, stale, resend) and the message
    to queue next (the next chunk, or the one a lost send left unqueued)."""

    outcome: str
    state: SyncState | None = None
    next_message: SyncMessage | None = None
    reason: str | None = None
