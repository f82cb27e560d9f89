"""Renewal against the simulators: ``renew_subscriptions`` (domain) with the real provider calls
(providers/user_subscriptions.py) and the stack's table extends the Teams subscription at Graph
(``PATCH``) and replaces the Meet channel (a new one opened, the old one stopped); the scheduled
reconcile of the connection-sync worker runs it."""

from __future__ import annotations

import time
from typing import Any

import pytest

from devstack.apigw import LambdaContext, load_handler
from devstack.template import functions, load_template
from orgconnect.domain.model import ProviderApp
from orgconnect.domain.webhooks_subscriptions import renew_subscriptions
from orgconnect.providers.registry import ProviderRegistry
from orgconnect.providers.user_subscriptions import ProviderUserSubscriptions
from orgconnect.store.dynamodb import DynamoStore
from orgconnect.store.webhook_subscriptions import DynamoSubscriptions
from tests.flow.harness import FlowStack
from tests.providers_e2e.conftest import connections, link, stored_tokens
from tests.values import replace


class StoredTokens:
    """The access token in each connection's secret (fresh: the links just happened)."""

    def __init__(self, flow: FlowStack) -> None:
        self._flow = flow

    def access_token(self, connection: Any, *, rejected: str | None = None) -> str:
        return str(stored_tokens(self._flow, connection.provider_name)["access_token"])


@pytest.fixture(scope="module")
def linked(microsoft_tenant: FlowStack) -> FlowStack:
    names = {c["provider_name"] for c in connections(microsoft_tenant)}
    for name in ("ms_teams", "google_meet"):
        if name not in names:
            link(microsoft_tenant, name)
    return microsoft_tenant


def _api(flow: FlowStack) -> ProviderUserSubscriptions:
    sims = flow.info["simulators"]
    apps = {
        k: ProviderApp(sims[k]["oauth_client_id"], sims[k]["oauth_client_secret"])
        for k in ("microsoft", "google")
    }
    registry = ProviderRegistry(apps, overrides={k: sims[k]["base_url"] for k in apps}, timeout=10.0)
    return ProviderUserSubscriptions(StoredTokens(flow), lambda: registry)


def test_renewal_extends_graph_and_replaces_the_google_channel(linked: FlowStack) -> None:
    flow = linked
    store = DynamoSubscriptions(
        DynamoStore(flow.info["aws"]["table_name"], flow.aws("dynamodb"), clock=lambda: 0), clock=lambda: 0
    )
    mine = {
        c["connection_id"] for c in connections(flow) if c["provider_name"] in ("ms_teams", "google_meet")
    }
    now = int(time.time())
    before = {}
    for found in store.due(10**12):
        if found.connection_id in mine:  # recorded as expiring in a minute: due for renewal
            before[found.provider] = replace(found, expires_at=now + 60)
            store.save(before[found.provider])
    graph = flow.simulator("microsoft").subscriptions.items[before["microsoft"].subscription_id]
    old_channel = before["google"].subscription_id

    # No API URL given: the Google replacement goes where the old channel delivered.
    outcome = renew_subscriptions(now, api=_api(flow), store=store, connections=store)

    assert before["microsoft"].subscription_id in outcome.renewed and old_channel in outcome.replaced
    assert outcome.failed == []
    renewed = store.get("microsoft", before["microsoft"].subscription_id)
    assert renewed is not None and renewed.expires_at > before["microsoft"].expires_at
    assert abs(graph.expires_at - renewed.expires_at) < 1  # Graph holds the new expiry
    channels = flow.simulator("google").watch.channels
    assert old_channel not in channels and store.get("google", old_channel) is None
    (cnx,) = [c["connection_id"] for c in connections(flow) if c["provider_name"] == "google_meet"]
    new = store.of_connection(cnx)
    assert new is not None and new.subscription_id in channels
    assert channels[new.subscription_id].address == f"{flow.info['api_url']}/webhooks/google"


def test_the_scheduled_reconcile_renews_what_is_about_to_expire(linked: FlowStack) -> None:
    flow = linked
    store = DynamoSubscriptions(
        DynamoStore(flow.info["aws"]["table_name"], flow.aws("dynamodb"), clock=lambda: 0), clock=lambda: 0
    )
    (teams,) = [c["connection_id"] for c in connections(flow) if c["provider_name"] == "ms_teams"]
    before = store.of_connection(teams)
    assert before is not None
    soon = replace(before, expires_at=int(time.time()) + 60)  # recorded as expiring in a minute
    store.save(soon)
    (spec,) = [s for s in functions(load_template()) if s.logical_id == "ConnectionSyncWorkerFunction"]
    handler = load_handler(spec, 3000)

    handler({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}, LambdaContext(spec))

    after = store.of_connection(teams)
    assert after is not None and after.subscription_id == before.subscription_id
    assert after.expires_at > soon.expires_at
    graph = flow.simulator("microsoft").subscriptions.items[after.subscription_id]
    assert abs(graph.expires_at - after.expires_at) < 1
