"""Google Meet user changes end to end: linking ``google_meet`` opens a Directory ``users.watch``
channel (Google's ``sync`` message acknowledged); a wrong channel token is refused and changes
nothing; replays are harmless. What Google and Microsoft share (a suspended user disconnected and
connected again without a reconcile, a deleted user's profile disconnected, removing the
connection stops its channel): test_provider_user_changes.py."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.flow.harness import FlowStack
from tests.providers_e2e.conftest import connections
from tests.user_notifications.conftest import GOOGLE, connected, deliveries, subscriptions


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


def test_a_wrong_channel_token_changes_nothing_and_replays_are_harmless(
    meet: FlowStack, meet_user: tuple[str, str]
) -> None:
    email, token = meet_user
    user = meet.simulator("google").find_user(email)
    opened = channel(meet)
    user.suspended = True  # changed at Google without a notification
    try:
        assert notify(meet, user.id, channel_id=opened.id, token="forged") == 401
        assert notify(meet, user.id, channel_id=opened.id, token=None) == 401
        assert connected(meet, token, GOOGLE) is True
        for _ in range(2):  # the genuine notification and its replay: read again both times
            assert notify(meet, user.id, channel_id=opened.id, token=opened.token) == 200
            assert connected(meet, token, GOOGLE) is False
    finally:
        user.suspended = False
    assert notify(meet, user.id, channel_id=opened.id, token=opened.token) == 200
    assert connected(meet, token, GOOGLE) is True
