"""Profile notifications from connection syncs (docs/notifications.md), on the notifications dev
stack: the link's sync that backfills a connected profile sends ``profile_connected``; a reconcile
that finds the Zoom user deactivated (its webhook lost) sends a signed ``profile_disconnected``,
queued by the sync worker itself (its template policy). Named to run before the store and unit
modules of this package, whose fixtures move the process environment away from its stack."""

from __future__ import annotations

from typing import Any

from tests.flow.harness import Browser, FlowStack, wait_for
from tests.notifications.integrator import Integrator


def provision_account(flow: FlowStack, client_id: str, service_account_id: str, email: str) -> str:
    """An account of the client's service account (as delegated access creates one): its id."""
    from orgconnect import runtime
    from orgconnect.domain.accounts import Account, CalendarProfile
    from orgconnect.domain.model import CalendarProvider
    from orgconnect.domain.secrets import new_id
    from orgconnect.store.accounts import DynamoAccounts

    account, _ = DynamoAccounts(runtime.get_store(), clock=runtime.now).create_or_get(
        Account(
            account_id=new_id("acc"),
            client_id=client_id,
            service_account_id=service_account_id,
            email=email,
            name=None,
            provider_user_id=f"g-{email}",
            profile=CalendarProfile(new_id("pro"), CalendarProvider.GOOGLE_WORKSPACE, email),
            created_at=runtime.now(),
        )
    )
    return account.account_id


def sync_done(flow: FlowStack, connection_id: str, *, not_sync_id: str | None = None) -> dict[str, Any]:
    from orgconnect import runtime
    from orgconnect.store.sync_state import sync_key

    def item() -> dict[str, Any] | None:
        return runtime.get_store().read(sync_key(connection_id))

    def done() -> bool:
        found = item()
        return found is not None and found.get("state") == "done" and found.get("sync_id") != not_sync_id

    wait_for(done, timeout=60)
    found = item()
    assert found is not None
    return found


def test_a_reconcile_that_deactivates_a_user_sends_profile_disconnected(
    integrator: Integrator, browser: Browser
) -> None:
    from orgconnect import sync_runtime

    flow, receiver = integrator.flow, integrator.receiver
    client = flow.new_client()
    email = flow.info["demo"]["zoom_active"][11]
    account_id = provision_account(flow, client.client_id, client.service_account_id, email)
    path = integrator.listen(client)
    outcome = browser.run(flow.authorize_url(client))
    assert outcome.kind == "code", outcome.text
    (connection,) = [
        c
        for c in flow.table_items("CONNECTION#")
        if c.get("type") == "connection" and c["client_id"] == client.client_id
    ]
    connection_id = connection["connection_id"]
    first = sync_done(flow, connection_id)
    # The link's sync matched the account: a new connected profile.
    (connected,) = integrator.received(path, 1)
    assert connected["type"] == "profile_connected" and connected["account_id"] == account_id
    assert connected["connection_id"] == connection_id and connected["profile_connected"] is True

    zoom = flow.simulator("zoom")
    url, zoom.webhooks.url = zoom.webhooks.url, None  # the user event is lost: the reconcile catches up
    try:
        zoom.update_user(email, {"status": "inactive"})
        assert sync_runtime.request_connection_sync(connection_id)  # the sync worker's own chunks
        sync_done(flow, connection_id, not_sync_id=first["sync_id"])
        _, disconnected = integrator.received(path, 2)
    finally:
        zoom.update_user(email, {"status": "active"})
        zoom.webhooks.url = url
    assert disconnected["type"] == "profile_disconnected" and disconnected["profile_connected"] is False
    assert disconnected["profile_id"] == connected["profile_id"]
    assert disconnected["account_id"] == account_id
    assert not receiver.refused.get(path)  # every delivery carried a valid signature
    assert "token" not in str(disconnected).lower()
