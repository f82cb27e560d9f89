"""Webex's refresh-token lifetime end to end on the dev stack (docs/connections.md): a client links
``webex_enterprise``; the reconcile's sync of that connection (the message the schedule sends for
each connection) marks it ``needs_reauthorization`` without a token call when its refresh token
expired by our clock, and renews a refresh token that expires within the margin, so the Webex
simulator extends it for another lifetime."""

from __future__ import annotations

import json
from typing import Any

from orgconnect.domain.connection_credentials import REFRESH_RENEWAL_MARGIN
from tests.flow.harness import Browser, FlowStack, wait_for
from tests.providers_e2e.conftest import refresh_grants

DAY = 86_400


def linked_webex(flow: FlowStack) -> dict[str, Any]:
    """A new client's OU linked to Webex, once the sync its link queued has ended: its connection."""
    client = flow.new_client()
    outcome = Browser(flow).run(flow.authorize_url(client, provider="webex_enterprise"))
    assert outcome.kind == "code", outcome.text
    (connection,) = [
        c
        for c in flow.table_items("CONNECTION#")
        if c.get("type") == "connection" and c.get("client_id") == client.client_id
    ]
    assert connection["provider_name"] == "webex_enterprise" and connection["status"] == "connected"
    flow.wait_sync_ended(connection["connection_id"])
    return connection


def secret(flow: FlowStack, connection: dict[str, Any]) -> dict[str, Any]:
    stored = flow.aws("secretsmanager").get_secret_value(SecretId=connection["secret_arn"])
    return dict(json.loads(stored["SecretString"]))


def rewrite_secret(flow: FlowStack, connection: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The connection's secret with ``changes`` (how time has passed for orgconnect)."""
    data = {**secret(flow, connection), **changes}
    flow.aws("secretsmanager").put_secret_value(
        SecretId=connection["secret_arn"], SecretString=json.dumps(data)
    )
    return data


def reconcile(flow: FlowStack, connection_id: str) -> dict[str, Any]:
    """The scheduled reconcile's message for this connection, then its SYNC item once it ended."""
    from orgconnect import runtime, sync_runtime
    from orgconnect.store.sync_state import sync_key

    before = runtime.get_store().read(sync_key(connection_id)) or {}
    assert sync_runtime.request_connection_sync(connection_id)

    def ended() -> bool:
        item = runtime.get_store().read(sync_key(connection_id)) or {}
        return item.get("sync_id") != before.get("sync_id") and item.get("state") in ("done", "failed")

    wait_for(ended, timeout=60)
    return dict(runtime.get_store().read(sync_key(connection_id)) or {})


def status(flow: FlowStack, connection_id: str) -> str:
    (item,) = [c for c in flow.table_items("CONNECTION#") if c.get("connection_id") == connection_id]
    return str(item["status"])


def test_the_link_stores_when_the_refresh_token_expires(delegated_stack: FlowStack) -> None:
    from orgconnect import runtime

    connection = linked_webex(delegated_stack)
    stored = secret(delegated_stack, connection)
    ttl = int(delegated_stack.simulator("webex").refresh_token_ttl_seconds)
    # Counted from the code exchange (before this read): within the lifetime Webex stated.
    assert runtime.now() < stored["refresh_expires_at"] <= runtime.now() + ttl


def test_an_expired_refresh_token_needs_reauthorization_without_a_token_call(
    delegated_stack: FlowStack,
) -> None:
    from orgconnect import runtime

    flow = delegated_stack
    webex = flow.simulator("webex")
    connection = linked_webex(flow)
    now = runtime.now()
    stored = rewrite_secret(flow, connection, expires_at=now - 1, refresh_expires_at=now - 1)
    at_webex = webex.tokens.valid(stored["refresh_token"], "refresh")
    assert at_webex is not None  # Webex would still take it: the decision is our clock's
    webex_expiry = at_webex.expires_at
    webex.clear_requests()

    ended = reconcile(flow, connection["connection_id"])
    assert (ended["state"], ended.get("reason")) == ("failed", "needs_reauthorization")
    assert status(flow, connection["connection_id"]) == "needs_reauthorization"
    assert refresh_grants(flow, "webex") == []
    assert at_webex.expires_at == webex_expiry  # not extended: never sent
    assert secret(flow, connection) == stored  # the credentials are left as they were


def test_the_reconcile_renews_a_refresh_token_near_its_expiry(delegated_stack: FlowStack) -> None:
    from orgconnect import runtime

    flow = delegated_stack
    webex = flow.simulator("webex")
    connection = linked_webex(flow)
    near = runtime.now() + 3 * DAY
    assert near < runtime.now() + REFRESH_RENEWAL_MARGIN
    stored = rewrite_secret(flow, connection, refresh_expires_at=near)
    at_webex = webex.tokens.valid(stored["refresh_token"], "refresh")
    assert at_webex is not None
    at_webex.expires_at = webex.clock.now() + 3 * DAY  # Webex agrees: 3 days left
    webex.clear_requests()

    ended = reconcile(flow, connection["connection_id"])
    assert ended["state"] == "done"
    (grant,) = refresh_grants(flow, "webex")
    assert grant["status"] == 200
    renewed = secret(flow, connection)
    assert renewed["refresh_token"] == stored["refresh_token"]  # Webex keeps it, with a new lifetime
    assert renewed["access_token"] != stored["access_token"]
    assert renewed["refresh_expires_at"] > runtime.now() + REFRESH_RENEWAL_MARGIN
    assert at_webex.expires_at > webex.clock.now() + REFRESH_RENEWAL_MARGIN
    assert status(flow, connection["connection_id"]) == "connected"

    webex.clear_requests()
    assert reconcile(flow, connection["connection_id"])["state"] == "done"
    assert refresh_grants(flow, "webex") == []  # far from its expiry now: not refreshed again
