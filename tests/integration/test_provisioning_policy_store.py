"""store/provisioning_policy.py on moto and on DynamoDB Local: the policy on its connection item,
versioned by one conditional UpdateItem (concurrent writers each get their own version; a stale
expected version loses), kept by status writes, gone with the connection, and in the OU view."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from orgconnect import runtime
from orgconnect.domain.conferencing_connections import (
    AuthorizationType,
    ConnectionNotFound,
    ManagedConnection,
)
from orgconnect.domain.model import ConnectionStatus, OrganizationalUnit
from orgconnect.domain.provisioning_policy import ProvisioningPolicy, RemoveAction, StoredPolicy, parse_policy
from orgconnect.domain.provisioning_policy_management import PolicySubject, StaleVersion
from orgconnect.domain.secrets import new_id
from orgconnect.store.conferencing_connections import DynamoConferencingConnections
from orgconnect.store.dynamodb import to_item
from orgconnect.store.organization import organizational_unit_item
from orgconnect.store.provisioning_policy import DynamoProvisioningPolicies
from tests.values import replace

pytestmark = pytest.mark.every_dynamodb
pytest_plugins = ["tests.integration.token_fixtures"]
NOW = 1_900_000_000
WRITERS = 8


def new_ou() -> OrganizationalUnit:
    ou = OrganizationalUnit(new_id("ou"), new_id("cli"), "Acme", NOW)
    store = runtime.get_store()
    store.client.put_item(TableName=store.table_name, Item=to_item(organizational_unit_item(ou)))
    return ou


def add_connection(
    connections: DynamoConferencingConnections, ou: OrganizationalUnit, provider: str = "zoom_enterprise"
) -> ManagedConnection:
    connection = ManagedConnection(
        new_id("cnx"), ou.ou_id, ou.client_id, provider, new_id("acc"), "Example Corp",
        ConnectionStatus.CONNECTED, "arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
        AuthorizationType.SERVER_TO_SERVER, NOW, NOW, NOW,
    )  # fmt: skip
    connections.add(connection)
    return connection


@pytest.fixture
def connections(aws: dict[str, str]) -> DynamoConferencingConnections:
    return DynamoConferencingConnections(runtime.get_store(), clock=lambda: NOW)


@pytest.fixture
def policies(aws: dict[str, str]) -> DynamoProvisioningPolicies:
    return DynamoProvisioningPolicies(runtime.get_store())


def subject_of(policies: DynamoProvisioningPolicies, connection: ManagedConnection) -> PolicySubject:
    found = policies.get(connection.connection_id)
    assert found is not None
    return found


FULL = parse_policy(
    {
        "enabled": True,
        "create_users": True,
        "remove_action": "delete",
        "attribute_mapping": {"email": {"directory": "email"}, "organization": {"constant": "Acme"}},
        "page_size": 120,
        "io_retries": 3,
    }
)[0]


def test_a_policy_is_stored_on_its_connection_and_read_back(
    connections: DynamoConferencingConnections, policies: DynamoProvisioningPolicies
) -> None:
    ou = new_ou()
    connection = add_connection(connections, ou)
    subject = subject_of(policies, connection)
    assert subject == PolicySubject(
        connection.connection_id,
        ou.ou_id,
        ou.client_id,
        "zoom_enterprise",
        StoredPolicy(ProvisioningPolicy()),
    )
    assert policies.get_organizational_unit(ou.ou_id) == ou

    stored = policies.replace(subject, FULL, expected_version=0, now=NOW + 5)

    assert stored == StoredPolicy(FULL, 1, NOW + 5)
    assert stored.policy.remove_action is RemoveAction.DELETE and stored.policy.page_size == 120
    assert subject_of(policies, connection).stored == stored
    # A status write (a test, a relink's SET of named attributes) keeps the policy.
    connections.set_status(replace(connection, status=ConnectionStatus.NEEDS_REAUTHORIZATION))
    assert subject_of(policies, connection).stored == stored
    second = policies.replace(subject, ProvisioningPolicy(), expected_version=None, now=NOW + 6)
    assert second == StoredPolicy(ProvisioningPolicy(), 2, NOW + 6)


def test_a_stale_expected_version_changes_nothing(
    connections: DynamoConferencingConnections, policies: DynamoProvisioningPolicies
) -> None:
    connection = add_connection(connections, new_ou())
    subject = subject_of(policies, connection)
    first = policies.replace(subject, FULL, expected_version=0, now=NOW)
    for stale in (0, 2):
        with pytest.raises(StaleVersion) as lost:
            policies.replace(subject, ProvisioningPolicy(), expected_version=stale, now=NOW + 1)
        assert (lost.value.sent, lost.value.current) == (stale, 1)
    assert subject_of(policies, connection).stored == first
    assert policies.replace(subject, ProvisioningPolicy(), expected_version=1, now=NOW + 2).version == 2


def test_concurrent_writers_each_get_their_own_version(
    connections: DynamoConferencingConnections,
    policies: DynamoProvisioningPolicies,
) -> None:
    connection = add_connection(connections, new_ou())
    subject = subject_of(policies, connection)
    start = threading.Barrier(WRITERS)

    def put(size: int) -> int:
        start.wait()
        return policies.replace(
            subject, ProvisioningPolicy(page_size=size), expected_version=None, now=NOW
        ).version

    with ThreadPoolExecutor(WRITERS) as pool:
        versions = list(pool.map(put, range(100, 100 + WRITERS)))

    assert sorted(versions) == list(range(1, WRITERS + 1))
    last = subject_of(policies, connection).stored
    assert last.version == WRITERS
    assert last.policy.page_size == 100 + versions.index(WRITERS)  # the last writer's policy


def test_of_concurrent_writers_at_one_version_exactly_one_wins(
    connections: DynamoConferencingConnections,
    policies: DynamoProvisioningPolicies,
) -> None:
    connection = add_connection(connections, new_ou())
    subject = subject_of(policies, connection)
    start = threading.Barrier(WRITERS)

    def put(size: int) -> int:
        start.wait()
        try:
            policy = ProvisioningPolicy(page_size=size)
            return policies.replace(subject, policy, expected_version=0, now=NOW).version
        except StaleVersion as stale:
            return -stale.current  # the version that won, negated

    with ThreadPoolExecutor(WRITERS) as pool:
        outcomes = list(pool.map(put, range(100, 100 + WRITERS)))

    assert outcomes.count(1) == 1 and outcomes.count(-1) == WRITERS - 1
    assert subject_of(policies, connection).stored.policy.page_size == 100 + outcomes.index(1)


def test_a_removed_connection_has_no_policy(
    connections: DynamoConferencingConnections, policies: DynamoProvisioningPolicies
) -> None:
    connection = add_connection(connections, new_ou())
    subject = subject_of(policies, connection)
    connections.remove(connection, now=NOW, keep_until=NOW + 60)
    assert policies.get(connection.connection_id) is None
    for version in (None, 0):
        with pytest.raises(ConnectionNotFound):
            policies.replace(subject, FULL, expected_version=version, now=NOW)


def test_another_ous_subject_is_never_written(
    connections: DynamoConferencingConnections, policies: DynamoProvisioningPolicies
) -> None:
    connection = add_connection(connections, new_ou())
    forged = replace(subject_of(policies, connection), ou_id=new_id("ou"))
    with pytest.raises(ConnectionNotFound):
        policies.replace(forged, FULL, expected_version=None, now=NOW)
    assert subject_of(policies, connection).stored.version == 0


def test_the_ou_view_shows_each_zoom_connections_policy(
    connections: DynamoConferencingConnections, policies: DynamoProvisioningPolicies
) -> None:
    ou = new_ou()
    zoom, untouched, webex = (
        add_connection(connections, ou),
        add_connection(connections, ou),
        add_connection(connections, ou, "webex_enterprise"),
    )
    stored = policies.replace(subject_of(policies, zoom), FULL, expected_version=None, now=NOW)

    views = runtime.get_organizational_unit_views()
    view = views.get(ou.ou_id, with_provisioning=True)

    assert view is not None
    # Without asking (userinfo), no policy is read.
    assert {c.provisioning for c in views.get(ou.ou_id).connections} == {None}  # type: ignore[union-attr]
    shown = {c.connection_id: c.provisioning for c in view.connections}
    assert shown == {
        zoom.connection_id: stored,
        untouched.connection_id: StoredPolicy(ProvisioningPolicy()),
        webex.connection_id: None,
    }
