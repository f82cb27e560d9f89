"""At-least-once delivery of sync messages (docs/sync.md): a redelivered chunk whose successor was
queued does nothing; one whose successor's send was lost sends it again; a new-sync message
redelivered after its first chunk's send was lost sends that chunk. The real SYNC item, moto."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.workers.connection_sync import SyncMessage
from tests.sync.conftest import LinkedZoom, wait_synced


class Queue:
    """Records sent messages; ``fail`` refuses the next sends."""

    def __init__(self) -> None:
        self.sent: list[SyncMessage] = []
        self.fail = 0

    def send(self, message: Mapping[str, Any]) -> None:
        self.send_many([message])

    def send_many(self, messages: list[Mapping[str, Any]]) -> None:
        if self.fail:
            self.fail -= 1
            raise TemporarilyUnavailable("SendMessageBatch: refused")
        self.sent += [SyncMessage.from_message(dict(m)) for m in messages]


def test_redelivered_chunks_resend_what_was_lost_and_nothing_twice(linked: LinkedZoom) -> None:
    from orgconnect import sync_runtime
    from orgconnect.workers.connection_sync import SyncLimits
    from orgconnect.workers.connection_sync_driver import handle_message

    wait_synced(linked.flow, linked.connection_id)
    job = sync_runtime.connection_sync_job(limits_=SyncLimits(pages_per_chunk=1))
    queue = Queue()
    new = SyncMessage(linked.connection_id)

    queue.fail = 1  # the first chunk's message is lost
    with pytest.raises(TemporarilyUnavailable):
        handle_message(job, queue, new)
    assert handle_message(job, queue, new) == "started"  # the redelivery sends it
    (first,) = queue.sent
    assert first.seq == 0 and first.sync_id is not None
    assert handle_message(job, queue, new) == "already_running"  # and never twice

    queue.fail = 1  # chunk 0 ran (page 1 kept, moved to chunk 1) but chunk 1's message is lost
    with pytest.raises(TemporarilyUnavailable):
        handle_message(job, queue, first)
    assert handle_message(job, queue, first) == "resend"
    assert [m.seq for m in queue.sent] == [0, 1]
    assert handle_message(job, queue, first) == "stale"  # sent now: a third delivery does nothing
    assert [m.seq for m in queue.sent] == [0, 1]

    outcome = ""
    while outcome != "done":
        outcome = handle_message(job, queue, queue.sent[-1])
        assert outcome in {"continued", "done"}
    assert handle_message(job, queue, queue.sent[-1]) == "stale"  # a redelivery after the end
    done = wait_synced(linked.flow, linked.connection_id)
    assert done["sync_id"] == first.sync_id and done["stats"]["chunks"] == len(queue.sent)
