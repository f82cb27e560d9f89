"""The Google Meet and Indeed conferencing adapters against their simulators served on 127.0.0.1
(free ports), with an administrator's tokens from the authorization clients: the Directory in
pages of 500 (``pageToken``), suspended users inactive, lookup in one call, a Meet space and an
Indeed interview the simulators know, and each provider's refusal (a token without the Meet
scope; an Indeed host who is not in the employer account or not active)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from devstack.simulators.demo import PRIMARY_DOMAIN, build_demo_directory
from devstack.simulators.google import GoogleSimulator
from devstack.simulators.indeed import IndeedSimulator
from orgconnect.domain.conferencing import (
    DirectoryUser,
    MeetingRefused,
    MeetingRequest,
    RefusalReason,
    UserStatus,
)
from orgconnect.domain.provider_model import Purpose
from orgconnect.providers.google import GoogleApi, GoogleProvider
from orgconnect.providers.indeed import IndeedApi, IndeedProvider
from orgconnect.providers.indeed_conferencing import IndeedConferencing
from orgconnect.providers.meet_conferencing import MeetConferencing
from tests.integration.test_provider_api_paging import Served
from tests.simulators._provider_fixtures import frozen_clock, redirect_params, sign_in

DEMO = build_demo_directory(seed=7)
REQUEST = MeetingRequest(
    "Interview", datetime(2023, 11, 21, 9, tzinfo=UTC), datetime(2023, 11, 21, 9, 30, tzinfo=UTC), "Etc/UTC"
)


@pytest.fixture(scope="module")
def google_served() -> Iterator[Served]:
    callback = "http://127.0.0.1:8000/oauth/callback/google"
    served = Served(GoogleSimulator(DEMO, seed=7, clock=frozen_clock(), redirect_uris=[callback]), callback)
    yield served
    served.close()


@pytest.fixture(scope="module")
def indeed_served() -> Iterator[Served]:
    callback = "http://127.0.0.1:8000/oauth/callback/indeed"
    served = Served(IndeedSimulator(DEMO, seed=7, clock=frozen_clock(), redirect_uris=[callback]), callback)
    yield served
    served.close()


def meet_adapter(served: Served, purpose: Purpose = Purpose.CONFERENCING) -> MeetConferencing:
    provider = GoogleProvider(served.app, base_url=served.url)
    tokens = served.tokens(provider, purpose, user=DEMO.admin.email)
    return MeetConferencing(GoogleApi(served.app, tokens, base_url=served.url))


@pytest.fixture
def meet(google_served: Served) -> tuple[GoogleSimulator, MeetConferencing]:
    sim = google_served.sim
    assert isinstance(sim, GoogleSimulator)
    sim.reset()
    return sim, meet_adapter(google_served)


@pytest.fixture
def indeed(indeed_served: Served) -> tuple[IndeedSimulator, IndeedConferencing]:
    """The admin selects the employer on Indeed's page; the token is bound to it."""
    sim = indeed_served.sim
    assert isinstance(sim, IndeedSimulator)
    sim.reset()
    provider = IndeedProvider(indeed_served.app, base_url=indeed_served.url)
    verifier = "v" * 64
    url = provider.authorization_url(
        purpose=Purpose.CONFERENCING, state="st", redirect_uri=indeed_served.callback, code_verifier=verifier
    )
    parts = urlsplit(url)
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    answer = redirect_params(
        sign_in(indeed_served.http, f"{indeed_served.url}{parts.path}", params, user=DEMO.admin.email)
    )
    tokens = provider.exchange_code(
        purpose=Purpose.CONFERENCING,
        code=answer["code"],
        redirect_uri=indeed_served.callback,
        code_verifier=verifier,
        extra=provider.callback_token_params(answer),
    )
    return sim, IndeedConferencing(IndeedApi(indeed_served.app, tokens, base_url=indeed_served.url))


# -- Google Meet ---------------------------------------------------------------------------------


