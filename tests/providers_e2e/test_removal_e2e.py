"""Removing a browser-linked connection (``DELETE /v1/organizational_unit/conferencing_connections
/{id}``) per provider: Google offers a revoke endpoint, so the grant is revoked at Google before
the secret is deleted; Webex, Microsoft and Indeed offer no revocation an app can call, so no
provider call is made and the tokens go with the secret (they expire)."""

from __future__ import annotations

import json

import pytest

from tests.flow.harness import Browser, FlowStack
from tests.flow.s2s_helpers import COLLECTION, redeem

SIMULATOR = {
    "google_meet": "google",
    "webex_enterprise": "webex",
    "ms_teams": "microsoft",
    "indeed": "indeed",
}


@pytest.mark.parametrize("provider_name", list(SIMULATOR))
def test_removal_revokes_where_the_provider_offers_it(delegated_stack: FlowStack, provider_name: str) -> None:
    flow = delegated_stack
    client = flow.new_client(policy="never", categories="general,recruiting")
    outcome = Browser(flow).run(flow.authorize_url(client, provider=provider_name))
    assert outcome.kind == "code", outcome.text
    token = redeem(flow, client, outcome.params["code"])
    (connection,) = [c for c in flow.table_items("CONNECTION#") if c.get("client_id") == client.client_id]
    secret = flow.aws("secretsmanager").get_secret_value(SecretId=connection["secret_arn"])
    refresh_token = json.loads(secret["SecretString"])["refresh_token"]
    assert [name for name in flow.connection_secrets() if name.endswith(connection["connection_id"])]
    flow.wait_sync_ended(connection["connection_id"])  # its listing calls are not the removal's
    sim = flow.simulator(SIMULATOR[provider_name])
    sim.clear_requests()

    removed = flow.api.delete(
        f"{flow.info['api_url']}{COLLECTION}/{connection['connection_id']}",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert removed.status_code == 204, removed.text
    # Teams and Meet also end their user-change subscription (tests/user_notifications/).
    subscription_paths = ("/v1.0/subscriptions/", "/admin/directory_v1/channels/stop")
    calls = [
        r
        for r in sim.requests()
        if r.get("kind") == "request" and not str(r.get("path", "")).startswith(subscription_paths)
    ]
    if provider_name == "google_meet":
        assert [(r["path"], r["status"]) for r in calls] == [("/revoke", 200)]
        assert sim.tokens.valid(refresh_token, "refresh") is None  # the whole grant is gone
    else:
        assert calls == []
        assert sim.tokens.valid(refresh_token, "refresh") is not None  # it expires by itself
    assert not [name for name in flow.connection_secrets() if name.endswith(connection["connection_id"])]
