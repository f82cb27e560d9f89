"""The Zoom directory listed through the real adapter and rate limiter against the Zoom simulator
(served on 127.0.0.1, a free port) enforcing its per-second quotas. Simulator and client share one
fake clock that moves only when the client sleeps, so the quotas bite without any real waiting:

- paced at the account's plan, the listing meets no 429 at all;
- told a higher plan than the account has, the client meets Zoom's 429, waits its Retry-After,
  learns the real limit from X-RateLimit-Limit and finishes: zero 429s left unhandled;
- either way, the fewest list calls: ⌈N/300⌉ per status, page_size=300 with next_page_token;
- a page-wise listing (list_page) resumes from a cursor, and an expired cursor says so;
- a daily limit of one user (Zoom's 100 meeting creates a day) fails that call at once with a
  clear error, and the account's listing goes on.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from devstack.servers import RunningServer
from devstack.simulators.zoom import ZoomSimulator
from devstack.simulators.zoom_model import Plan
from orgconnect.domain.conferencing import DirectoryUser, MeetingRequest, UserStatus
from orgconnect.domain.model import ProviderApp
from orgconnect.providers.api import close_pooled_clients
from orgconnect.providers.rate_limit import RateLimitExhausted
from orgconnect.providers.zoom import ZoomApi
from orgconnect.providers.zoom_conferencing import LISTED_STATUSES, ListingCursorExpired, ZoomConferencing
from tests.sleeping_clock import SleepingClock
from tests.wsgi_slot import Slot, slot_server

START = 1_700_000_000.5
USERS = 10_000


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[RunningServer, Slot]]:
    with slot_server("rate-limited-listing") as served:
        yield served


@pytest.fixture(autouse=True)
def _fresh_pool() -> Iterator[None]:
    yield
    close_pooled_clients()


def listing(
    served: tuple[RunningServer, Slot], *, account_plan: Plan, client_plan: str | None
) -> tuple[ZoomSimulator, SleepingClock, ZoomConferencing]:
    server, slot = served
    clock = SleepingClock(START)
    sim = ZoomSimulator(clock=clock, plan=account_plan, zoom_users=USERS)
    slot.app = sim
    info = sim.dev_info(server.url)
    api = ZoomApi(
        ProviderApp(info["client_id"], info["client_secret"]),
        base_url=server.url,
        sleep=clock.sleep,
        clock=clock,
        rate_plan=client_plan,
    )
    api.account_credentials(info["account_id"])
    sim.clear_requests()
    return sim, clock, ZoomConferencing(api)


def expected_list_calls(sim: ZoomSimulator) -> tuple[int, int]:
    """(⌈N/300⌉ summed per status, ⌈M/300⌉ + one per extra status) for the paid account."""
    paid = [u for u in sim.list_users() if u["account_plan"] != "free"]
    per_status = [sum(1 for u in paid if u["status"] == s) for s in LISTED_STATUSES]
    exact = sum(max(1, math.ceil(n / 300)) for n in per_status)
    return exact, math.ceil(len(paid) / 300) + len(LISTED_STATUSES) - 1


def user_list_requests(sim: ZoomSimulator) -> list[dict[str, Any]]:
    return [r for r in sim.requests() if r["method"] == "GET" and r["path"] == "/v2/users"]


def test_paced_at_the_accounts_plan_the_listing_meets_no_429(served: tuple[RunningServer, Slot]) -> None:
    sim, clock, zoom = listing(served, account_plan="pro", client_plan="pro")
    users = list(zoom.list_users())
    exact, goal = expected_list_calls(sim)
    assert len(users) == USERS
    assert zoom.calls["list"] == exact <= goal
    assert zoom.api.rate_stats.rate_limited == 0
    assert zoom.api.rate_stats.requests_by_category == {"Medium": exact}
    assert exact == len(user_list_requests(sim))
    assert all(r["status"] == 200 and r["params"]["page_size"] == "300" for r in user_list_requests(sim))
    params = [r["params"] for r in user_list_requests(sim)]
    assert not any("page_number" in p for p in params)  # the cursor, never page numbers
    first_pages = [p["status"] for p in params if "next_page_token" not in p]
    assert first_pages == list(LISTED_STATUSES)  # one listing per status, each started once
    # Paced, not throttled by the server: 20 Medium calls a second (1.05 s windows) on Pro.
    assert clock.now - START <= math.ceil(exact / 20) * 1.05


def test_a_client_assuming_a_higher_plan_waits_out_zooms_429_and_learns_the_limit(
    served: tuple[RunningServer, Slot],
) -> None:
    sim, _, zoom = listing(served, account_plan="pro", client_plan="business")
    users = list(zoom.list_users())  # no exception: every 429 was handled
    exact, _ = expected_list_calls(sim)
    stats = zoom.api.rate_stats
    refused = [r for r in user_list_requests(sim) if r["status"] == 429]
    assert len(users) == USERS and zoom.calls["list"] == exact
    assert stats.rate_limited == len(refused) == 1  # one 429 taught the client Pro's 20 a second
    assert stats.requests_by_category["Medium"] == exact + 1 == len(user_list_requests(sim))
    quota = zoom.api.rate_limiter.limits("Medium").quota
    assert quota is not None and quota.limit == 20


def test_the_listing_resumes_page_by_page_from_a_cursor(served: tuple[RunningServer, Slot]) -> None:
    sim, clock, zoom = listing(served, account_plan="business", client_plan="business")
    first, token = zoom.list_page("active")
    assert len(first) == 300 and token is not None
    resumed = ZoomConferencing(zoom.api)  # a later chunk: a new adapter, the cursor it was handed
    rest: list[str] = []
    while token is not None:
        page, token = resumed.list_page("active", token)
        rest.extend(u.provider_user_id for u in page)
    active = {u["id"] for u in sim.list_users() if u["account_plan"] != "free" and u["status"] == "active"}
    assert {u.provider_user_id for u in first} | set(rest) == active
    assert len(first) + len(rest) == len(active)
    _, stale = zoom.list_page("active")
    clock.now += 16 * 60  # Zoom's next_page_token lives 15 minutes
    with pytest.raises(ListingCursorExpired):
        zoom.list_page("active", stale)
    with pytest.raises(ValueError, match="suspended"):
        zoom.list_page("suspended")


def test_a_users_daily_meeting_limit_fails_that_call_and_the_listing_goes_on(
    served: tuple[RunningServer, Slot],
) -> None:
    sim, clock, zoom = listing(served, account_plan="business", client_plan="business")
    host = next(u for u in sim.list_users() if u["status"] == "active" and u["account_plan"] != "free")
    user = DirectoryUser(host["id"], host["email"], host["email"], UserStatus.ACTIVE)
    request = MeetingRequest(
        "Interview", datetime(2023, 11, 20, 15, tzinfo=UTC), datetime(2023, 11, 20, 16, tzinfo=UTC), "UTC"
    )
    for _ in range(100):
        zoom.create_meeting(user, request)
    slept = len(clock.sleeps)
    with pytest.raises(RateLimitExhausted) as raised:
        zoom.create_meeting(user, request)
    assert raised.value.description.startswith("Zoom: the daily limit of this call (Medium) of 100 requests")
    assert raised.value.retry_after is not None and raised.value.retry_after > 0
    assert len(clock.sleeps) == slept  # no sleeping until midnight, no retry
    creates = [r for r in sim.requests() if r["method"] == "POST"]
    assert [r["status"] for r in creates[-2:]] == [201, 429] and len(creates) == 101
    assert len(list(zoom.list_users())) == USERS  # the account's Medium quota is not stopped
