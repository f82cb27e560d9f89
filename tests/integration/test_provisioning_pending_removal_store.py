"""store/provisioning_policy.py's pending removal on moto and on DynamoDB Local: recorded and
cleared only at the policy version it belongs to (a concurrent PUT wins), dropped by any PUT,
read with the policy, and gone with the connection."""

from __future__ import annotations

import pytest

from orgconnect import runtime
from orgconnect.domain.conferencing_connections import ManagedConnection
from orgconnect.domain.provisioning_policy import PendingRemoval, ProvisioningPolicy, RemoveAction
from orgconnect.domain.provisioning_policy_management import PolicySubject
from orgconnect.store.conferencing_connections import DynamoConferencingConnections
from orgconnect.store.provisioning_policy import DynamoProvisioningPolicies
from tests.integration.test_provisioning_policy_store import NOW, add_connection, new_ou

pytestmark = pytest.mark.every_dynamodb
pytest_plugins = ["tests.integration.token_fixtures"]

TURNED_OFF = ProvisioningPolicy(
    enabled=True, create_users=True, deprovision_on_policy_removal=True, remove_action=RemoveAction.DELETE
)
PENDING = PendingRemoval(TURNED_OFF, NOW + 5)


@pytest.fixture
def connections(aws: dict[str, str]) -> DynamoConferencingConnections:
    return DynamoConferencingConnections(runtime.get_store(), clock=lambda: NOW)


@pytest.fixture
def policies(aws: dict[str, str]) -> DynamoProvisioningPolicies:
    return DynamoProvisioningPolicies(runtime.get_store())


def turned_off(policies: DynamoProvisioningPolicies, connections: DynamoConferencingConnections) -> str:
    """A connection whose policy was turned on (version 1), then off (version 2)."""
    connection = add_connection(connections, new_ou())
    subject = subject_of_id(policies, connection.connection_id)
    policies.replace(subject, TURNED_OFF, expected_version=None, now=NOW)
    policies.replace(subject, ProvisioningPolicy(), expected_version=None, now=NOW + 5)
    return connection.connection_id


def test_recorded_at_its_version_read_with_the_policy_and_cleared(
    policies: DynamoProvisioningPolicies, connections: DynamoConferencingConnections
) -> None:
    cnx = turned_off(policies, connections)
    assert policies.record_pending_removal(cnx, PENDING, version=2) is True
    stored = subject_of_id(policies, cnx).stored
    assert (stored.version, stored.policy.enabled, stored.pending_removal) == (2, False, PENDING)
    # Another pending removal's clear (other since) or another version's leaves it.
    assert policies.clear_pending_removal(cnx, version=2, since=NOW) is False
    assert policies.clear_pending_removal(cnx, version=1, since=PENDING.since) is False
    assert subject_of_id(policies, cnx).stored.pending_removal == PENDING
    assert policies.clear_pending_removal(cnx, version=2, since=PENDING.since) is True
    assert subject_of_id(policies, cnx).stored.pending_removal is None
    assert policies.clear_pending_removal(cnx, version=2, since=PENDING.since) is False  # a repeat


def test_a_later_put_wins_over_the_record_and_any_put_drops_it(
    policies: DynamoProvisioningPolicies, connections: DynamoConferencingConnections
) -> None:
    cnx = turned_off(policies, connections)
    # A PUT came between the removal and its record: the record is refused.
    policies.replace(subject_of_id(policies, cnx), ProvisioningPolicy(), expected_version=2, now=NOW + 6)
    assert policies.record_pending_removal(cnx, PENDING, version=2) is False
    assert subject_of_id(policies, cnx).stored.pending_removal is None
    assert policies.record_pending_removal(cnx, PENDING, version=3) is True
    stored = policies.replace(
        subject_of_id(policies, cnx), ProvisioningPolicy(enabled=True), expected_version=3, now=NOW + 7
    )
    assert stored.pending_removal is None
    assert subject_of_id(policies, cnx).stored.pending_removal is None


def test_gone_with_the_connection(
    policies: DynamoProvisioningPolicies, connections: DynamoConferencingConnections
) -> None:
    cnx = turned_off(policies, connections)
    assert policies.record_pending_removal(cnx, PENDING, version=2) is True
    connection = connections.get(cnx)
    assert isinstance(connection, ManagedConnection)
    connections.remove(connection, now=NOW + 10, keep_until=NOW + 3600)
    assert policies.get(cnx) is None
    assert policies.record_pending_removal(cnx, PENDING, version=2) is False  # no connection: no record


def subject_of_id(policies: DynamoProvisioningPolicies, connection_id: str) -> PolicySubject:
    found = policies.get(connection_id)
    assert found is not None
    return found
