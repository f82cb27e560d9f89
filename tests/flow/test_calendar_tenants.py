"""capabilities[]=calendars with a tenant that is already there (issue 7, 1b): a code, never a 500,
the tenant once, and its created_at kept."""

from __future__ import annotations

from devstack.browser import Outcome
from tests.flow.harness import Browser, Client, FlowStack
from tests.values import replace


def _calendars(flow: FlowStack, client: Client, choice: str, ou_name: str | None = None) -> Outcome:
    browser = Browser(flow)
    start = browser.get(flow.authorize_url(client, provider=None, capability="calendars"))
    return browser.drive(browser.get(start.headers["location"]), choose=choice, ou_name=ou_name)


def test_linking_the_flows_own_tenant_issues_a_code_and_adds_no_second_account(flow: FlowStack) -> None:
    client = flow.new_client(policy="never")  # its service account: Google Workspace example.com
    outcome = _calendars(flow, client, "google_workspace")
    assert outcome.kind == "code", outcome.text
    accounts = [a for a in flow.table_items("SERVICEACCOUNT#") if a["client_id"] == client.client_id]
    assert [a["service_account_id"] for a in accounts] == [client.service_account_id]
    assert accounts[0]["organizational_unit_id"]


def test_relinking_a_tenant_that_is_the_flows_own_service_account(flow: FlowStack) -> None:
    client = flow.new_client(policy="never")
    assert _calendars(flow, client, "microsoft_365", ou_name="Group").kind == "code"
    (tenant,) = [
        a
        for a in flow.table_items("SERVICEACCOUNT#")
        if a["client_id"] == client.client_id and a["service_account_id"] != client.service_account_id
    ]
    # The integrator now sends a link token for the linked tenant itself and links it again.
    as_tenant = replace(client, service_account_id=tenant["service_account_id"])
    outcome = _calendars(flow, as_tenant, "microsoft_365")
    assert outcome.kind == "code", outcome.text
    (again,) = [
        a
        for a in flow.table_items("SERVICEACCOUNT#")
        if a["service_account_id"] == tenant["service_account_id"]
    ]
    assert again["created_at"] == tenant["created_at"]
    assert again["organizational_unit_id"] == tenant["organizational_unit_id"]
    accounts = [a for a in flow.table_items("SERVICEACCOUNT#") if a["client_id"] == client.client_id]
    assert len(accounts) == 2
