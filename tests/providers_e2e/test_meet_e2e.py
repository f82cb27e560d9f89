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
from tests.providers_e2e.conftest import (
    connected_profile,
    create_meeting,
    created_meeting,
    link,
    matched_profile,
    not_connected_refusal,
    refusal,
    sim_option_off,
    tokens_around_a_refresh,
)


@pytest.fixture(scope="module")
def meet(delegated_stack: FlowStack) -> FlowStack:
    link(delegated_stack, "google_meet")
    return delegated_stack


@pytest.fixture
def meet_api_disabled(meet: FlowStack) -> Iterator[None]:
    with sim_option_off(meet, "google", "meet_api_enabled"):
        yield


def test_an_active_user_gets_a_connected_profile_and_a_space_meet_holds(
    meet: FlowStack, receiver: CallbackReceiver
) -> None:
    email = meet.info["demo"]["google_meet_active"][3]
    token, profile = connected_profile(meet, receiver, email, "google_meet_api")
    answer = created_meeting(meet, token, profile, "google_meet_api")
    spaces = {s["meetingCode"]: s for s in meet.simulator("google").spaces.values()}
    assert spaces[answer["meeting_id"]]["meetingUri"] == answer["join_url"]


def test_a_suspended_user_is_not_connected(meet: FlowStack, receiver: CallbackReceiver) -> None:
    (email,) = meet.info["demo"]["google_meet_suspended"]
    error = not_connected_refusal(meet, receiver, email, "google_meet_api")
    assert error["key"] == "errors.profile_not_connected" and "inactive" in error["description"]


def test_with_the_meet_api_off_the_422_names_the_remedy(
    meet: FlowStack, receiver: CallbackReceiver, meet_api_disabled: None
) -> None:
    token, profile = matched_profile(
        meet, receiver, meet.info["demo"]["google_meet_active"][4], "google_meet_api"
    )
    error = refusal(create_meeting(meet, token, profile["profile_id"]))
    assert error["key"] == "errors.api_disabled"
    assert "enable the Google Meet REST API" in error["description"]


def test_an_expired_access_token_is_refreshed_and_the_refresh_token_kept(
    meet: FlowStack, receiver: CallbackReceiver
) -> None:
    token, profile = matched_profile(
        meet, receiver, meet.info["demo"]["google_meet_active"][5], "google_meet_api"
    )
    before, after = tokens_around_a_refresh(meet, token, profile, "google", "google_meet")
    assert after["refresh_token"] == before["refresh_token"]  # Google does not rotate
