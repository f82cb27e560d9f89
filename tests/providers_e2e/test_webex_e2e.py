"""Webex end to end on the dev stack: the demo OU links ``webex_enterprise`` through the OU flow;
delegated access gives an active Webex person a connected ``webex`` profile and ``POST
/v1/conferencing`` a meeting the Webex simulator holds; a person whose sign-in is disabled is not
connected; a host without a Webex Meetings licence gets a 422 naming the remedy."""

from __future__ import annotations

import pytest

from tests.delegated.conftest import CallbackReceiver
from tests.flow.harness import FlowStack
from tests.providers_e2e.conftest import LinkedProvider, linked_provider


@pytest.fixture(scope="module")
def webex(delegated_stack: FlowStack, receiver: CallbackReceiver) -> LinkedProvider:
    return linked_provider(
        delegated_stack, receiver, "webex_enterprise", profile_provider="webex", simulator="webex"
    )


def test_an_active_person_gets_a_connected_profile_and_a_meeting_webex_holds(webex: LinkedProvider) -> None:
    email = webex.demo("webex_active")[1]
    token, profile = webex.connected_profile(email)
    answer = webex.created_meeting(token, profile)
    assert answer["profile_id"] == profile["profile_id"]
    meeting = webex.sim.meetings[answer["meeting_id"]]
    assert meeting["webLink"] == answer["join_url"]
    assert meeting["hostEmail"] == email  # hosted by the matched person, scheduled by the admin
    assert answer["password"] == meeting["password"]


def test_a_person_whose_sign_in_is_disabled_is_not_connected(webex: LinkedProvider) -> None:
    error = webex.not_connected_refusal(webex.demo("webex_inactive")[0])
    assert error["key"] == "errors.profile_not_connected" and "inactive" in error["description"]


def test_a_host_without_a_meetings_licence_gets_422_with_the_remedy(webex: LinkedProvider) -> None:
    email = webex.demo("webex_active")[2]
    token, profile = webex.connected_profile(email)
    webex.change_user(email, {"meetings_licensed": False})
    error = webex.refusal(token, profile)
    assert error["key"] == "errors.host_unlicensed"
    assert error["description"] == "webex: assign the user a Webex licence"


def test_an_expired_access_token_is_refreshed_and_the_same_refresh_token_kept(webex: LinkedProvider) -> None:
    token, profile = webex.matched_profile(webex.demo("webex_active")[3])
    before, after = webex.tokens_around_a_refresh(token, profile)
    assert after["refresh_token"] == before["refresh_token"]  # Webex answers with the same one
