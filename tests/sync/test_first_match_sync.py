"""A first match on a connection whose directory was never listed runs the sync job in the
delegated-access worker itself (docs/matching.md, step 2), under that worker's IAM policy."""

from __future__ import annotations

from typing import Any

from devstack import iam
from tests.sync.conftest import LinkedZoom, provision_accounts, wait_synced


def _worker_policy(linked: LinkedZoom) -> Any:
    (poller,) = [
        p
        for p in linked.flow.stack.event_sources
        if p.mapping.spec.logical_id == "DelegatedAccessWorkerFunction"
    ]
    return poller._policy


def test_a_never_listed_directory_is_synced_by_the_first_match(linked: LinkedZoom) -> None:
    from orgconnect import delegated_runtime, runtime
    from orgconnect.store.accounts import DynamoAccounts

    before = wait_synced(linked.flow, linked.connection_id)
    store = runtime.get_store()
    for item in linked.flow.table_items(f"DIRECTORY#{linked.connection_id}"):  # as if never listed
        key = {"pk": {"S": item["pk"]}, "sk": {"S": item["sk"]}}
        store.client.delete_item(TableName=store.table_name, Key=key)
    email = linked.flow.info["demo"]["zoom_active"][6]
    (account_id,) = provision_accounts(linked.flow, [email]).values()
    account = DynamoAccounts(store, clock=runtime.now).get(account_id)
    assert account is not None
    ou_id = before_ou(linked)
    linked.zoom.clear_requests()
    with iam.acting_as(_worker_policy(linked)):
        (profile,) = delegated_runtime.conferencing_matcher().match_account(account, ou_id)
    assert profile.connected and profile.profile_name == email
    after = wait_synced(linked.flow, linked.connection_id)
    assert after["sync_id"] != before["sync_id"] and after["stats"]["profile_writes"] == 1
    paths = [r["path"] for r in linked.zoom.requests() if r.get("method") == "GET"]
    assert paths == ["/v2/users"] * 3  # one listing per status, no lookup by email


def before_ou(linked: LinkedZoom) -> str:
    (connection,) = [
        i for i in linked.flow.table_items(f"CONNECTION#{linked.connection_id}") if i["sk"] == "CONNECTION"
    ]
    return str(connection["ou_id"])
