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
from tests.providers_e2e.conftest import (
    connected_profile,
    create_meeting,
    created_meeting,
    link,
    matched_profile,
    not_connected_refusal,
    refusal,
    sim_option_off,
    stored_tokens,
)


@pytest.fixture(scope="module")
def teams(microsoft_tenant: FlowStack) -> FlowStack:
    microsoft_tenant.simulator("microsoft").clear_requests()  # keep the ms_teams link's requests only
    link(microsoft_tenant, "ms_teams")
    return microsoft_tenant


@pytest.fixture
def no_access_policy(teams: FlowStack) -> Iterator[None]:
    with sim_option_off(teams, "microsoft", "teams_application_access_policy"):
        yield


def test_the_link_asks_default_and_the_admin_consent_is_tenant_wide(teams: FlowStack) -> None:
    microsoft = teams.simulator("microsoft")
    app_id = teams.info["simulators"]["microsoft"]["oauth_client_id"]
    consent = microsoft.consents[app_id]
    assert {"OnlineMeetings.ReadWrite.All", "User.Read.All"} <= consent.roles
    asked = [
        str(e["params"].get("scope", ""))
        for e in microsoft.requests()
        if e.get("kind") == "request" and str(e.get("path", "")).endswith("/oauth2/v2.0/authorize")
    ]
    assert asked and all("https://graph.microsoft.com/.default" in scope.split() for scope in asked)


def test_a_licensed_user_gets_a_connected_profile_and_a_meeting_teams_holds(
    teams: FlowStack, receiver: CallbackReceiver
) -> None:
    email = teams.info["demo"]["ms_teams_active"][1]
    token, profile = connected_profile(teams, receiver, email, "ms_teams")
    answer = created_meeting(teams, token, profile, "ms_teams")
    meeting = teams.simulator("microsoft").meetings[answer["meeting_id"]]
    assert meeting["joinWebUrl"] == answer["join_url"]
    assert meeting["participants"]["organizer"]["upn"] == email
    assert answer["password"] == meeting["joinMeetingIdSettings"]["passcode"]


def test_a_user_without_a_teams_licence_is_not_connected(
    teams: FlowStack, receiver: CallbackReceiver
) -> None:
    (email,) = teams.info["demo"]["ms_teams_unlicensed"]
    error = not_connected_refusal(teams, receiver, email, "ms_teams")
    assert error["key"] == "errors.profile_not_connected" and "unlicensed" in error["description"]


def test_without_an_application_access_policy_the_422_names_the_remedy(
    teams: FlowStack, receiver: CallbackReceiver, no_access_policy: None
) -> None:
    token, profile = matched_profile(teams, receiver, teams.info["demo"]["ms_teams_active"][2], "ms_teams")
    error = refusal(create_meeting(teams, token, profile["profile_id"]))
    assert error["key"] == "errors.policy_required"
    assert "New-CsApplicationAccessPolicy" in error["description"]
    assert "Grant-CsApplicationAccessPolicy" in error["description"]


def test_a_user_added_later_is_looked_up_with_a_refreshed_rotated_token(
    teams: FlowStack, receiver: CallbackReceiver
) -> None:
    """Meetings use an app-only token; the stored delegated token serves the directory. A user
    added after the listing is a miss, looked up with it once it has expired at Microsoft."""
    microsoft = teams.simulator("microsoft")
    email = "new.hire@subsidiary.example"
    microsoft.add_user({"email": email, "first_name": "New", "last_name": "Hire"})
    before = stored_tokens(teams, "ms_teams")
    microsoft.clear_requests()
    microsoft.advance_clock(microsoft.access_token_ttl_seconds + 1)
    token, profile = connected_profile(teams, receiver, email, "ms_teams")
    after = stored_tokens(teams, "ms_teams")
    assert after["access_token"] != before["access_token"]
    assert after["refresh_token"] != before["refresh_token"]  # Microsoft rotates; the new one saved
    assert create_meeting(teams, token, profile["profile_id"]).status_code == 201
