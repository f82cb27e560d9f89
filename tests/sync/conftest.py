"""A dev stack of its own for connection syncs (the real SQS event source of the sync worker, one
listed page per chunk so a sync takes several queue messages), the demo OU linked to Zoom after
accounts were provisioned (a backfill), and helpers to wait for a sync."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.flow.harness import Browser, Client, FlowStack, wait_for
from tests.package_stack import package_stack

SCHEDULE = "ConnectionSyncWorkerFunction.ScheduledReconcile"


@pytest.fixture(scope="package")
def sync_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlowStack]:
    env = {"ORGCONNECT_SYNC_PAGES_PER_CHUNK": "1"}  # several chunks through the queue
    with package_stack(Path(tmp_path_factory.mktemp("sync")), "sync", env) as flow:
        yield flow


def sync_item(flow: FlowStack, connection_id: str) -> dict[str, Any] | None:
    from orgconnect import runtime
    from orgconnect.store.sync_state import sync_key

    return runtime.get_store().read(sync_key(connection_id))


def wait_synced(flow: FlowStack, connection_id: str, *, not_sync_id: str | None = None) -> dict[str, Any]:
    """The SYNC item once a sync (other than ``not_sync_id``) is done."""

    def done() -> bool:
        item = sync_item(flow, connection_id)
        return item is not None and item.get("state") == "done" and item.get("sync_id") != not_sync_id

    wait_for(done, timeout=60)
    item = sync_item(flow, connection_id)
    assert item is not None
    return item


def provision_accounts(flow: FlowStack, emails: list[str], *, client: Client | None = None) -> dict[str, str]:
    """Accounts of the demo service account (or ``client``'s) for ``emails`` (as delegated access
    creates them), before any connection exists: account ids by email."""
    from orgconnect import runtime
    from orgconnect.domain.accounts import Account, CalendarProfile
    from orgconnect.domain.model import CalendarProvider
    from orgconnect.domain.secrets import new_id
    from orgconnect.store.accounts import DynamoAccounts

    accounts = DynamoAccounts(runtime.get_store(), clock=runtime.now)
    made = {}
    for email in emails:
        account, _ = accounts.create_or_get(
            Account(
                account_id=new_id("acc"),
                client_id=client.client_id if client else flow.info["client_id"],
                service_account_id=client.service_account_id if client else flow.info["service_account_id"],
                email=email.lower(),
                name=None,
                provider_user_id=f"g-{email}",
                profile=CalendarProfile(new_id("pro"), CalendarProvider.GOOGLE_WORKSPACE, email.lower()),
                created_at=runtime.now(),
            )
        )
        made[email.lower()] = account.account_id
    return made


@dataclass
class LinkedZoom:
    flow: FlowStack
    connection_id: str
    accounts: dict[str, str]  # account id by email

    @property
    def zoom(self) -> Any:
        return self.flow.simulator("zoom")

    def profiles(self) -> dict[str, dict[str, Any]]:
        """The stored profiles at this connection, by account email."""
        emails = {acc: email for email, acc in self.accounts.items()}
        items = [
            i
            for i in self.flow.table_items("ACCOUNT#")
            if i["sk"] == f"CONFPROFILE#{self.connection_id}" and i["account_id"] in emails
        ]
        return {emails[i["account_id"]]: i for i in items}


@pytest.fixture(scope="package")
def linked(sync_stack: FlowStack) -> LinkedZoom:
    """Accounts provisioned first (every kind of demo user), then Zoom linked: the link queued a
    sync, which ran through the queue and backfilled their profiles."""
    flow = sync_stack
    demo = flow.info["demo"]
    emails = [
        *demo["zoom_active"][:4],
        *demo["zoom_pending"][:1],
        *demo["zoom_inactive"][:1],
        *demo["no_zoom"][:2],
    ]
    accounts = provision_accounts(flow, emails)
    outcome = Browser(flow).run(flow.authorize_url(flow.demo_client(), provider="zoom_enterprise"))
    assert outcome.kind == "code", outcome.text
    (connection,) = [
        i
        for i in flow.table_items("CONNECTION#")
        if i.get("type") == "connection" and i["client_id"] == flow.info["client_id"]
    ]
    found = LinkedZoom(flow, connection["connection_id"], accounts)
    wait_synced(flow, found.connection_id)
    return found
