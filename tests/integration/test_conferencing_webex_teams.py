"""The Webex and Microsoft Teams conferencing adapters against their simulators served on
127.0.0.1 (free ports), with an administrator's tokens from the authorization clients: the
directory in the fewest pages (Webex ``max=1000`` with ``Link``, Graph ``$top=999`` with
``@odata.nextLink``), status normalization, lookup in one call, meetings the simulators know, and
each provider's refusal (a Webex host who is not active, a Teams application access policy)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from devstack.simulators.demo import SECONDARY_DOMAIN, build_demo_directory
from devstack.simulators.microsoft import MicrosoftSimulator
from devstack.simulators.webex import WebexSimulator
from orgconnect.domain.conferencing import (
    DirectoryUser,
    MeetingRefused,
    MeetingRequest,
    RefusalReason,
    UserStatus,
)
from orgconnect.domain.provider_model import Purpose
from orgconnect.providers.microsoft import GraphApi, MicrosoftProvider
from orgconnect.providers.teams_conferencing import TeamsConferencing
from orgconnect.providers.webex import WebexApi, WebexProvider
from orgconnect.providers.webex_conferencing import WebexConferencing
from tests.integration.test_provider_api_paging import Served
from tests.simulators._provider_fixtures import frozen_clock

DEMO = build_demo_directory(seed=7)
# The simulators' clock is frozen at 2023-11-14T22:13:20Z: the meeting is a week later.
REQUEST = MeetingRequest(
    "Design review", datetime(2023, 11, 21, 9, tzinfo=UTC), datetime(2023, 11, 21, 10, tzinfo=UTC), "Etc/UTC"
)


@pytest.fixture(scope="module")
def webex_served() -> Iterator[Served]:
    callback = "http://127.0.0.1:8000/oauth/callback/webex"
    served = Served(WebexSimulator(DEMO, seed=7, clock=frozen_clock(), redirect_uris=[callback]), callback)
    yield served
    served.close()


@pytest.fixture(scope="module")
def microsoft_served() -> Iterator[Served]:
    callback = "http://127.0.0.1:8000/oauth/callback/microsoft"
    sim = MicrosoftSimulator(DEMO, seed=7, clock=frozen_clock(), redirect_uris=[callback], preconsented=True)
    served = Served(sim, callback)
    yield served
    served.close()


@pytest.fixture
def webex(webex_served: Served) -> tuple[WebexSimulator, WebexConferencing]:
    sim = webex_served.sim
    assert isinstance(sim, WebexSimulator)
    sim.reset()
    provider = WebexProvider(webex_served.app, base_url=webex_served.url)
    tokens = webex_served.tokens(provider, Purpose.CONFERENCING, user=DEMO.admin.email)
    return sim, WebexConferencing(WebexApi(webex_served.app, tokens, base_url=webex_served.url))


@pytest.fixture
def teams(microsoft_served: Served) -> tuple[MicrosoftSimulator, TeamsConferencing]:
    sim = microsoft_served.sim
    assert isinstance(sim, MicrosoftSimulator)
    sim.reset()
    admin = next(p for p in DEMO.in_domain(SECONDARY_DOMAIN) if p.is_admin)
    provider = MicrosoftProvider(microsoft_served.app, base_url=microsoft_served.url)
    tokens = microsoft_served.tokens(provider, Purpose.CONFERENCING, user=admin.email)
    api = GraphApi(microsoft_served.app, tokens, base_url=microsoft_served.url, tenant=sim.tenant_id)
    return sim, TeamsConferencing(api)


# -- Webex ---------------------------------------------------------------------------------------


def test_webex_lists_1500_people_in_two_calls_with_their_standing(
    webex: tuple[WebexSimulator, WebexConferencing],
) -> None:
    sim, adapter = webex
    for index in range(1500):
        sim.add_user({"email": f"person.{index:04d}@example.com"})
    invited = next(p for p in sim.people.values() if p.status == "pending")
    disabled = next(p for p in sim.people.values() if p.status == "inactive")
    users = {u.provider_user_id: u for u in adapter.list_users()}
    assert set(users) == set(sim.people)
    assert adapter.calls["list"] == -(-len(sim.people) // 1000) == 2
    assert users[invited.id].status is UserStatus.PENDING
    assert users[disabled.id].status is UserStatus.INACTIVE
    assert users[invited.id].email == invited.email.lower()
    active = [u for u in users.values() if u.status is UserStatus.ACTIVE]
    assert len(active) == sum(1 for p in sim.people.values() if p.status == "active")


def test_webex_lookup_hit_and_miss_take_one_call_each(
    webex: tuple[WebexSimulator, WebexConferencing],
) -> None:
    sim, adapter = webex
    person = next(p for p in sim.people.values() if p.status == "active")
    found = adapter.lookup_user(person.email.upper())
    assert found is not None and (found.provider_user_id, found.status) == (person.id, UserStatus.ACTIVE)
    assert adapter.lookup_user("nobody@example.com") is None
    assert adapter.calls["lookup"] == 2


def test_webex_meeting_is_hosted_by_the_matched_person(
    webex: tuple[WebexSimulator, WebexConferencing],
) -> None:
    sim, adapter = webex
    host = next(
        u for u in adapter.list_users() if u.status is UserStatus.ACTIVE and u.email != DEMO.admin.email
    )
    meeting = adapter.create_meeting(host, REQUEST)
    stored = sim.meetings[meeting.meeting_id]
    assert stored["webLink"] == meeting.join_url
    assert (stored["hostEmail"].lower(), stored["password"]) == (host.email, meeting.password)
    assert (stored["start"], stored["end"]) == ("2023-11-21T09:00:00.000Z", "2023-11-21T10:00:00.000Z")


def test_webex_refuses_a_host_who_is_not_active_or_not_in_the_site(
    webex: tuple[WebexSimulator, WebexConferencing],
) -> None:
    sim, adapter = webex
    disabled = next(p for p in sim.people.values() if p.status == "inactive")
    stale = DirectoryUser(disabled.id, disabled.email, "Stale", UserStatus.ACTIVE)  # synced before
    with pytest.raises(MeetingRefused) as not_active:
        adapter.create_meeting(stale, REQUEST)
    assert (not_active.value.reason, not_active.value.status) == (RefusalReason.HOST_NOT_ACTIVE, 400)
    gone = DirectoryUser("x", "gone@example.com", "Gone", UserStatus.ACTIVE)
    with pytest.raises(MeetingRefused) as not_found:
        adapter.create_meeting(gone, REQUEST)
    assert not_found.value.reason is RefusalReason.HOST_NOT_FOUND
    assert not sim.meetings


def test_webex_refuses_a_host_without_a_meetings_licence(
    webex: tuple[WebexSimulator, WebexConferencing],
) -> None:
    sim, adapter = webex
    host = next(
        u for u in adapter.list_users() if u.status is UserStatus.ACTIVE and u.email != DEMO.admin.email
    )
    sim.update_user(host.email, {"meetings_licensed": False})
    with pytest.raises(MeetingRefused) as refused:
        adapter.create_meeting(host, REQUEST)
    assert (refused.value.reason, refused.value.status) == (RefusalReason.HOST_UNLICENSED, 400)
    assert refused.value.remedy == "assign the user a Webex licence"
    assert not sim.meetings


def test_webex_rate_limit_answer_is_waited_as_it_says(webex_served: Served) -> None:
    sim = webex_served.sim
    assert isinstance(sim, WebexSimulator)
    sim.reset()
    provider = WebexProvider(webex_served.app, base_url=webex_served.url)
    tokens = webex_served.tokens(provider, Purpose.CONFERENCING, user=DEMO.admin.email)
    sleeps: list[float] = []
    api = WebexApi(webex_served.app, tokens, base_url=webex_served.url, sleep=sleeps.append)
    adapter = WebexConferencing(api)
    sim.add_fault("api", "429", count=1)
    assert len(list(adapter.list_users())) == len(sim.people)
    assert sleeps == [float(sim.retry_after_seconds)]  # Webex's Retry-After, in seconds
    assert adapter.calls["list"] == 1


# -- Microsoft Teams -----------------------------------------------------------------------------


def test_graph_lists_1200_users_in_two_calls_with_licence_and_sign_in_state(
    teams: tuple[MicrosoftSimulator, TeamsConferencing],
) -> None:
    sim, adapter = teams
    for index in range(1200):
        sim.add_user({"email": f"user.{index:04d}@{SECONDARY_DOMAIN}"})
    sim.update_user(f"user.0001@{SECONDARY_DOMAIN}", {"teams_licensed": False})
    sim.update_user(f"user.0002@{SECONDARY_DOMAIN}", {"account_enabled": False})
    users = {u.email: u for u in adapter.list_users()}
    assert len(users) == len(sim.users)
    assert adapter.calls["list"] == -(-len(sim.users) // 999) == 2
    assert users[f"user.0001@{SECONDARY_DOMAIN}"].status is UserStatus.UNLICENSED
    assert users[f"user.0002@{SECONDARY_DOMAIN}"].status is UserStatus.INACTIVE
    (seeded,) = DEMO.summary()["ms_teams_unlicensed"]  # the demo's own user without Teams
    assert users[seeded].status is UserStatus.UNLICENSED
    assert sum(u.status is UserStatus.ACTIVE for u in users.values()) == len(sim.users) - 3
    assert {u.provider_user_id for u in users.values()} == set(sim.users)


def test_graph_lookup_hit_and_miss_take_one_call_each(
    teams: tuple[MicrosoftSimulator, TeamsConferencing],
) -> None:
    sim, adapter = teams
    user = next(iter(sim.users.values()))
    found = adapter.lookup_user(user.user_principal_name.upper())
    assert found is not None and found.provider_user_id == user.id
    assert adapter.lookup_user(f"o'brien@{SECONDARY_DOMAIN}") is None  # a quote in the OData literal
    assert adapter.calls["lookup"] == 2


def test_teams_meeting_is_organized_by_the_matched_user(
    teams: tuple[MicrosoftSimulator, TeamsConferencing],
) -> None:
    sim, adapter = teams
    host = next(u for u in adapter.list_users() if u.status is UserStatus.ACTIVE)
    meeting = adapter.create_meeting(host, REQUEST)
    stored = sim.meetings[meeting.meeting_id]
    assert stored["joinWebUrl"] == meeting.join_url
    assert stored["participants"]["organizer"]["identity"]["user"]["id"] == host.provider_user_id
    assert stored["joinMeetingIdSettings"]["passcode"] == meeting.password
    assert (adapter.calls["token"], adapter.calls["create_meeting"]) == (1, 1)


def test_teams_refusals_name_what_the_organization_must_grant(
    teams: tuple[MicrosoftSimulator, TeamsConferencing],
) -> None:
    sim, adapter = teams
    host = next(u for u in adapter.list_users() if u.status is UserStatus.ACTIVE)
    sim.apply_options({"teams_application_access_policy": False})
    with pytest.raises(MeetingRefused) as no_policy:
        adapter.create_meeting(host, REQUEST)
    assert (no_policy.value.reason, no_policy.value.status) == (RefusalReason.POLICY_REQUIRED, 403)
    assert "application access policy" in no_policy.value.remedy
    sim.apply_options({"teams_application_access_policy": True})
    sim.consents.clear()  # the tenant withdrew its admin consent
    with pytest.raises(MeetingRefused) as no_consent:
        adapter.create_meeting(host, REQUEST)
    assert no_consent.value.reason is RefusalReason.CONSENT_REQUIRED
    assert no_consent.value.error == "unauthorized_client"
    unlicensed = DirectoryUser(host.provider_user_id, host.email, "U", UserStatus.UNLICENSED)
    with pytest.raises(MeetingRefused) as no_licence:
        adapter.create_meeting(unlicensed, REQUEST)
    assert no_licence.value.reason is RefusalReason.HOST_UNLICENSED
    assert "Microsoft Teams licence" in no_licence.value.remedy
    assert not sim.meetings
