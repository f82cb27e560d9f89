"""The worker refreshes the service account's expired admin token at the provider and writes the
new one back to the service account's secret (the Google simulator's clock moves past its expiry)."""

from __future__ import annotations

import json

from tests.delegated.conftest import CallbackReceiver
from tests.delegated.test_delegated_access_flow import one, request_access, wait_callbacks
from tests.flow.harness import FlowStack


def test_an_expired_admin_token_is_refreshed_and_persisted(
    delegated_stack: FlowStack, receiver: CallbackReceiver
) -> None:
    flow = delegated_stack
    sm = flow.aws("secretsmanager")
    stack = flow.info["aws"]["table_name"].rsplit("-Table", 1)[0]
    wanted = f"orgconnect/{stack}/service-accounts/{flow.info['service_account_id']}"
    (name,) = [s["Name"] for s in sm.list_secrets(MaxResults=100)["SecretList"] if s["Name"] == wanted]
    before = json.loads(sm.get_secret_value(SecretId=name)["SecretString"])
    flow.api.post(
        f"{flow.info['simulators']['google']['base_url']}/_sim/clock", json={"advance_seconds": 7200}
    )
    path, body = one(receiver, flow.info["demo"]["zoom_active"][25])
    assert request_access(flow, body).status_code == 202
    (callback,) = wait_callbacks(receiver, path)
    assert "code" in callback["authorization"], callback
    after = json.loads(sm.get_secret_value(SecretId=name)["SecretString"])
    assert after["access_token"] != before["access_token"]
    assert after["refresh_token"] == before["refresh_token"]  # Google does not rotate it
    assert after["tenant_id"] == before["tenant_id"]
