"""Webex end to end on the dev stack: the demo OU links ``webex_enterprise`` through the OU flow;
delegated access gives an active Webex person a connected ``webex`` profile and ``POST
/v1/conferencing`` a meeting the Webex simulator holds; a person whose sign-in is disabled is not
connected; a host without a Webex Meetings licence gets a 422 naming the remedy."""

from __future__ import annotations

import httpx
import pytest

from tests.delegated.conftest import CallbackReceiver
from tests.flow.harness import FlowStack
from tests.providers_e2e.conftest import (
    account,
    create_meeting,
    link,
    profiles,
    refresh_grants,
    refusal,
    simulator_url,
    stored_tokens,
)


@pytest.fixture(scope="module")
def webex(delegated_stack: FlowStack) -> FlowStack:
    link(delegated_stack, "webex_enterprise")
    return delegated_stack


def test_an_active_person_gets_a_connected_profile_and_a_meeting_webex_holds(
    webex: FlowStack, receiver: CallbackReceiver
) -> None:
    email = webex.info["demo"]["webex_active"][1]
    token = account(webex, receiver, email)
    (profile,) = profiles(webex, token, "webex")
    assert profile["profile_connected"] is True and profile["profile_name"] == email
    created = create_meeting(webex, token, profile["profile_id"])
    assert created.status_code == 201, created.text
    answer = created.json()["conferencing"]
    assert answer["provider_name"] == "webex" and answer["profile_id"] == profile["profile_id"]
    meeting = webex.simulator("webex").meetings[answer["meeting_id"]]
    assert meeting["webLink"] == answer["join_url"]
    assert meeting["hostEmail"] == email  # hosted by the matched person, scheduled by the admin
    assert answer["password"] == meeting["password"]


def test_a_person_whose_sign_in_is_disabled_is_not_connected(
    webex: FlowStack, receiver: CallbackReceiver
) -> None:
    email = webex.info["demo"]["webex_inactive"][0]
    token = account(webex, receiver, email)
    (profile,) = profiles(webex, token, "webex")
    assert profile["profile_connected"] is False and "profile_relink_url" not in profile
    error = refusal(create_meeting(webex, token, profile["profile_id"]))
    assert error["key"] == "errors.profile_not_connected" and "inactive" in error["description"]


def test_a_host_without_a_meetings_licence_gets_422_with_the_remedy(
    webex: FlowStack, receiver: CallbackReceiver
) -> None:
    email = webex.info["demo"]["webex_active"][2]
    token = account(webex, receiver, email)
    (profile,) = profiles(webex, token, "webex")
    assert profile["profile_connected"] is True
    unlicensed = httpx.patch(
        f"{simulator_url(webex, 'webex')}/_sim/users/{email}", json={"meetings_licensed": False}
    )
    assert unlicensed.status_code == 200, unlicensed.text
    error = refusal(create_meeting(webex, token, profile["profile_id"]))
    assert error["key"] == "errors.host_unlicensed"
    assert error["description"] == "webex: assign the user a Webex licence"


def test_an_expired_access_token_is_refreshed_and_the_same_refresh_token_kept(
    webex: FlowStack, receiver: CallbackReceiver
) -> None:
    email = webex.info["demo"]["webex_active"][3]
    token = account(webex, receiver, email)
    (profile,) = profiles(webex, token, "webex")
    before = stored_tokens(webex, "webex_enterprise")
    sim = webex.simulator("webex")
    sim.clear_requests()
    sim.advance_clock(sim.access_token_ttl_seconds + 1)  # Webex now refuses the stored access token
    created = create_meeting(webex, token, profile["profile_id"])
    assert created.status_code == 201, created.text  # 401, one refresh, the create again
    assert len(refresh_grants(webex, "webex")) == 1
    after = stored_tokens(webex, "webex_enterprise")
    assert after["access_token"] != before["access_token"]
    assert after["refresh_token"] == before["refresh_token"]  # Webex answers with the same one
