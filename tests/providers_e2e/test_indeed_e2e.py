"""Indeed end to end on the dev stack: the demo OU links ``indeed`` (the employer's user picks the
employer at Indeed); Indeed offers no listing, so each account is looked up by email; an active
employer user gets a connected ``indeed`` profile and ``POST /v1/conferencing`` an interview link
the simulator holds; a deactivated user is not connected, an invited one is pending (relink url);
a host deactivated after matching gets a 422 naming the remedy."""

from __future__ import annotations

import pytest

from tests.delegated.conftest import CallbackReceiver
from tests.flow.harness import FlowStack
from tests.providers_e2e.conftest import (
    change_sim_user,
    connected_profile,
    create_meeting,
    created_meeting,
    link,
    matched_profile,
    refusal,
    tokens_around_a_refresh,
)


@pytest.fixture(scope="module")
def indeed(delegated_stack: FlowStack) -> FlowStack:
    link(delegated_stack, "indeed")
    return delegated_stack


def test_an_active_user_gets_a_connected_profile_and_an_interview_indeed_holds(
    indeed: FlowStack, receiver: CallbackReceiver
) -> None:
    email = indeed.info["demo"]["indeed_active"][5]
    token, profile = connected_profile(indeed, receiver, email, "indeed")
    answer = created_meeting(indeed, token, profile, "indeed")
    interview = indeed.simulator("indeed").interviews[answer["meeting_id"]]
    assert interview["joinUrl"] == answer["join_url"]
    assert interview["hostUserId"] == indeed.simulator("indeed").find_user(email).id


def test_deactivated_and_invited_users_are_not_connected(
    indeed: FlowStack, receiver: CallbackReceiver
) -> None:
    _, profile = matched_profile(indeed, receiver, indeed.info["demo"]["indeed_deactivated"][0], "indeed")
    assert profile["profile_connected"] is False and "profile_relink_url" not in profile
    _, profile = matched_profile(indeed, receiver, indeed.info["demo"]["indeed_invited"][0], "indeed")
    assert profile["profile_connected"] is False
    assert profile["profile_relink_url"] == "https://employers.indeed.com/"


def test_a_host_deactivated_after_matching_gets_422_with_the_remedy(
    indeed: FlowStack, receiver: CallbackReceiver
) -> None:
    email = indeed.info["demo"]["indeed_active"][6]
    token, profile = connected_profile(indeed, receiver, email, "indeed")
    change_sim_user(indeed, "indeed", email, {"status": "deactivated"})
    error = refusal(create_meeting(indeed, token, profile["profile_id"]))
    assert error["key"] == "errors.host_not_active"
    assert (
        error["description"] == "indeed: activate the user in Indeed (accept the invitation, or reactivate)"
    )


def test_an_expired_access_token_is_refreshed_and_the_rotated_refresh_token_saved(
    indeed: FlowStack, receiver: CallbackReceiver
) -> None:
    token, profile = matched_profile(indeed, receiver, indeed.info["demo"]["indeed_active"][7], "indeed")
    before, after = tokens_around_a_refresh(indeed, token, profile, "indeed", "indeed")
    assert after["refresh_token"] != before["refresh_token"]  # rotated, and the new one saved
