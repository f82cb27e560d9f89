"""Conferencing connections as the OU-token API manages them (``CONNECTION#`` and their
``PROVIDERACCOUNT#`` links, store/keys.py): add a Server-to-Server connection, record a test,
remove one leaving a short-lived tombstone (``type = removed_connection``, ``expires_at``, out of
gsi1, so the OU views no longer list it) that answers a repeated DELETE.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from orgconnect.domain.conferencing_connections import (
    AlreadyLinked,
    ConnectionNotFound,
    ManagedConnection,
    RemovedConnection,
)
from orgconnect.domain.errors import Conflict
from orgconnect.domain.model import ConnectionStatus, OrganizationalUnit, ProviderAccountLink
from orgconnect.domain.server_to_server import AuthorizationType
from orgconnect.store import keys
from orgconnect.store.dynamodb import ConditionFailed, DynamoStore, to_item, transact, write
from orgconnect.store.organization import (
    DynamoConnections,
    DynamoOrganizationalUnits,
    connection_attributes,
    link_item,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REMOVED_TYPE = "removed_connection"


def connection_item(connection: ManagedConnection) -> dict[str, Any]:
    """The item of a connection (the browser flow's layout plus how it is held and last tested)."""
    return {
        **keys.connection_key(connection.connection_id),
        **connection_attributes(connection),
        "authorization_type": str(connection.authorization_type),
        "created_at": connection.created_at,
        "last_tested_at": connection.last_tested_at,
    }


def connection_from(data: Mapping[str, Any]) -> ManagedConnection:
    """A connection from its item; items the browser flow wrote are ``oauth`` connections."""
    return ManagedConnection(
        connection_id=data["connection_id"],
        ou_id=data["ou_id"],
        client_id=data["client_id"],
        provider_name=data["provider_name"],
        provider_account_id=data["provider_account_id"],
        account_name=data["account_name"],
        status=ConnectionStatus(data["status"]),
        # A deauthorized connection's secret was deleted and forgotten (docs/webhooks.md): "".
        secret_arn=data.get("secret_arn", ""),
        authorization_type=AuthorizationType(data.get("authorization_type", AuthorizationType.OAUTH)),
        created_at=data.get("created_at", 0),
        updated_at=data.get("updated_at", 0),
        last_tested_at=data.get("last_tested_at"),
    )


class DynamoConferencingConnections:
    """:class:`~orgconnect.domain.conferencing_connections.ConnectionRepository` over the table."""

    def __init__(self, store: DynamoStore, *, clock: Callable[[], int]) -> None:
        self._store = store
        self._links = DynamoConnections(store)
        self._organizational_units = DynamoOrganizationalUnits(store)
        self.table_name = store.table_name
        self._db: DynamoDBClient = store.client
        self._clock = clock

    def get(self, connection_id: str) -> ManagedConnection | RemovedConnection | None:
        """One consistent GetItem; an expired tombstone reads as absent."""
        data = self._store.read(keys.connection_key(connection_id))
        if data is None:
            return None
        if data.get("type") == "connection":
            return connection_from(data)
        if data.get("type") == REMOVED_TYPE and data.get("expires_at", 0) > self._clock():
            return RemovedConnection(data["connection_id"], data["ou_id"], data.get("secret_arn", ""))
        return None

    def get_organizational_unit(self, ou_id: str) -> OrganizationalUnit | None:
        """One consistent read (the OU of an access token)."""
        found = self._organizational_units.get_many([ou_id])
        return found[0] if found else None

    def get_link(self, client_id: str, provider_name: str, account_id: str) -> ProviderAccountLink | None:
        return self._links.get_link(client_id, provider_name, account_id)

    def add(self, connection: ManagedConnection) -> None:
        """One transaction: the OU is still this client's, the connection and its link are new."""
        new = "attribute_not_exists(pk)"
        items: list[dict[str, Any]] = [
            {
                "ConditionCheck": {
                    "TableName": self.table_name,
                    "Key": to_item(keys.organizational_unit_key(connection.ou_id)),
                    "ConditionExpression": "client_id = :cid",
                    "ExpressionAttributeValues": to_item({":cid": connection.client_id}),
                }
            },
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": to_item(connection_item(connection)),
                    "ConditionExpression": new,
                }
            },
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": to_item(link_item(connection.link())),
                    "ConditionExpression": new,
                }
            },
        ]
        try:
            transact(self._db, items)
        except ConditionFailed as failed:
            if failed.at(0):
                raise ConnectionNotFound() from failed
            if failed.at(2):
                link = connection.link()
                raise AlreadyLinked(
                    self.get_link(link.client_id, link.provider_name, link.account_id)
                ) from failed
            raise Conflict("connection id taken") from failed

    def set_status(self, connection: ManagedConnection) -> None:
        """One conditional UpdateItem (ConnectionNotFound once it left the OU)."""
        values = {
            ":status": str(connection.status),
            ":name": connection.account_name,
            ":updated": connection.updated_at,
            ":tested": connection.last_tested_at,
            ":ou": connection.ou_id,
            ":connection": "connection",
        }
        try:
            write(
                lambda: self._db.update_item(
                    TableName=self.table_name,
                    Key=to_item(keys.connection_key(connection.connection_id)),
                    UpdateExpression=(
                        "SET #status = :status, account_name = :name, updated_at = :updated, "
                        "last_tested_at = :tested"
                    ),
                    ConditionExpression="ou_id = :ou AND #type = :connection",
                    ExpressionAttributeNames={"#status": "status", "#type": "type"},
                    ExpressionAttributeValues=to_item(values),
                )
            )
        except ConditionFailed as failed:
            raise ConnectionNotFound() from failed

    def mark_needs_reauthorization(self, connection_id: str, *, now: int) -> None:
        """One conditional UpdateItem: a live connection that is not revoked becomes
        ``needs_reauthorization`` (a removed or revoked one is left as it is)."""
        values = {
            ":status": str(ConnectionStatus.NEEDS_REAUTHORIZATION),
            ":revoked": str(ConnectionStatus.REVOKED),
            ":updated": now,
            ":connection": "connection",
        }
        try:
            write(
                lambda: self._db.update_item(
                    TableName=self.table_name,
                    Key=to_item(keys.connection_key(connection_id)),
                    UpdateExpression="SET #status = :status, updated_at = :updated",
                    ConditionExpression="#type = :connection AND #status <> :revoked",
                    ExpressionAttributeNames={"#status": "status", "#type": "type"},
                    ExpressionAttributeValues=to_item(values),
                )
            )
        except ConditionFailed:
            return

    def remove(self, connection: ManagedConnection, *, now: int, keep_until: int) -> None:
        """One transaction: the connection becomes a tombstone (out of the OU), its link goes."""
        link = connection.link()
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": to_item(keys.connection_key(connection.connection_id)),
                    "UpdateExpression": (
                        "SET #type = :removed, #status = :revoked, removed_at = :now, expires_at = :until "
                        "REMOVE gsi1pk, gsi1sk"
                    ),
                    "ConditionExpression": "ou_id = :ou AND #type = :connection",
                    "ExpressionAttributeNames": {"#type": "type", "#status": "status"},
                    "ExpressionAttributeValues": to_item(
                        {
                            ":removed": REMOVED_TYPE,
                            ":revoked": str(ConnectionStatus.REVOKED),
                            ":now": now,
                            ":until": keep_until,
                            ":ou": connection.ou_id,
                            ":connection": "connection",
                        }
                    ),
                }
            },
            {
                "Delete": {
                    "TableName": self.table_name,
                    "Key": to_item(
                        keys.provider_account_key(link.client_id, link.provider_name, link.account_id)
                    ),
                    # The link names this connection (or is already gone): never drop another's.
                    "ConditionExpression": "attribute_not_exists(pk) OR connection_id = :cnx",
                    "ExpressionAttributeValues": to_item({":cnx": connection.connection_id}),
                }
            },
        ]
        try:
            transact(self._db, items)
        except ConditionFailed as failed:
            if failed.at(0):
                raise ConnectionNotFound() from failed
            raise Conflict("the provider account link names another connection") from failed
