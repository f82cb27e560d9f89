"""The Zoom conferencing adapter against the Zoom simulator served on 127.0.0.1 (a free port), with
a Server-to-Server token of the paid account: the directory listed per status in pages of 300
(exact list calls, checked against the simulator's request log too), lookup hit and miss in one
call, a meeting whose join_url the simulator serves back, and Zoom's refusals as MeetingRefused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from devstack.servers import RunningServer
from devstack.simulators.zoom import ZoomSimulator
from orgconnect.domain.conferencing import (
    DirectoryUser,
    MeetingRefused,
    MeetingRequest,
    RefusalReason,
    UserStatus,
)
from orgconnect.domain.model import ProviderApp
from orgconnect.providers.api import close_pooled_clients
from orgconnect.providers.retry import RetryPolicy
from orgconnect.providers.zoom import ZoomApi
from orgconnect.providers.zoom_conferencing import ZoomConferencing
from tests.wsgi_slot import Slot, slot_server

CLOCK_START = 1_700_000_000.0
REQUEST = MeetingRequest(
    "Interview",
    datetime(2023, 11, 20, 15, tzinfo=UTC),
    datetime(2023, 11, 20, 15, 45, tzinfo=UTC),
    "Europe/London",
)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[RunningServer, Slot]]:
    with slot_server("conferencing-zoom") as served:
        yield served


def zoom_adapter(
    served: tuple[RunningServer, Slot], sleeps: list[float] | None = None, **options: Any
) -> tuple[ZoomSimulator, ZoomConferencing]:
    server, slot = served
    sim = ZoomSimulator(clock=lambda: CLOCK_START, **options)
    slot.app = sim
    info = sim.dev_info(server.url)
    api = ZoomApi(
        ProviderApp(info["client_id"], info["client_secret"]),
        base_url=server.url,
        retry_policy=RetryPolicy(attempts=3),
        sleep=(sleeps if sleeps is not None else []).append,
        clock=lambda: CLOCK_START,
    )
    api.account_credentials(info["account_id"])  # the S2S token acts as the account owner
    return sim, ZoomConferencing(api)


@pytest.fixture(autouse=True)
def _fresh_pool() -> Iterator[None]:
    yield
    close_pooled_clients()


def paid_users(sim: ZoomSimulator) -> list[dict[str, Any]]:
    """The users of the account the S2S token belongs to (not the Free account's)."""
    return [u for u in sim.list_users() if u["account_plan"] != "free"]


def listed_user_calls(sim: ZoomSimulator) -> list[dict[str, Any]]:
    return [r for r in sim.requests() if r["method"] == "GET" and r["path"] == "/v2/users"]


def test_650_users_are_listed_in_three_calls_per_status_and_normalized(
    served: tuple[RunningServer, Slot],
) -> None:
    sim, zoom = zoom_adapter(served, zoom_users=650)
    sim.clear_requests()
    users = list(zoom.list_users())
    by_status = {
        s: [u for u in paid_users(sim) if u["status"] == s] for s in ("active", "pending", "inactive")
    }
    assert len(by_status["active"]) > 600  # 650 in all: three pages of active users
    expected_calls = sum(max(1, -(-len(listed) // 300)) for listed in by_status.values())
    assert zoom.calls["list"] == expected_calls == len(listed_user_calls(sim))
    assert all(r["params"]["page_size"] == "300" for r in listed_user_calls(sim))
    for status, listed in by_status.items():
        got = {u.provider_user_id: u for u in users if u.status == UserStatus(status)}
        assert set(got) == {u["id"] for u in listed}
        assert {u.email for u in got.values()} == {u["email"].lower() for u in listed}
    assert len(users) == len({u.provider_user_id for u in users}) == len(paid_users(sim))


def test_list_only_the_statuses_asked_for(served: tuple[RunningServer, Slot]) -> None:
    sim, _ = zoom_adapter(served, zoom_users=650)
    zoom = ZoomConferencing(_api_of(served, sim), statuses=("active", "pending"))
    users = list(zoom.list_users())
    assert {u.status for u in users} == {UserStatus.ACTIVE, UserStatus.PENDING}
    assert zoom.calls["list"] == 3 + 1
    with pytest.raises(ValueError, match="suspended"):
        ZoomConferencing(zoom.api, statuses=("suspended",))


def _api_of(served: tuple[RunningServer, Slot], sim: ZoomSimulator) -> ZoomApi:
    info = sim.dev_info(served[0].url)
    api = ZoomApi(ProviderApp(info["client_id"], info["client_secret"]), base_url=served[0].url)
    api.account_credentials(info["account_id"])
    return api


def test_lookup_hit_and_miss_take_one_call_each(served: tuple[RunningServer, Slot]) -> None:
    sim, zoom = zoom_adapter(served)
    pending = next(u for u in sim.list_users() if u["status"] == "pending")
    found = zoom.lookup_user(pending["email"].upper())
    assert found is not None
    assert (found.provider_user_id, found.email, found.status) == (
        pending["id"],
        pending["email"].lower(),
        UserStatus.PENDING,
    )
    assert zoom.lookup_user("nobody@example.com") is None
    assert zoom.calls["lookup"] == 2
    assert zoom.calls["list"] == 0


def test_meeting_for_a_matched_user_has_a_join_url_zoom_serves(served: tuple[RunningServer, Slot]) -> None:
    _, zoom = zoom_adapter(served)
    host = next(u for u in zoom.list_users() if u.status is UserStatus.ACTIVE)
    meeting = zoom.create_meeting(host, REQUEST)
    stored = zoom.api.get(f"/v2/meetings/{meeting.meeting_id}")
    assert stored["join_url"] == meeting.join_url
    assert stored["host_id"] == host.provider_user_id
    assert stored["duration"] == 45 and stored["start_time"] == "2023-11-20T15:00:00Z"
    assert meeting.password == stored["password"]
    page = httpx.get(meeting.join_url, timeout=5)
    assert page.status_code == 200
    assert zoom.calls["create_meeting"] == 1


def test_zoom_refusals_become_meeting_refused(served: tuple[RunningServer, Slot]) -> None:
    sim, zoom = zoom_adapter(served)
    pending = next(u for u in sim.list_users() if u["status"] == "pending")
    stale = DirectoryUser(pending["id"], pending["email"], "Stale", UserStatus.ACTIVE)  # synced before
    with pytest.raises(MeetingRefused) as not_active:
        zoom.create_meeting(stale, REQUEST)
    assert (not_active.value.reason, not_active.value.status, not_active.value.error) == (
        RefusalReason.HOST_NOT_ACTIVE,
        400,
        "1000",
    )
    assert "activate the user in Zoom" in not_active.value.remedy
    gone = DirectoryUser("no-such-user-id", "gone@example.com", "Gone", UserStatus.ACTIVE)
    with pytest.raises(MeetingRefused) as not_found:
        zoom.create_meeting(gone, REQUEST)
    assert (not_found.value.reason, not_found.value.status) == (RefusalReason.HOST_NOT_FOUND, 404)
    assert not_found.value.provider_name == "zoom"


def test_a_host_who_cannot_host_is_refused_without_a_call(served: tuple[RunningServer, Slot]) -> None:
    sim, zoom = zoom_adapter(served)
    pending = next(u for u in zoom.list_users() if u.status is UserStatus.PENDING)
    sim.clear_requests()
    with pytest.raises(MeetingRefused) as refused:
        zoom.create_meeting(pending, REQUEST)
    assert refused.value.reason is RefusalReason.HOST_NOT_ACTIVE and refused.value.status is None
    assert sim.requests() == [] and zoom.calls["create_meeting"] == 0


def test_rate_limit_answers_are_waited_and_the_listing_goes_on(served: tuple[RunningServer, Slot]) -> None:
    sleeps: list[float] = []
    sim, zoom = zoom_adapter(served, sleeps, retry_after="seconds")
    sim.add_fault("api", "429", count=1)
    users = list(zoom.list_users())
    assert len(users) == len(paid_users(sim))
    assert len(sleeps) == 1 and sleeps[0] >= 0
    assert zoom.calls["list"] == 3  # one page per status; the retry is inside the call
    assert len(listed_user_calls(sim)) == 4
