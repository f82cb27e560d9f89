"""A policy-off removal that outgrows its request, end to end on the dev stack (local API Gateway
with the template's IAM, the SQS sync worker, the Zoom simulator): the PUT turning the policy off
removes what its limit allows (here 1 user) or, Zoom failing, none; the rest shows as the policy's
``pending_removal`` and the connection's next sync (the one the PUT asked for, held back by the test
and then queued) removes it and clears it; a PUT enabling the policy again cancels it."""

from __future__ import annotations

from typing import Any

import pytest

from orgconnect import sync_runtime
from orgconnect.store.connection_sync import SqsConnectionSyncQueue
from orgconnect.workers import provisioning_removal
from orgconnect.workers.connection_sync import SyncMessage
from tests.delegated.conftest import CallbackReceiver
from tests.flow.harness import wait_for
from tests.matching.test_matching_flow import account_token
from tests.provisioning.conftest import ProvisionedOu
from tests.provisioning.test_provisioning_flow import events_page, zoom_user

ON = {"enabled": True, "create_users": True, "deprovision_on_policy_removal": True, "remove_action": "delete"}


def policy_url(ou: ProvisionedOu) -> str:
    return (
        f"{ou.flow.info['api_url']}/v1/organizational_unit/conferencing_connections/"
        f"{ou.connection_id}/provisioning"
    )


def put_policy(ou: ProvisionedOu, **settings: Any) -> dict[str, Any]:
    response = ou.flow.api.put(
        policy_url(ou),
        headers={"Authorization": f"Bearer {ou.ou.access_token}"},
        json={"provisioning": settings},
    )
    assert response.status_code == 200, response.text
    return dict(response.json()["provisioning"])


def get_policy(ou: ProvisionedOu) -> dict[str, Any]:
    response = ou.flow.api.get(policy_url(ou), headers={"Authorization": f"Bearer {ou.ou.access_token}"})
    assert response.status_code == 200, response.text
    return dict(response.json()["provisioning"])


@pytest.fixture
def sync_requests(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The syncs the API asks for, held back, so that the test runs the next sync itself."""
    requested: list[str] = []

    def hold(connection_id: str) -> bool:
        requested.append(connection_id)
        return True

    monkeypatch.setattr(sync_runtime, "request_connection_sync", hold)
    return requested


def created_users(ou: ProvisionedOu, receiver: CallbackReceiver, count: int) -> list[str]:
    """``count`` demo people without Zoom, each given a Zoom user by provisioning."""
    put_policy(ou, **ON)
    emails = [ou.person_without_zoom() for _ in range(count)]
    for email in emails:
        account_token(ou.flow, receiver, email)
        assert zoom_user(ou, email) is not None
    return emails


def removed_by_the_next_sync(ou: ProvisionedOu, emails: list[str]) -> None:
    """The sync the API asked for, queued now (only this connection's: the package's other tests
    see no sync of theirs running), removes the rest and clears the pending removal."""
    queue = SqsConnectionSyncQueue(ou.flow.aws("sqs"), ou.flow.info["queues"]["ConnectionSyncQueue"])
    queue.send(SyncMessage(ou.connection_id).to_message())
    wait_for(lambda: get_policy(ou)["pending_removal"] is None, timeout=60)
    ou.flow.wait_sync_ended(ou.connection_id)
    assert [e for e in emails if zoom_user(ou, e) is not None] == []
    events = events_page(ou.flow, ou.ou.access_token).json()["provisioning_events"]
    removed = {e["provider_user_id"] for e in events if e["action"] == "remove" and e["result"] == "ok"}
    assert len(removed) >= len(emails)


def test_what_the_request_leaves_is_pending_until_the_next_sync_removes_it(
    provisioned_ou: ProvisionedOu,
    receiver: CallbackReceiver,
    sync_requests: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ou = provisioned_ou
    emails = created_users(ou, receiver, 3)
    monkeypatch.setattr(provisioning_removal, "MAX_REMOVALS", 1)
    answer = put_policy(ou, enabled=False)
    assert answer["pending_removal"] is not None and answer["pending_removal"]["remove_action"] == "delete"
    assert get_policy(ou)["pending_removal"] == answer["pending_removal"]
    assert len([e for e in emails if zoom_user(ou, e) is not None]) == 2
    assert sync_requests == [ou.connection_id]
    removed_by_the_next_sync(ou, emails)


def test_zoom_failing_in_the_request_leaves_it_pending_and_a_put_enabling_cancels(
    provisioned_ou: ProvisionedOu, receiver: CallbackReceiver, sync_requests: list[str]
) -> None:
    ou = provisioned_ou
    zoom = ou.flow.simulator("zoom")
    emails = created_users(ou, receiver, 2)
    zoom.add_fault("api", "503", count=100, path_prefix="/v2/users/")
    try:
        answer = put_policy(ou, enabled=False)
    finally:
        zoom.clear_faults()
    assert answer["pending_removal"] is not None
    assert [e for e in emails if zoom_user(ou, e) is None] == []
    assert sync_requests == [ou.connection_id]
    removed_by_the_next_sync(ou, emails)
    # Again, and this time the policy is enabled before any sync: the pending removal is gone.
    emails = created_users(ou, receiver, 2)
    zoom.add_fault("api", "503", count=100, path_prefix="/v2/users/")
    try:
        assert put_policy(ou, enabled=False)["pending_removal"] is not None
    finally:
        zoom.clear_faults()
    assert put_policy(ou, **ON)["pending_removal"] is None
    assert get_policy(ou)["pending_removal"] is None
    assert [e for e in emails if zoom_user(ou, e) is None] == []  # the new policy counts: kept
