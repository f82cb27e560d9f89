"""Indeed end to end on the dev stack: the demo OU links ``indeed`` (the employer's user picks the
employer at Indeed); Indeed offers no listing, so each account is looked up by email; an active
employer user gets a connected ``indeed`` profile and ``POST /v1/conferencing`` an interview link
the simulator holds; a deactivated user is not connected, an invited one is pending (relink url);
a host deactivated after matching gets a 422 naming the remedy."""

from __future__ import annotations

import pytest

from tests.delegated.conftest import CallbackReceiver
from tests.flow.harness import FlowStack
from tests.providers_e2e.conftest import LinkedProvider, linked_provider


@pytest.fixture(scope="module")
def indeed(delegated_stack: FlowStack, receiver: CallbackReceiver) -> LinkedProvider:
    return linked_provider(delegated_stack, receiver, "indeed", simulator="indeed")


def test_an_active_user_gets_a_connected_profile_and_an_interview_indeed_holds(
    indeed: LinkedProvider,
) -> None:
    email = indeed.demo("indeed_active")[5]
    token, profile = indeed.connected_profile(email)
    answer = indeed.created_meeting(token, profile)
    interview = indeed.sim.interviews[answer["meeting_id"]]
    assert interview["joinUrl"] == answer["join_url"]
    assert interview["hostUserId"] == indeed.sim.find_user(email).id


def test_deactivated_and_invited_users_are_not_connected(indeed: LinkedProvider) -> None:
    _, profile = indeed.matched_profile(indeed.demo("indeed_deactivated")[0])
    assert profile["profile_connected"] is False and "profile_relink_url" not in profile
    _, profile = indeed.matched_profile(indeed.demo("indeed_invited")[0])
    assert profile["profile_connected"] is False
    assert profile["profile_relink_url"] == "https://employers.indeed.com/"


def test_a_host_deactivated_after_matching_gets_422_with_the_remedy(indeed: LinkedProvider) -> None:
    email = indeed.demo("indeed_active")[6]
    token, profile = indeed.connected_profile(email)
    indeed.change_user(email, {"status": "deactivated"})
    error = indeed.refusal(token, profile)
    assert error["key"] == "errors.host_not_active"
    assert (
        error["description"] == "indeed: activate the user in Indeed (accept the invitation, or reactivate)"
    )


def test_an_expired_access_token_is_refreshed_and_the_rotated_refresh_token_saved(
    indeed: LinkedProvider,
) -> None:
    token, profile = indeed.matched_profile(indeed.demo("indeed_active")[7])
    before, after = indeed.tokens_around_a_refresh(token, profile)
    assert after["refresh_token"] != before["refresh_token"]  # rotated, and the new one saved
