"""``orgconnect sync --dry-run`` against the dev stack (docs/provisioning.md): with provisioning
enabled and a user deactivated at Zoom, it lists the users provisioning would create and the
profile and directory changes the reconcile would make, and changes nothing: the table is the
same item for item, and Zoom saw only GETs (no token refresh, no write)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orgconnect.cli import main
from orgconnect.domain.provisioning_policy import ProvisioningPolicy
from tests.sync.conftest import LinkedZoom, wait_synced


def set_policy(linked: LinkedZoom, policy: ProvisioningPolicy) -> None:
    from orgconnect import runtime
    from orgconnect.store.provisioning_policy import DynamoProvisioningPolicies

    policies = DynamoProvisioningPolicies(runtime.get_store())
    subject = policies.get(linked.connection_id)
    assert subject is not None
    policies.replace(subject, policy, expected_version=None, now=runtime.now())


def snapshot(linked: LinkedZoom) -> list[dict[str, Any]]:
    return sorted(linked.flow.table_items(""), key=lambda i: (i["pk"], i["sk"]))


def test_a_dry_run_lists_what_would_change_and_writes_nothing(
    linked: LinkedZoom, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = linked.flow.info["demo"]
    wait_synced(linked.flow, linked.connection_id)
    deactivated = demo["zoom_active"][2]
    set_policy(linked, ProvisioningPolicy(enabled=True, create_users=True))
    zoom = linked.zoom
    # Its webhook is lost here (else the user event updates the profile first): the sync's to find.
    url, zoom.webhooks.url = zoom.webhooks.url, None
    zoom.update_user(deactivated, {"status": "inactive"})
    try:
        before = snapshot(linked)
        linked.zoom.clear_requests()
        dev_file = str(linked.flow.stack.dev_file)
        assert main(["sync", "--connection", linked.connection_id, "--dev", dev_file, "--dry-run"]) == 0
        out, err = capsys.readouterr()
        summary = json.loads(out)
        assert summary["dry_run"] is True and summary["status"] == "done", summary
        # The two demo accounts without a Zoom user would be created; nothing else is planned.
        creates = sorted(f"create {email}" for email in demo["no_zoom"][:2])
        assert sorted(summary["provisioning_actions"]) == creates
        assert summary["provisioning"]["create"] == 2
        assert sum(summary["provisioning"].values()) == 2
        # The reconcile: one profile whose user turned inactive, one directory item.
        assert (summary["profiles_added"], summary["profiles_changed"], summary["profiles_disconnected"]) == (
            0,
            1,
            0,
        )
        assert summary["directory_items_to_write"] == 1
        assert "dry run of the sync" in err and "provisioning to create" in err
        assert creates[0] in err
        # Nothing written: the table item for item, and only GETs at Zoom.
        assert snapshot(linked) == before
        calls = linked.zoom.requests()
        assert calls and {r["method"] for r in calls} == {"GET"}
        assert all(r["path"].startswith("/v2/users") for r in calls)
    finally:
        zoom.update_user(deactivated, {"status": "active"})  # as stored: no webhook needed
        zoom.webhooks.url = url
        set_policy(linked, ProvisioningPolicy())


@pytest.mark.parametrize("why", ["erased", "gone_from_calendar"])
def test_the_summary_shows_the_provisioning_actions_taken(
    linked: LinkedZoom, capsys: pytest.CaptureFixture[str], why: str
) -> None:
    """An account that left (revoked with PII erasure; or not in the calendar directory, which
    has no temp.leaver) loses its Zoom user per remove_action at the sync's end."""
    from orgconnect import runtime
    from orgconnect.domain.provisioning_policy import RemoveAction
    from orgconnect.store.accounts import account_email_key
    from orgconnect.store.provisioning_departed import DynamoDepartedAccounts, departed_pk
    from orgconnect.workers.connection_sync_driver import run_in_process
    from tests.sync.conftest import provision_accounts

    flow, zoom = linked.flow, linked.zoom
    wait_synced(flow, linked.connection_id)
    (connection,) = [
        i for i in flow.table_items(f"CONNECTION#{linked.connection_id}") if i["sk"] == "CONNECTION"
    ]
    email = "temp.leaver@example.com"
    (account_id,) = provision_accounts(flow, [email]).values()
    user = zoom.add_user({"email": email, "first_name": "Temp", "last_name": "Leaver", "status": "active"})
    store = runtime.get_store()
    if why == "erased":
        DynamoDepartedAccounts(store).record(connection["ou_id"], account_id, now=runtime.now())
    set_policy(
        linked, ProvisioningPolicy(enabled=True, deprovision_users=True, remove_action=RemoveAction.DELETE)
    )
    try:
        dev_file = str(flow.stack.dev_file)
        assert main(["sync", "--connection", linked.connection_id, "--dev", dev_file]) == 0
        out, err = capsys.readouterr()
        summary = json.loads(out)
        assert summary["dry_run"] is False
        assert summary["provisioning_actions"] == [f"remove {email} [{user['id']}] (delete)"]
        assert summary["provisioning"]["remove"] == 1
        assert sum(summary["provisioning"].values()) == 1
        assert "provisioning remove" in err
        assert zoom.directory.by_email(email) is None  # removed at Zoom
    finally:
        set_policy(linked, ProvisioningPolicy())
        db, table = store.client, store.table_name
        keys = [
            {"pk": i["pk"], "sk": i["sk"]}
            for i in flow.table_items(f"ACCOUNT#{account_id}")
            + flow.table_items(departed_pk(connection["ou_id"]))
        ]
        claim = account_email_key(flow.info["service_account_id"], email)
        for key in [*keys, claim]:
            db.delete_item(TableName=table, Key={k: {"S": v} for k, v in key.items()})
        # The next tests find the directory as Zoom has it.
        from orgconnect import sync_runtime

        assert run_in_process(sync_runtime.connection_sync_job(), linked.connection_id).done
