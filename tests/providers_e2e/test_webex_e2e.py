"""Webex end to end on the dev stack: the demo OU links ``webex_enterprise`` through the OU flow;
delegated access gives an active Webex person a connected ``webex`` profile and ``POST
/v1/conferencing`` a meeting the Webex simulator holds; a person whose sign-in is disabled is not
connected; a host without a Webex Meetings licence gets a 422 naming the remedy."""

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
    not_connected_refusal,
    refusal,
    tokens_around_a_refresh,
)


@pytest.fixture(scope="module")
def webex(delegated_stack: FlowStack) -> FlowStack:
    link(delegated_stack, "webex_enterprise")
    return delegated_stack


def test_an_active_person_gets_a_connected_profile_and_a_meeting_webex_holds(
    webex: FlowStack, receiver: CallbackReceiver
) -> None:
    email = webex.info["demo"]["webex_active"][1]
    token, profile = connected_profile(webex, receiver, email, "webex")
    answer = created_meeting(webex, token, profile, "webex")
    assert answer["profile_id"] == profile["profile_id"]
    meeting = webex.simulator("webex").meetings[answer["meeting_id"]]
    assert meeting["webLink"] == answer["join_url"]
    assert meeting["hostEmail"] == email  # hosted by the matched person, scheduled by the admin
    assert answer["password"] == meeting["password"]


def test_a_person_whose_sign_in_is_disabled_is_not_connected(
    webex: FlowStack, receiver: CallbackReceiver
) -> None:
    email = webex.info["demo"]["webex_inactive"][0]
    error = not_connected_refusal(webex, receiver, email, "webex")
    assert error["key"] == "errors.profile_not_connected" and "inactive" in error["description"]


def test_a_host_without_a_meetings_licence_gets_422_with_the_remedy(
    webex: FlowStack, receiver: CallbackReceiver
) -> None:
    email = webex.info["demo"]["webex_active"][2]
    token, profile = connected_profile(webex, receiver, email, "webex")
    change_sim_user(webex, "webex", email, {"meetings_licensed": False})
    error = refusal(create_meeting(webex, token, profile["profile_id"]))
    assert error["key"] == "errors.host_unlicensed"
    assert error["description"] == "webex: assign the user a Webex licence"


def test_an_expired_access_token_is_refreshed_and_the_same_refresh_token_kept(
    webex: FlowStack, receiver: CallbackReceiver
) -> None:
    token, profile = matched_profile(webex, receiver, webex.info["demo"]["webex_active"][3], "webex")
    before, after = tokens_around_a_refresh(webex, token, profile, "webex", "webex_enterprise")
    assert after["refresh_token"] == before["refresh_token"]  # Webex answers with the same one
