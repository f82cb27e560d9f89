"""store/conferencing_connections.py on moto and on DynamoDB Local: one link per provider
account, the OU's client checked, removal leaves a tombstone that expires and leaves the OU views."""

from __future__ import annotations

import pytest

from orgconnect import runtime
from orgconnect.domain.conferencing_connections import (
    AlreadyLinked,
    ConnectionNotFound,
    ManagedConnection,
    RemovedConnection,
)
from orgconnect.domain.model import ConnectionStatus, OrganizationalUnit
from orgconnect.domain.secrets import new_id
from orgconnect.domain.server_to_server import AuthorizationType
from orgconnect.store.conferencing_connections import DynamoConferencingConnections
from orgconnect.store.dynamodb import to_item
from orgconnect.store.organization import organizational_unit_item
from tests.values import replace

pytestmark = pytest.mark.every_dynamodb
NOW = 1_900_000_000


def new_ou(client_id: str) -> OrganizationalUnit:
    ou = OrganizationalUnit(new_id("ou"), client_id, "Acme", NOW)
    store = runtime.get_store()
    store.client.put_item(TableName=store.table_name, Item=to_item(organizational_unit_item(ou)))
    return ou


def connection_for(ou: OrganizationalUnit, account_id: str = "zoom-acc") -> ManagedConnection:
    return ManagedConnection(
        new_id("cnx"), ou.ou_id, ou.client_id, "zoom_enterprise", account_id, "Example Corp",
        ConnectionStatus.CONNECTED, "arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
        AuthorizationType.SERVER_TO_SERVER, NOW, NOW, NOW,
    )  # fmt: skip


@pytest.fixture
def repository(aws: dict[str, str]) -> DynamoConferencingConnections:
    clock = {"now": NOW}
    repo = DynamoConferencingConnections(runtime.get_store(), clock=lambda: clock["now"])
    repo.clock = clock  # type: ignore[attr-defined]
    return repo


def test_a_provider_account_is_linked_once_per_client(repository: DynamoConferencingConnections) -> None:
    client = new_id("cli")
    ou, sibling, stranger = new_ou(client), new_ou(client), new_ou(new_id("cli"))
    first = connection_for(ou)
    repository.add(first)
    assert repository.get(first.connection_id) == first
    assert repository.get_organizational_unit(ou.ou_id) == ou

    with pytest.raises(AlreadyLinked) as taken:
        repository.add(connection_for(sibling))
    assert taken.value.link is not None and taken.value.link.connection_id == first.connection_id
    repository.add(connection_for(stranger))  # another client's link is its own


def test_a_connection_needs_an_ou_of_its_client(repository: DynamoConferencingConnections) -> None:
    ou = new_ou(new_id("cli"))
    wrong_client = replace(connection_for(ou), client_id=new_id("cli"))
    with pytest.raises(ConnectionNotFound):
        repository.add(wrong_client)
    assert repository.get(wrong_client.connection_id) is None


def test_removal_leaves_an_expiring_tombstone_out_of_the_ou(
    repository: DynamoConferencingConnections,
) -> None:
    ou = new_ou(new_id("cli"))
    connection = connection_for(ou)
    repository.add(connection)
    repository.set_status(replace(connection, status=ConnectionStatus.NEEDS_REAUTHORIZATION))
    views = runtime.get_organizational_unit_views()
    (seen,) = views.get(ou.ou_id).connections  # type: ignore[union-attr]
    assert seen.status == "needs_reauthorization"

    repository.remove(connection, now=NOW, keep_until=NOW + 60)

    assert repository.get(connection.connection_id) == RemovedConnection(
        connection.connection_id, ou.ou_id, connection.secret_arn
    )
    assert views.get(ou.ou_id).connections == ()  # type: ignore[union-attr]
    assert repository.get_link(ou.client_id, "zoom_enterprise", "zoom-acc") is None
    with pytest.raises(ConnectionNotFound):
        repository.set_status(connection)
    with pytest.raises(ConnectionNotFound):
        repository.remove(connection, now=NOW, keep_until=NOW + 60)
    repository.clock["now"] = NOW + 61  # type: ignore[attr-defined]
    assert repository.get(connection.connection_id) is None
    repository.add(connection_for(ou))  # the account can be linked again