def test_directory_lists_600_more_users_in_two_calls_and_suspended_ones_are_inactive(
    meet: tuple[GoogleSimulator, MeetConferencing],
) -> None:
    sim, adapter = meet
    for index in range(600):
        sim.add_user({"email": f"user.{index:04d}@{PRIMARY_DOMAIN}"})
    sim.update_user(f"user.0007@{PRIMARY_DOMAIN}", {"suspended": True})
    users = {u.email: u for u in adapter.list_users()}
    assert len(users) == len(sim.users)
    assert adapter.calls["list"] == -(-len(sim.users) // 500) == 2
    assert users[f"user.0007@{PRIMARY_DOMAIN}"].status is UserStatus.INACTIVE
    (seeded,) = DEMO.summary()["google_meet_suspended"]  # the demo's own suspended user
    assert users[seeded].status is UserStatus.INACTIVE
    assert sum(u.status is UserStatus.ACTIVE for u in users.values()) == len(sim.users) - 2
    assert {u.provider_user_id for u in users.values()} == set(sim.users)


def test_directory_lookup_hit_miss_and_other_domain_take_one_call_each(
    meet: tuple[GoogleSimulator, MeetConferencing],
) -> None:
    sim, adapter = meet
    user = next(u for u in sim.users.values() if not u.is_admin)
    found = adapter.lookup_user(user.primary_email)
    assert found is not None and found.provider_user_id == user.id
    assert adapter.lookup_user(f"nobody@{PRIMARY_DOMAIN}") is None  # 404
    assert adapter.lookup_user("someone@elsewhere.example") is None  # 403 outside the customer
    assert adapter.calls["lookup"] == 3


def test_meet_space_is_known_to_the_simulator(meet: tuple[GoogleSimulator, MeetConferencing]) -> None:
    sim, adapter = meet
    host = next(u for u in adapter.list_users() if u.status is UserStatus.ACTIVE)
    meeting = adapter.create_meeting(host, REQUEST)
    stored = [s for s in sim.spaces.values() if s["meetingUri"] == meeting.join_url]
    assert len(stored) == 1 and stored[0]["meetingCode"] == meeting.meeting_id
    assert meeting.password is None and adapter.calls["create_meeting"] == 1


def test_meet_refuses_a_token_without_the_meet_scope(google_served: Served) -> None:
    sim = google_served.sim
    assert isinstance(sim, GoogleSimulator)
    sim.reset()
    adapter = meet_adapter(google_served, Purpose.ADMIN_PROOF)  # directory only, no meetings.space.created
    host = next(u for u in adapter.list_users() if u.status is UserStatus.ACTIVE)
    with pytest.raises(MeetingRefused) as refused:
        adapter.create_meeting(host, REQUEST)
    assert (refused.value.reason, refused.value.status) == (RefusalReason.CONSENT_REQUIRED, 403)
    assert "link Google Meet again" in refused.value.remedy
    suspended = DirectoryUser(host.provider_user_id, host.email, "S", UserStatus.INACTIVE)
    with pytest.raises(MeetingRefused) as inactive:
        adapter.create_meeting(suspended, REQUEST)
    assert inactive.value.reason is RefusalReason.HOST_NOT_ACTIVE


# -- Indeed --------------------------------------------------------------------------------------


def test_indeed_has_no_listing_and_looks_each_email_up(
    indeed: tuple[IndeedSimulator, IndeedConferencing],
) -> None:
    sim, adapter = indeed
    assert adapter.lists_directory is False
    assert list(adapter.list_users()) == [] and adapter.calls["list"] == 0
    invited = next(u for u in sim.users.values() if u.status == "invited")
    disabled = next(u for u in sim.users.values() if u.status == "deactivated")
    looked_up = adapter.lookup_user(invited.email)
    assert looked_up is not None and (looked_up.provider_user_id, looked_up.status) == (
        invited.id,
        UserStatus.PENDING,
    )
    gone = adapter.lookup_user(disabled.email)
    assert gone is not None and gone.status is UserStatus.INACTIVE
    assert adapter.lookup_user("nobody@example.com") is None
    assert adapter.calls["lookup"] == 3


def test_indeed_interview_link_is_known_to_the_simulator(
    indeed: tuple[IndeedSimulator, IndeedConferencing],
) -> None:
    sim, adapter = indeed
    active = next(u for u in sim.users.values() if u.status == "active" and not u.is_admin)
    host = adapter.lookup_user(active.email)
    assert host is not None
    meeting = adapter.create_meeting(host, REQUEST)
    stored = sim.interviews[meeting.meeting_id]
    assert stored["joinUrl"] == meeting.join_url and stored["hostUserId"] == active.id


def test_indeed_refuses_a_host_outside_the_employer_or_not_active(
    indeed: tuple[IndeedSimulator, IndeedConferencing],
) -> None:
    sim, adapter = indeed
    with pytest.raises(MeetingRefused) as not_found:
        adapter.create_meeting(DirectoryUser("1", "stranger@example.org", "S", UserStatus.ACTIVE), REQUEST)
    assert (not_found.value.reason, not_found.value.status) == (RefusalReason.HOST_NOT_FOUND, 404)
    disabled = next(u for u in sim.users.values() if u.status == "deactivated")
    stale = DirectoryUser(disabled.id, disabled.email, "Stale", UserStatus.ACTIVE)  # looked up before
    with pytest.raises(MeetingRefused) as not_active:
        adapter.create_meeting(stale, REQUEST)
    assert (not_active.value.reason, not_active.value.status) == (RefusalReason.HOST_NOT_ACTIVE, 400)
    assert not sim.interviews
