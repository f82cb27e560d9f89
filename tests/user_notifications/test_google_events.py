"""Google Meet user changes end to end: linking ``google_meet`` opens a Directory ``users.watch``
channel (Google's ``sync`` message acknowledged); a matched user suspended in the Google simulator
is disconnected in the account's userinfo without any reconcile, and connected again when
unsuspended; a wrong channel token is refused and changes nothing; replays are harmless; a
deleted user's profile is disconnected; removing the connection stops its channel."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.delegated.conftest import CallbackReceiver
from tests.flow.harness import Browser, FlowStack
from tests.flow.s2s_helpers import COLLECTION, redeem
from tests.providers_e2e.conftest import account, connections, link, profiles, simulator_url
from tests.user_notifications.conftest import change_user, deliveries, subscriptions


@pytest.fixture(scope="module")
def meet(delegated_stack: FlowStack) -> FlowStack:
    link(delegated_stack, "google_meet")
    return delegated_stack


@pytest.fixture(scope="module")
def matched(meet: FlowStack, receiver: CallbackReceiver) -> tuple[str, str]:
    """An active Workspace user with delegated access: (email, the account's access token)."""
    email = meet.info["demo"]["google_meet_active"][2]
    token = account(meet, receiver, email)
    (profile,) = profiles(meet, token, "google_meet_api")
    assert profile["profile_connected"] is True
    return email, token


def connected(flow: FlowStack, token: str) -> bool:
    (profile,) = profiles(flow, token, "google_meet_api")
    return bool(profile["profile_connected"])


def channel(flow: FlowStack) -> Any:
    (found,) = flow.simulator("google").watch.channels.values()
    return found


def notify(flow: FlowStack, user_id: str, *, channel_id: str, token: str | None) -> int:
    headers = {"X-Goog-Channel-ID": channel_id, "X-Goog-Resource-State": "update"}
    if token is not None:
        headers["X-Goog-Channel-Token"] = token
    body = json.dumps({"kind": "admin#directory#user", "id": user_id})
    answer = httpx.post(f"{flow.info['api_url']}/webhooks/google", content=body, headers=headers)
    return answer.status_code


def test_the_link_opens_a_channel_and_its_sync_is_acknowledged(meet: FlowStack) -> None:
    opened = channel(meet)
    assert opened.address == f"{meet.info['api_url']}/webhooks/google" and opened.event is None
    (stored,) = [s for s in subscriptions(meet) if s["provider"] == "google"]
    (cnx,) = [c for c in connections(meet) if c["provider_name"] == "google_meet"]
    assert stored["subscription_id"] == opened.id and stored["resource_id"] == opened.resource_id
    assert stored["connection_id"] == cnx["connection_id"]
    assert opened.token not in json.dumps(stored)  # only its digest is kept
    assert deliveries(meet, "google", "users.sync") == [200]


def test_a_suspended_user_is_disconnected_and_reconnected_without_a_reconcile(
    meet: FlowStack, matched: tuple[str, str]
) -> None:
    email, token = matched
    change_user(meet, "google", email, suspended=True)
    assert deliveries(meet, "google", "users.update")[-1] == 200
    assert connected(meet, token) is False
    change_user(meet, "google", email, suspended=False)
    assert connected(meet, token) is True


def test_a_wrong_channel_token_changes_nothing_and_replays_are_harmless(
    meet: FlowStack, matched: tuple[str, str]
) -> None:
    email, token = matched
    user = meet.simulator("google").find_user(email)
    opened = channel(meet)
    user.suspended = True  # changed at Google without a notification
    try:
        assert notify(meet, user.id, channel_id=opened.id, token="forged") == 401
        assert notify(meet, user.id, channel_id=opened.id, token=None) == 401
        assert connected(meet, token) is True
        for _ in range(2):  # the genuine notification and its replay: read again both times
            assert notify(meet, user.id, channel_id=opened.id, token=opened.token) == 200
            assert connected(meet, token) is False
    finally:
        user.suspended = False
    assert notify(meet, user.id, channel_id=opened.id, token=opened.token) == 200
    assert connected(meet, token) is True


def test_removing_the_connection_stops_its_channel(meet: FlowStack) -> None:
    flow = meet
    client = flow.new_client(policy="never", categories="general,recruiting")
    outcome = Browser(flow).run(flow.authorize_url(client, provider="google_meet"))
    assert outcome.kind == "code", outcome.text
    token = redeem(flow, client, outcome.params["code"])
    (cnx,) = [c for c in flow.table_items("CONNECTION#") if c.get("client_id") == client.client_id]
    (mine,) = [s for s in subscriptions(flow) if s["connection_id"] == cnx["connection_id"]]
    assert mine["subscription_id"] in flow.simulator("google").watch.channels

    removed = flow.api.delete(
        f"{flow.info['api_url']}{COLLECTION}/{cnx['connection_id']}",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert removed.status_code == 204, removed.text
    assert mine["subscription_id"] not in flow.simulator("google").watch.channels
    assert [s for s in subscriptions(flow) if s["connection_id"] == cnx["connection_id"]] == []


def test_a_deleted_user_is_removed_and_its_profile_disconnected(
    meet: FlowStack, receiver: CallbackReceiver
) -> None:
    google = simulator_url(meet, "google")
    address = f"leaver@{meet.simulator('google').domain}"
    added = httpx.post(f"{google}/_sim/users", json={"email": address})
    assert added.status_code < 300, added.text
    token = account(meet, receiver, address)
    assert connected(meet, token) is True
    assert httpx.delete(f"{google}/_sim/users/{address}").status_code < 300
    assert deliveries(meet, "google", "users.delete")[-1] == 200
    assert connected(meet, token) is False
