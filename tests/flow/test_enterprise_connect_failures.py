"""Enterprise Connect when a write fails or races: nothing half-written, and a lost creation
refreshes the service account that won (on the in-process dev stack)."""

from __future__ import annotations

from typing import Any

import pytest

from devstack.simulators.demo import SECONDARY_DOMAIN
from tests.flow.enterprise_connect_helpers import admin_of, ec_url, redeem, service_account_secrets
from tests.flow.harness import Browser, FlowStack


def test_a_failed_write_leaves_no_secret_and_no_service_account(
    flow: FlowStack, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orgconnect.domain.errors import TemporarilyUnavailable
    from orgconnect.store.enterprise_connect import DynamoEnterpriseConnect

    def throttled(*_: Any) -> None:
        raise TemporarilyUnavailable("ProvisionedThroughputExceededException")

    monkeypatch.setattr(DynamoEnterpriseConnect, "authorize", throttled)
    client = flow.new_client()
    before = set(service_account_secrets(flow))
    url = ec_url(flow, client, provider_name="microsoft_365")
    outcome = browser.run(url, sign_in_as=admin_of(flow, "microsoft"))
    assert outcome.kind == "error"
    assert outcome.params["error"] == "temporarily_unavailable" and outcome.params["state"] == "ec-state"
    assert set(service_account_secrets(flow)) == before
    owned = [i for i in flow.table_items("SERVICEACCOUNT#") if i["client_id"] == client.client_id]
    assert [i["service_account_id"] for i in owned] == [client.service_account_id]
    assert "orgconnect_ec=;" in outcome.response.headers["set-cookie"]


def test_losing_the_creation_to_a_concurrent_one_refreshes_the_winner(
    flow: FlowStack, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orgconnect.store.enterprise_connect import DynamoEnterpriseConnect

    client = flow.new_client()  # its service account (Google, example.com) "appears" after our lookup
    real = DynamoEnterpriseConnect.find_service_account
    lookups: list[int] = []

    def not_yet_there(self: DynamoEnterpriseConnect, *args: Any) -> Any:
        lookups.append(1)
        return None if len(lookups) == 1 else real(self, *args)

    monkeypatch.setattr(DynamoEnterpriseConnect, "find_service_account", not_yet_there)
    before = set(service_account_secrets(flow))
    outcome = browser.run(ec_url(flow, client), sign_in_as=admin_of(flow, "google"))
    assert outcome.kind == "code", outcome.text
    assert redeem(flow, client, outcome.params["code"]).json()["sub"] == client.service_account_id
    assert len(lookups) == 2
    # The secret made for the losing creation was deleted; the winner got its own.
    [created] = set(service_account_secrets(flow)) - before
    assert created.endswith(client.service_account_id)


def test_a_claim_of_a_vanished_service_account_does_not_block_the_domain(
    flow: FlowStack, browser: Browser
) -> None:
    from orgconnect.store import keys
    from orgconnect.store.dynamodb import to_item

    client = flow.new_client()
    claim = keys.service_account_domain_key(client.client_id, "microsoft_365", SECONDARY_DOMAIN)
    vanished = {**claim, "type": "service_account_domain", "service_account_id": "ser_" + "f" * 24}
    flow.aws("dynamodb").put_item(TableName=flow.info["aws"]["table_name"], Item=to_item(vanished))
    url = ec_url(flow, client, provider_name="microsoft_365")
    outcome = browser.run(url, sign_in_as=admin_of(flow, "microsoft"))
    assert outcome.kind == "code", outcome.text
    sub = redeem(flow, client, outcome.params["code"]).json()["sub"]
    assert sub not in (client.service_account_id, vanished["service_account_id"])
    [stored] = flow.table_items(claim["pk"])
    assert stored["service_account_id"] == sub
