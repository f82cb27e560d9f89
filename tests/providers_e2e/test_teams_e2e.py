"""Microsoft Teams end to end on the dev stack: the demo OU (with the Microsoft 365 tenant as its
second calendar tenant) links ``ms_teams``; the Global Administrator's consent to ``/.default``
is tenant-wide and covers the application permissions (``OnlineMeetings.ReadWrite.All``,
``User.Read.All``) the app-only token needs; a licensed user gets a connected ``ms_teams``
profile and a Teams meeting the simulator holds, organized by that user; a user without a Teams
licence is not connected; without an application access policy the 422 names the remedy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.delegated.conftest import CallbackReceiver
from tests.flow.harness import FlowStack
from tests.providers_e2e.conftest import LinkedProvider, linked_provider


@pytest.fixture(scope="module")
def teams(microsoft_tenant: FlowStack, receiver: CallbackReceiver) -> LinkedProvider:
    microsoft_tenant.simulator("microsoft").clear_requests()  # keep the ms_teams link's requests only
    return linked_provider(microsoft_tenant, receiver, "ms_teams", simulator="microsoft")


@pytest.fixture
def no_access_policy(teams: LinkedProvider) -> Iterator[None]:
    with teams.option_off("teams_application_access_policy"):
        yield


def test_the_link_asks_default_and_the_admin_consent_is_tenant_wide(teams: LinkedProvider) -> None:
    app_id = teams.flow.info["simulators"]["microsoft"]["oauth_client_id"]
    consent = teams.sim.consents[app_id]
    assert {"OnlineMeetings.ReadWrite.All", "User.Read.All"} <= consent.roles
    asked = [
        str(e["params"].get("scope", ""))
        for e in teams.sim.requests()
        if e.get("kind") == "request" and str(e.get("path", "")).endswith("/oauth2/v2.0/authorize")
    ]
    assert asked and all("https://graph.microsoft.com/.default" in scope.split() for scope in asked)


def test_a_licensed_user_gets_a_connected_profile_and_a_meeting_teams_holds(teams: LinkedProvider) -> None:
    email = teams.demo("ms_teams_active")[1]
    token, profile = teams.connected_profile(email)
    answer = teams.created_meeting(token, profile)
    meeting = teams.sim.meetings[answer["meeting_id"]]
    assert meeting["joinWebUrl"] == answer["join_url"]
    assert meeting["participants"]["organizer"]["upn"] == email
    assert answer["password"] == meeting["joinMeetingIdSettings"]["passcode"]


def test_a_user_without_a_teams_licence_is_not_connected(teams: LinkedProvider) -> None:
    (email,) = teams.demo("ms_teams_unlicensed")
    error = teams.not_connected_refusal(email)
    assert error["key"] == "errors.profile_not_connected" and "unlicensed" in error["description"]


def test_without_an_application_access_policy_the_422_names_the_remedy(
    teams: LinkedProvider, no_access_policy: None
) -> None:
    token, profile = teams.matched_profile(teams.demo("ms_teams_active")[2])
    error = teams.refusal(token, profile)
    assert error["key"] == "errors.policy_required"
    assert "New-CsApplicationAccessPolicy" in error["description"]
    assert "Grant-CsApplicationAccessPolicy" in error["description"]


def test_a_user_added_later_is_looked_up_with_a_refreshed_rotated_token(teams: LinkedProvider) -> None:
    """Meetings use an app-only token; the stored delegated token serves the directory. A user
    added after the listing is a miss, looked up with it once it has expired at Microsoft."""
    email = "new.hire@subsidiary.example"
    teams.sim.add_user({"email": email, "first_name": "New", "last_name": "Hire"})
    before = teams.stored_tokens()
    teams.sim.clear_requests()
    teams.sim.advance_clock(teams.sim.access_token_ttl_seconds + 1)
    token, profile = teams.connected_profile(email)
    after = teams.stored_tokens()
    assert after["access_token"] != before["access_token"]
    assert after["refresh_token"] != before["refresh_token"]  # Microsoft rotates; the new one saved
    assert teams.create_meeting(token, profile).status_code == 201
