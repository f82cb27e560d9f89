"""Who runs a connection sync's chunks (docs/sync.md): the queue (one chunk per message, the next
message queued by the chunk before it), the operator CLI and a first match (every chunk here, in
this process), and the schedule (one new-sync message per linked connection).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from msgspec import Struct

from orgconnect.domain.directory_sync import SyncState, SyncStatus
from orgconnect.observability import logger
from orgconnect.workers.connection_sync import ChunkResult, ConnectionSyncJob, SyncMessage

#: Chunks one in-process run may take (a 100,000-user Zoom account is ~20 listing chunks).
MAX_IN_PROCESS_CHUNKS = 10_000


class SyncQueue(Protocol):
    """``orgconnect.store.connection_sync.SqsConnectionSyncQueue``."""

    def send(self, message: Mapping[str, Any]) -> None: ...

    def send_many(self, messages: list[Mapping[str, Any]]) -> None: ...


class SyncBusy(Exception):
    """Another sync of the connection is running (it holds the SYNC item's lease)."""


def handle_message(job: ConnectionSyncJob, queue: SyncQueue, message: SyncMessage) -> str:
    """One queue message: start a sync, or run one chunk and queue the next. Raises when the chunk
    or the send fails, so the message is redelivered (and resumes at the saved cursor)."""
    if message.sync_id is None:
        first = job.start(message.connection_id)
        if first is None:
            # A sync runs already; if its first send was lost, this redelivery sends it.
            lost = job.unsent(message.connection_id)
            if lost is None:
                return "already_running"
            first = lost
        _send(job, queue, first)
        return "started"
    result = job.run_chunk(message)
    if result.next_message is not None:
        _send(job, queue, result.next_message)
    _log(result, message)
    return result.outcome


def _send(job: ConnectionSyncJob, queue: SyncQueue, message: SyncMessage) -> None:
    queue.send(message.to_message())
    job.sent(message)


def _log(result: ChunkResult, message: SyncMessage) -> None:
    state = result.state
    logger.info(
        "connection sync chunk",
        extra={
            "connection_id": message.connection_id,
            "sync_id": message.sync_id,
            "seq": message.seq,
            "outcome": result.outcome,
            "phase": str(state.cursor.phase) if state else None,
            "pages": state.cursor.pages if state else None,
        },
    )


class InProcessRun(Struct, frozen=True):
    """An in-process sync's end state and how many chunks it took."""

    state: SyncState
    chunks: int

    @property
    def done(self) -> bool:
        return self.state.status is SyncStatus.DONE


def run_in_process(
    job: ConnectionSyncJob, connection_id: str, *, before_chunk: Callable[[SyncMessage], None] | None = None
) -> InProcessRun:
    """Start a sync of the connection and run every chunk here; SyncBusy when one runs already.
    A provider outage raises and leaves the sync resumable (its cursor is saved)."""
    message = job.start(connection_id)
    if message is None:
        raise SyncBusy(connection_id)
    return resume_in_process(job, message, before_chunk=before_chunk)


def resume_in_process(
    job: ConnectionSyncJob, message: SyncMessage, *, before_chunk: Callable[[SyncMessage], None] | None = None
) -> InProcessRun:
    """Run ``message``'s chunk and every later one here (a chunk that raised may be resumed)."""
    for chunk in range(1, MAX_IN_PROCESS_CHUNKS + 1):
        if before_chunk is not None:
            before_chunk(message)
        result = job.run_chunk(message)
        if result.next_message is None or result.outcome != "continued":
            if result.state is None:
                raise SyncBusy(message.connection_id)
            return InProcessRun(result.state, chunk)
        message = result.next_message
    raise RuntimeError(f"sync of {message.connection_id} did not end within {MAX_IN_PROCESS_CHUNKS} chunks")


def fan_out(connection_ids: list[str], queue: SyncQueue) -> int:
    """The scheduled reconcile: one new-sync message per linked connection; how many were queued."""
    messages: list[Mapping[str, Any]] = [SyncMessage(c).to_message() for c in dict.fromkeys(connection_ids)]
    queue.send_many(messages)
    logger.info("connection syncs scheduled", extra={"connections": len(messages)})
    return len(messages)
