"""The provisioning-policy repository's contract, run against the in-memory fake of the unit
tests (tests/provisioning_fakes.py) and the DynamoDB repository (moto and DynamoDB Local), so the
fake cannot drift: defaults at version 0, one version per write, stale versions and other OUs'
connections refused, removed connections gone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from orgconnect.domain.conferencing_connections import ConnectionNotFound
from orgconnect.domain.model import OrganizationalUnit
from orgconnect.domain.provisioning_policy import ProvisioningPolicy, StoredPolicy
from orgconnect.domain.provisioning_policy_management import (
    PolicySubject,
    ProvisioningPolicyRepository,
    StaleVersion,
)
from orgconnect.domain.secrets import new_id
from tests.values import replace

pytestmark = pytest.mark.every_dynamodb
NOW = 1_900_000_000
ENABLED = ProvisioningPolicy(enabled=True, page_size=120)


@dataclass
class Backend:
    policies: ProvisioningPolicyRepository
    add_organizational_unit: Callable[[OrganizationalUnit], None]
    add_connection: Callable[[OrganizationalUnit, str], str]
    remove_connection: Callable[[str], None]


def _memory() -> Backend:
    from tests.provisioning_fakes import MemoryPolicies

    policies = MemoryPolicies()
    return Backend(policies, policies.add_organizational_unit, policies.add, policies.remove)


def _dynamodb() -> Backend:
    from orgconnect import runtime
    from orgconnect.domain.conferencing_connections import AuthorizationType, ManagedConnection
    from orgconnect.domain.model import ConnectionStatus
    from orgconnect.store.conferencing_connections import DynamoConferencingConnections
    from orgconnect.store.dynamodb import to_item
    from orgconnect.store.organization import organizational_unit_item
    from orgconnect.store.provisioning_policy import DynamoProvisioningPolicies

    store = runtime.get_store()
    connections = DynamoConferencingConnections(store, clock=lambda: NOW)
    added: dict[str, ManagedConnection] = {}

    def add_ou(ou: OrganizationalUnit) -> None:
        store.client.put_item(TableName=store.table_name, Item=to_item(organizational_unit_item(ou)))

    def add(ou: OrganizationalUnit, provider: str) -> str:
        connection = ManagedConnection(
            new_id("cnx"), ou.ou_id, ou.client_id, provider, new_id("acc"), "Example",
            ConnectionStatus.CONNECTED, "arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
            AuthorizationType.SERVER_TO_SERVER, NOW, NOW, NOW,
        )  # fmt: skip
        connections.add(connection)
        added[connection.connection_id] = connection
        return connection.connection_id

    def remove(connection_id: str) -> None:
        connections.remove(added[connection_id], now=NOW, keep_until=NOW + 60)

    return Backend(DynamoProvisioningPolicies(store), add_ou, add, remove)


@pytest.fixture(params=["memory", "dynamodb"])
def backend(request: pytest.FixtureRequest, aws: dict[str, str]) -> Backend:
    """Each backend in turn; ``aws`` is asked for statically (the fake ignores it) so that the
    DynamoDB side runs on each of its backends, as in tests/contract/conftest.py."""
    return _dynamodb() if request.param == "dynamodb" else _memory()


@pytest.fixture
def ou(backend: Backend) -> OrganizationalUnit:
    found = OrganizationalUnit(new_id("ou"), new_id("cli"), "Acme", NOW)
    backend.add_organizational_unit(found)
    return found


def subject(backend: Backend, connection_id: str) -> PolicySubject:
    found = backend.policies.get(connection_id)
    assert found is not None
    return found


def test_a_new_connection_reads_as_the_defaults(backend: Backend, ou: OrganizationalUnit) -> None:
    cnx = backend.add_connection(ou, "webex_enterprise")
    assert backend.policies.get(cnx) == PolicySubject(
        cnx, ou.ou_id, ou.client_id, "webex_enterprise", StoredPolicy(ProvisioningPolicy())
    )
    assert backend.policies.get_organizational_unit(ou.ou_id) == ou
    assert backend.policies.get(new_id("cnx")) is None
    assert backend.policies.get_organizational_unit(new_id("ou")) is None


def test_each_write_is_the_next_version_and_a_stale_one_changes_nothing(
    backend: Backend, ou: OrganizationalUnit
) -> None:
    cnx = backend.add_connection(ou, "zoom_enterprise")
    first = backend.policies.replace(subject(backend, cnx), ENABLED, expected_version=0, now=NOW + 1)
    assert first == StoredPolicy(ENABLED, 1, NOW + 1)
    second = backend.policies.replace(
        subject(backend, cnx), ProvisioningPolicy(), expected_version=None, now=NOW
    )
    assert second.version == 2
    for stale in (0, 1, 3):
        with pytest.raises(StaleVersion) as lost:
            backend.policies.replace(subject(backend, cnx), ENABLED, expected_version=stale, now=NOW)
        assert (lost.value.sent, lost.value.current) == (stale, 2)
    assert subject(backend, cnx).stored == second


def test_other_ous_and_removed_connections_are_not_written(backend: Backend, ou: OrganizationalUnit) -> None:
    cnx = backend.add_connection(ou, "zoom_enterprise")
    forged = replace(subject(backend, cnx), ou_id=new_id("ou"))
    with pytest.raises(ConnectionNotFound):
        backend.policies.replace(forged, ENABLED, expected_version=None, now=NOW)
    current = subject(backend, cnx)
    backend.remove_connection(cnx)
    assert backend.policies.get(cnx) is None
    with pytest.raises(ConnectionNotFound):
        backend.policies.replace(current, ENABLED, expected_version=None, now=NOW)
