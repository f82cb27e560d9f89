"""Microsoft Teams user changes end to end: linking ``ms_teams`` subscribes to the tenant's users
(Graph's validation handshake answered by ``POST /webhooks/microsoft``); a wrong ``clientState``
or an unknown subscription changes nothing; replays are harmless (the user is read again each
time). What Microsoft and Google share (a disabled user disconnected and connected again without
a reconcile, a deleted user's profile disconnected, removing the connection deletes its
subscription at Graph): test_provider_user_changes.py."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.flow.harness import FlowStack
from tests.providers_e2e.conftest import connections
from tests.user_notifications.conftest import MICROSOFT, connected, deliveries, subscriptions


def graph_subscription(flow: FlowStack) -> Any:
    (subscription,) = flow.simulator("microsoft").subscriptions.items.values()
    return subscription


def notify(flow: FlowStack, user_id: str, *, subscription_id: str, client_state: str | None) -> int:
    entry: dict[str, Any] = {
        "subscriptionId": subscription_id,
        "changeType": "updated",
        "resource": f"Users/{user_id}",
        "resourceData": {"@odata.type": "#Microsoft.Graph.User", "id": user_id},
    }
    if client_state is not None:
        entry["clientState"] = client_state
    answer = httpx.post(f"{flow.info['api_url']}/webhooks/microsoft", json={"value": [entry]})
    return answer.status_code


def test_the_link_subscribes_after_graphs_validation_handshake(teams: FlowStack) -> None:
    assert deliveries(teams, "microsoft", "validation") == [200]
    subscription = graph_subscription(teams)
    assert subscription.resource == "users" and subscription.change_type == "updated,deleted"
    assert subscription.notification_url == f"{teams.info['api_url']}/webhooks/microsoft"
    (stored,) = [s for s in subscriptions(teams) if s["provider"] == "microsoft"]
    (cnx,) = [c for c in connections(teams) if c["provider_name"] == "ms_teams"]
    assert stored["subscription_id"] == subscription.id and stored["connection_id"] == cnx["connection_id"]
    assert subscription.client_state not in json.dumps(stored)  # only its digest is kept


def test_a_wrong_client_state_or_an_unknown_subscription_changes_nothing(
    teams: FlowStack, teams_user: tuple[str, str]
) -> None:
    email, token = teams_user
    microsoft = teams.simulator("microsoft")
    user = microsoft.find_user(email)
    subscription = graph_subscription(teams)
    user.account_enabled = False  # changed at Graph without a notification
    try:
        assert notify(teams, user.id, subscription_id=subscription.id, client_state="forged") == 202
        assert notify(teams, user.id, subscription_id=subscription.id, client_state=None) == 202
        assert (
            notify(teams, user.id, subscription_id="unknown", client_state=subscription.client_state) == 202
        )
        assert connected(teams, token, MICROSOFT) is True
        # The genuine notification, twice (a replay): the user is read again, both times.
        for _ in range(2):
            state = subscription.client_state
            assert notify(teams, user.id, subscription_id=subscription.id, client_state=state) == 202
            assert connected(teams, token, MICROSOFT) is False
    finally:
        user.account_enabled = True
    # A late replay of the same notification after the user came back: read again, connected.
    assert (
        notify(teams, user.id, subscription_id=subscription.id, client_state=subscription.client_state) == 202
    )
    assert connected(teams, token, MICROSOFT) is True
