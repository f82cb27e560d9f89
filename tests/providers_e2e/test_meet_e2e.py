"""Google Meet end to end on the dev stack: the demo OU links ``google_meet`` (the Workspace
administrator consents to the Directory and Meet scopes); an active Workspace user gets a
connected ``google_meet_api`` profile and ``POST /v1/conferencing`` a Meet space the simulator
holds; a suspended user is not connected; with the Meet REST API off in the OAuth client's
project the 422 names the remedy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.delegated.conftest import CallbackReceiver
from tests.flow.harness import FlowStack
from tests.providers_e2e.conftest import LinkedProvider, linked_provider


@pytest.fixture(scope="module")
def meet(delegated_stack: FlowStack, receiver: CallbackReceiver) -> LinkedProvider:
    return linked_provider(
        delegated_stack, receiver, "google_meet", profile_provider="google_meet_api", simulator="google"
    )


@pytest.fixture
def meet_api_disabled(meet: LinkedProvider) -> Iterator[None]:
    with meet.option_off("meet_api_enabled"):
        yield


def test_an_active_user_gets_a_connected_profile_and_a_space_meet_holds(meet: LinkedProvider) -> None:
    token, profile = meet.connected_profile(meet.demo("google_meet_active")[3])
    answer = meet.created_meeting(token, profile)
    spaces = {s["meetingCode"]: s for s in meet.sim.spaces.values()}
    assert spaces[answer["meeting_id"]]["meetingUri"] == answer["join_url"]


def test_a_suspended_user_is_not_connected(meet: LinkedProvider) -> None:
    (email,) = meet.demo("google_meet_suspended")
    error = meet.not_connected_refusal(email)
    assert error["key"] == "errors.profile_not_connected" and "inactive" in error["description"]


def test_with_the_meet_api_off_the_422_names_the_remedy(
    meet: LinkedProvider, meet_api_disabled: None
) -> None:
    token, profile = meet.matched_profile(meet.demo("google_meet_active")[4])
    error = meet.refusal(token, profile)
    assert error["key"] == "errors.api_disabled"
    assert "enable the Google Meet REST API" in error["description"]


def test_an_expired_access_token_is_refreshed_and_the_refresh_token_kept(meet: LinkedProvider) -> None:
    token, profile = meet.matched_profile(meet.demo("google_meet_active")[5])
    before, after = meet.tokens_around_a_refresh(token, profile)
    assert after["refresh_token"] == before["refresh_token"]  # Google does not rotate
