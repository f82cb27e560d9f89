"""provisioning_runtime's policy-off wiring on moto: a PUT's removal that leaves users records the
pending removal at the version the PUT wrote and asks for a sync; one that finished records
nothing; one that lost to a later PUT records nothing; a DELETE removes with the pending removal's
policy and logs how many users it left."""

from __future__ import annotations

import pytest

from orgconnect import provisioning_runtime, runtime, sync_runtime
from orgconnect.domain.conferencing_connections import ManagedConnection
from orgconnect.domain.provisioning_policy import PendingRemoval, ProvisioningPolicy, RemoveAction
from orgconnect.store.conferencing_connections import DynamoConferencingConnections
from orgconnect.store.provisioning_policy import DynamoProvisioningPolicies
from orgconnect.workers.provisioning_removal import RemovalOutcome
from tests.integration.test_provisioning_policy_store import NOW, add_connection, new_ou

TURNED_OFF = ProvisioningPolicy(
    enabled=True, create_users=True, deprovision_on_policy_removal=True, remove_action=RemoveAction.DELETE
)


class Wiring:
    """The connection, and what the removal and the sync queue were asked."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, left: int) -> None:
        store = runtime.get_store()
        self.policies = DynamoProvisioningPolicies(store)
        self.connection = add_connection(DynamoConferencingConnections(store, clock=lambda: NOW), new_ou())
        self.removed_with: list[ProvisioningPolicy] = []
        self.syncs: list[str] = []

        def remove(connection: ManagedConnection, policy: ProvisioningPolicy) -> RemovalOutcome:
            self.removed_with.append(policy)
            return RemovalOutcome([], left=left)

        def request_sync(connection_id: str) -> bool:
            self.syncs.append(connection_id)
            return True

        class Profiles:
            def connection(_, connection_id: str) -> ManagedConnection | None:
                return self.connection if connection_id == self.connection.connection_id else None

        from orgconnect import delegated_runtime

        monkeypatch.setattr(provisioning_runtime, "remove_provisioned_users", remove)
        monkeypatch.setattr(sync_runtime, "request_connection_sync", request_sync)
        monkeypatch.setattr(delegated_runtime, "conferencing_profiles", Profiles)
        monkeypatch.setattr(runtime, "now", lambda: NOW + 5)

    def put(self, policy: ProvisioningPolicy) -> int:
        subject = self.policies.get(self.connection.connection_id)
        assert subject is not None
        return self.policies.replace(subject, policy, expected_version=None, now=NOW).version

    def pending(self) -> PendingRemoval | None:
        subject = self.policies.get(self.connection.connection_id)
        assert subject is not None
        return subject.stored.pending_removal


def test_users_left_record_a_pending_removal_and_ask_for_a_sync(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    wiring = Wiring(monkeypatch, left=3)
    wiring.put(TURNED_OFF)
    version = wiring.put(ProvisioningPolicy())
    cnx = wiring.connection.connection_id
    stored = wiring.policies.get(cnx)
    assert stored is not None
    pending = provisioning_runtime.on_policy_turned_off(cnx, TURNED_OFF, stored.stored)
    assert pending == PendingRemoval(TURNED_OFF, NOW + 5) == wiring.pending()
    assert wiring.syncs == [cnx] and wiring.removed_with == [TURNED_OFF] and version == 2


def test_a_finished_removal_or_a_later_put_records_nothing(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    done = Wiring(monkeypatch, left=0)
    done.put(TURNED_OFF)
    done.put(ProvisioningPolicy())
    cnx = done.connection.connection_id
    subject = done.policies.get(cnx)
    assert subject is not None
    assert provisioning_runtime.on_policy_turned_off(cnx, TURNED_OFF, subject.stored) is None
    assert done.pending() is None and done.syncs == []
    raced = Wiring(monkeypatch, left=-1)  # no plan could be made (Zoom down, no token)
    raced.put(TURNED_OFF)
    raced.put(ProvisioningPolicy())
    cnx = raced.connection.connection_id
    subject = raced.policies.get(cnx)
    assert subject is not None
    raced.put(TURNED_OFF)  # another PUT came first: its policy counts
    assert provisioning_runtime.on_policy_turned_off(cnx, TURNED_OFF, subject.stored) is None
    assert raced.pending() is None and raced.syncs == []


def test_a_delete_removes_with_the_pending_policy_and_logs_how_many_are_left(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    wiring = Wiring(monkeypatch, left=7)
    wiring.put(TURNED_OFF)
    version = wiring.put(ProvisioningPolicy())
    cnx = wiring.connection.connection_id
    assert wiring.policies.record_pending_removal(cnx, PendingRemoval(TURNED_OFF, NOW), version=version)
    provisioning_runtime.before_connection_removed(wiring.connection)
    assert wiring.removed_with == [TURNED_OFF]
    (record,) = [r for r in caplog.records if "the connection is removed" in r.getMessage()]
    assert record.levelname == "WARNING" and getattr(record, "left", None) == 7
