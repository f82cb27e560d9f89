"""User changes end to end, the same for Google Meet (Directory channel) and Microsoft Teams
(Graph subscription): a matched user suspended (disabled) in the simulator is disconnected in
the account's userinfo without any reconcile, and connected again when restored; a deleted user's
profile is disconnected; removing the connection stops its subscription at the provider and
leaves the demo OU's. Named to run after the link tests of test_google_events.py and
test_graph_events.py, which count the deliveries of the one subscription each link made."""

from __future__ import annotations

import httpx
import pytest

from tests.delegated.conftest import CallbackReceiver
from tests.flow.harness import Browser, FlowStack
from tests.flow.s2s_helpers import COLLECTION, redeem
from tests.providers_e2e.conftest import account, simulator_url
from tests.user_notifications.conftest import (
    GOOGLE,
    MICROSOFT,
    UserEvents,
    change_user,
    connected,
    deliveries,
    subscriptions,
)

BOTH = pytest.mark.parametrize("events", [GOOGLE, MICROSOFT], ids=lambda e: e.provider)


@BOTH
def test_a_disabled_user_is_disconnected_and_reconnected_without_a_reconcile(
    events: UserEvents, request: pytest.FixtureRequest
) -> None:
    flow: FlowStack = request.getfixturevalue(events.stack)
    email, token = request.getfixturevalue(events.user)
    field, disabled = events.disable
    change_user(flow, events.provider, email, **{field: disabled})
    assert deliveries(flow, events.provider, events.updated)[-1] == events.accepted
    assert connected(flow, token, events) is False
    change_user(flow, events.provider, email, **{field: not disabled})
    assert connected(flow, token, events) is True


@BOTH
def test_removing_the_connection_stops_its_subscription(
    events: UserEvents, request: pytest.FixtureRequest
) -> None:
    flow: FlowStack = request.getfixturevalue(events.stack)
    client = flow.new_client(policy="never", categories="general,recruiting")
    outcome = Browser(flow).run(flow.authorize_url(client, provider=events.conferencing))
    assert outcome.kind == "code", outcome.text
    token = redeem(flow, client, outcome.params["code"])
    (cnx,) = [c for c in flow.table_items("CONNECTION#") if c.get("client_id") == client.client_id]
    (mine,) = [s for s in subscriptions(flow) if s["connection_id"] == cnx["connection_id"]]
    assert mine["subscription_id"] in events.open_at_provider(flow)

    removed = flow.api.delete(
        f"{flow.info['api_url']}{COLLECTION}/{cnx['connection_id']}",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert removed.status_code == 204, removed.text
    assert mine["subscription_id"] not in events.open_at_provider(flow)
    assert [s for s in subscriptions(flow) if s["connection_id"] == cnx["connection_id"]] == []
    # The demo OU's subscription stays.
    assert len([s for s in subscriptions(flow) if s["provider"] == events.provider]) == 1


@BOTH
def test_a_deleted_user_is_removed_and_its_profile_disconnected(
    events: UserEvents, request: pytest.FixtureRequest, receiver: CallbackReceiver
) -> None:
    flow: FlowStack = request.getfixturevalue(events.stack)
    base = simulator_url(flow, events.provider)
    address = f"leaver@{flow.simulator(events.provider).domain}"
    added = httpx.post(f"{base}/_sim/users", json={"email": address})
    assert added.status_code < 300, added.text
    token = account(flow, receiver, address)
    assert connected(flow, token, events) is True
    assert httpx.delete(f"{base}/_sim/users/{address}").status_code < 300
    assert deliveries(flow, events.provider, events.deleted)[-1] == events.accepted
    assert connected(flow, token, events) is False
