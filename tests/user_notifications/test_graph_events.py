"""Microsoft Teams user changes end to end: linking ``ms_teams`` subscribes to the tenant's users
(Graph's validation handshake answered by ``POST /webhooks/microsoft``); a matched user disabled
in the Microsoft simulator is disconnected in the account's userinfo without any reconcile, and
connected again when re-enabled; a wrong ``clientState`` or an unknown subscription changes
nothing; replays are harmless (the user is read again each time); a deleted user's profile is
disconnected; removing the connection deletes its subscription at Graph."""

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
def teams(microsoft_tenant: FlowStack) -> FlowStack:
    link(microsoft_tenant, "ms_teams")
    return microsoft_tenant


@pytest.fixture(scope="module")
def matched(teams: FlowStack, receiver: CallbackReceiver) -> tuple[str, str]:
    """A licensed Teams user with delegated access: (email, the account's access token)."""
    email = teams.info["demo"]["ms_teams_active"][0]
    token = account(teams, receiver, email)
    (profile,) = profiles(teams, token, "ms_teams")
    assert profile["profile_connected"] is True
    return email, token


def connected(flow: FlowStack, token: str) -> bool:
    (profile,) = profiles(flow, token, "ms_teams")
    return bool(profile["profile_connected"])


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


def test_a_disabled_user_is_disconnected_and_reconnected_without_a_reconcile(
    teams: FlowStack, matched: tuple[str, str]
) -> None:
    email, token = matched
    change_user(teams, "microsoft", email, account_enabled=False)
    assert deliveries(teams, "microsoft", "users.updated")[-1] == 202
    assert connected(teams, token) is False
    change_user(teams, "microsoft", email, account_enabled=True)
    assert connected(teams, token) is True


def test_a_wrong_client_state_or_an_unknown_subscription_changes_nothing(
    teams: FlowStack, matched: tuple[str, str]
) -> None:
    email, token = matched
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
        assert connected(teams, token) is True
        # The genuine notification, twice (a replay): the user is read again, both times.
        for _ in range(2):
            state = subscription.client_state
            assert notify(teams, user.id, subscription_id=subscription.id, client_state=state) == 202
            assert connected(teams, token) is False
    finally:
        user.account_enabled = True
    # A late replay of the same notification after the user came back: read again, connected.
    assert (
        notify(teams, user.id, subscription_id=subscription.id, client_state=subscription.client_state) == 202
    )
    assert connected(teams, token) is True


def test_removing_the_connection_deletes_its_subscription(teams: FlowStack) -> None:
    flow = teams
    client = flow.new_client(policy="never", categories="general,recruiting")
    outcome = Browser(flow).run(flow.authorize_url(client, provider="ms_teams"))
    assert outcome.kind == "code", outcome.text
    token = redeem(flow, client, outcome.params["code"])
    (cnx,) = [c for c in flow.table_items("CONNECTION#") if c.get("client_id") == client.client_id]
    (mine,) = [s for s in subscriptions(flow) if s["connection_id"] == cnx["connection_id"]]
    assert mine["subscription_id"] in flow.simulator("microsoft").subscriptions.items

    removed = flow.api.delete(
        f"{flow.info['api_url']}{COLLECTION}/{cnx['connection_id']}",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert removed.status_code == 204, removed.text
    assert mine["subscription_id"] not in flow.simulator("microsoft").subscriptions.items
    assert [s for s in subscriptions(flow) if s["connection_id"] == cnx["connection_id"]] == []
    # The demo OU's Teams subscription stays.
    assert len([s for s in subscriptions(flow) if s["provider"] == "microsoft"]) == 1


def test_a_deleted_user_is_removed_and_its_profile_disconnected(
    teams: FlowStack, receiver: CallbackReceiver
) -> None:
    microsoft = simulator_url(teams, "microsoft")
    domain = teams.simulator("microsoft").domain
    added = httpx.post(f"{microsoft}/_sim/users", json={"email": f"leaver@{domain}"})
    assert added.status_code < 300, added.text
    email = added.json().get("email") or f"leaver@{domain}"
    token = account(teams, receiver, email)
    assert connected(teams, token) is True
    assert httpx.delete(f"{microsoft}/_sim/users/{email}").status_code < 300
    assert deliveries(teams, "microsoft", "users.deleted")[-1] == 202
    assert connected(teams, token) is False
