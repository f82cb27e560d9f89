"""Server-to-Server connections are synced (docs/sync.md): adding one (``POST
/v1/organizational_unit/conferencing_connections``) queues its sync, which lists the directory
with ``account_credentials`` tokens and backfills the profiles of the OU's accounts; the schedule
and ``orgconnect sync`` include it; credentials Zoom refuses stop the sync, never the connection."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from orgconnect.cli import main
from tests.flow.harness import FlowStack
from tests.flow.s2s_helpers import add_connection, make_ou_token, zoom_credentials
from tests.sync.conftest import provision_accounts, wait_synced


@dataclass
class ServerToServer:
    flow: FlowStack
    connection_id: str
    accounts: dict[str, str]  # account id by email

    def connection_item(self) -> dict[str, Any]:
        (item,) = [
            i for i in self.flow.table_items(f"CONNECTION#{self.connection_id}") if i["sk"] == "CONNECTION"
        ]
        return item

    def profiles(self) -> dict[str, dict[str, Any]]:
        emails = {acc: email for email, acc in self.accounts.items()}
        return {
            emails[i["account_id"]]: i
            for i in self.flow.table_items("ACCOUNT#")
            if i["sk"] == f"CONFPROFILE#{self.connection_id}" and i["account_id"] in emails
        }


@pytest.fixture(scope="module")
def s2s(sync_stack: FlowStack) -> ServerToServer:
    """A fresh client whose OU holds accounts, then the paid Zoom account added to it with its
    Server-to-Server app: the add queued a sync, which ran through the queue."""
    flow = sync_stack
    client = flow.new_client()
    demo = flow.info["demo"]
    # Users no other test of the package changes at the (shared) Zoom simulator.
    emails = [*demo["zoom_active"][6:9], *demo["zoom_inactive"][1:2], *demo["no_zoom"][6:7]]
    accounts = provision_accounts(flow, emails, client=client)
    ou = make_ou_token(flow, client)
    response = add_connection(flow, ou.access_token, zoom_credentials(flow))
    assert response.status_code == 201, response.text
    connection_id = response.json()["conferencing_connection"]["connection_id"]
    wait_synced(flow, connection_id)
    return ServerToServer(flow, connection_id, accounts)


def test_adding_a_server_to_server_connection_backfills_its_profiles(s2s: ServerToServer) -> None:
    demo = s2s.flow.info["demo"]
    profiles = s2s.profiles()
    for email in demo["zoom_active"][6:9]:
        assert profiles[email]["status"] == "active" and profiles[email]["profile_id"].startswith("pro_")
    assert profiles[demo["zoom_inactive"][1]]["status"] == "inactive"
    assert demo["no_zoom"][6] not in profiles
    # The listing used the app's account_credentials tokens, never a refresh.
    grants = [
        r["params"].get("grant_type")
        for r in s2s.flow.simulator("zoom").requests()
        if r.get("path") == "/oauth/token"
    ]
    assert "account_credentials" in grants and "refresh_token" not in grants
    item = s2s.connection_item()
    assert item["status"] == "connected" and item["authorization_type"] == "server_to_server"


def test_the_schedule_and_the_cli_include_server_to_server_connections(
    s2s: ServerToServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from orgconnect import sync_runtime

    assert s2s.connection_id in sync_runtime.linked_connections()
    previous = wait_synced(s2s.flow, s2s.connection_id)
    dev_file = str(s2s.flow.stack.dev_file)
    assert main(["sync", "--connection", s2s.connection_id, "--dev", dev_file, "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "done" and summary["sync_id"] != previous["sync_id"]
    assert summary["profiles_changed"] == 0 and summary["matched"] == 4 and summary["unmatched"] == 1


def test_refused_app_credentials_stop_the_sync_not_the_connection(s2s: ServerToServer) -> None:
    from orgconnect import delegated_runtime, sync_runtime
    from orgconnect.workers.connection_sync_driver import run_in_process

    wait_synced(s2s.flow, s2s.connection_id)
    secrets = s2s.flow.aws("secretsmanager")
    arn = s2s.connection_item()["secret_arn"]
    kept = secrets.get_secret_value(SecretId=arn)["SecretString"]
    wrong = {**json.loads(kept), "client_secret": "not-the-app-secret"}
    secrets.put_secret_value(SecretId=arn, SecretString=json.dumps(wrong))
    delegated_runtime._SERVER_TO_SERVER_TOKENS.clear()  # a cold process: no token kept from before
    try:
        run = run_in_process(sync_runtime.connection_sync_job(), s2s.connection_id)
    finally:
        secrets.put_secret_value(SecretId=arn, SecretString=kept)
    assert not run.done and run.state.reason == "credentials_refused"
    item = s2s.connection_item()
    assert item["status"] == "connected"  # a sync never marks it needs_reauthorization
    assert all(p["status"] in {"active", "inactive"} for p in s2s.profiles().values())
