"""A sync that fails part way resumes at its saved cursor (docs/sync.md): the pages listed before
the failure are not listed again. The job runs in-process here (as ``orgconnect sync`` runs it),
10 users a page and 2 pages a chunk, against the Zoom simulator with an injected outage."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from orgconnect.domain.directory_sync import SyncStatus
from orgconnect.domain.provider_model import ProviderUnavailable
from tests.sync.conftest import LinkedZoom, wait_synced


def listing_requests(linked: LinkedZoom) -> list[dict[str, Any]]:
    return [r for r in linked.zoom.requests() if r.get("method") == "GET" and r.get("path") == "/v2/users"]


def test_a_sync_that_fails_on_a_page_resumes_from_its_cursor(linked: LinkedZoom) -> None:
    from orgconnect import sync_runtime
    from orgconnect.providers.directory_pages import listing_pages
    from orgconnect.workers.connection_sync import SyncLimits

    wait_synced(linked.flow, linked.connection_id)  # the link's (or the schedule's) sync ended
    job = sync_runtime.connection_sync_job(limits_=SyncLimits(pages_per_chunk=2))
    job.pages = partial(listing_pages, page_size=10)
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
    # Calls in all: 2 pages, the failed page (counted once whatever its retries), then the rest.
    assert len(resumed) == stats.api_calls - 3 and all(r["status"] == 200 for r in resumed)
    assert stats.users_listed == wait_synced(linked.flow, linked.connection_id)["users"]
