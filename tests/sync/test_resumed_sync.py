"""A sync that fails part way resumes at its saved cursor (docs/sync.md): the pages listed before
the failure are not listed again. The job runs in-process here (as ``orgconnect sync`` runs it),
10 users a page and 2 pages a chunk, against the Zoom simulator with an injected outage."""

from __future__ import annotations

from typing import Any

import pytest

from orgconnect.domain.directory_sync import SyncStatus
from orgconnect.domain.provider_model import ProviderUnavailable
from tests.sync.conftest import LinkedZoom, wait_synced


def listing_requests(linked: LinkedZoom) -> list[dict[str, Any]]:
    return [r for r in linked.zoom.requests() if r.get("method") == "GET" and r.get("path") == "/v2/users"]


def test_a_sync_that_fails_on_a_page_resumes_from_its_cursor(
    linked: LinkedZoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orgconnect import sync_runtime
    from orgconnect.providers import zoom_conferencing
    from orgconnect.workers.connection_sync import SyncLimits

    wait_synced(linked.flow, linked.connection_id)  # the link's (or the schedule's) sync ended
    job = sync_runtime.connection_sync_job(limits_=SyncLimits(pages_per_chunk=2))
    monkeypatch.setattr(zoom_conferencing, "PAGE_SIZE", "10")  # several pages of the demo's users
    first = job.start(linked.connection_id)
    assert first is not None
    linked.zoom.clear_requests()
    chunk = job.run_chunk(first)
    assert chunk.outcome == "continued" and chunk.next_message is not None
    saved = chunk.state
    assert saved is not None and saved.cursor.pages == 2 and saved.cursor.page_token
    # Zoom fails on page 3 (every retry of it): the chunk raises, its cursor stays saved.
    linked.zoom.add_fault("api", "503", count=10)
    with pytest.raises(ProviderUnavailable):
        job.run_chunk(chunk.next_message)
    linked.zoom.clear_faults()
    before_resume = listing_requests(linked)  # 2 pages, then every attempt at page 3
    assert [r["status"] for r in before_resume[:2]] == [200, 200]
    assert {r["status"] for r in before_resume[2:]} == {503}
    state = job.directory.state(linked.connection_id)
    assert state is not None and state.cursor == saved.cursor and state.status is SyncStatus.RUNNING
    linked.zoom.clear_requests()

    # The redelivered chunk resumes at page 3: its first request carries the saved page token.
    from orgconnect.workers.connection_sync_driver import resume_in_process

    run = resume_in_process(job, chunk.next_message)
    assert run.done
    resumed = listing_requests(linked)
    assert resumed[0]["params"]["status"] == "active"
    assert resumed[0]["params"]["next_page_token"] == saved.cursor.page_token
    # The first page of the status listed when it failed is not asked for again.
    assert not [
        r for r in resumed if r["params"]["status"] == "active" and "next_page_token" not in r["params"]
    ]
    stats = run.state.stats
    # Requests in all (the client's own rate stats): the pages before, each attempt at the failed
    # page, then the rest; none refused with a 429.
    assert stats.api_calls == len(before_resume) + len(resumed) and stats.rate_limited == 0
    assert all(r["status"] == 200 for r in resumed)
    assert stats.users_listed == wait_synced(linked.flow, linked.connection_id)["users"]
