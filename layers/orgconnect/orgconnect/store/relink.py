"""The relink page's reads and writes (domain/relink.py): the connection a relink url names with a
service account of its OU (a GetItem and one gsi1 Query), and the request it starts (a PutItem)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orgconnect.domain.authorization import AuthorizationRequest
from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.domain.model import ConnectionStatus
from orgconnect.domain.relink import RelinkTarget
from orgconnect.store import keys
from orgconnect.store.dynamodb import ConditionFailed, DynamoStore, aws_errors, from_item, to_item, write
from orgconnect.store.flow_state import request_to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoRelink:
    """:class:`~orgconnect.domain.relink.RelinkStore` over the single table."""

    def __init__(self, store: DynamoStore) -> None:
        self._store = store
        self._db: DynamoDBClient = store.client
        self.table_name = store.table_name

    def target(self, connection_id: str) -> RelinkTarget | None:
        """The live connection and its OU's first service account (in link order)."""
        data = self._store.read(keys.connection_key(connection_id))
        if data is None or data.get("type") != "connection":
            return None  # unknown, or removed (a tombstone)
        with aws_errors():
            found = self._db.query(
                TableName=self.table_name,
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :sa)",
                ExpressionAttributeValues=to_item(
                    {":pk": keys.ou_member_index(data["ou_id"]), ":sa": "SERVICEACCOUNT#"}
                ),
                Limit=1,
            ).get("Items", [])
        service_account_id = from_item(found[0])["service_account_id"] if found else None
        return RelinkTarget(
            data["connection_id"], data["client_id"], data["ou_id"], data["provider_name"], service_account_id
        )

    def create_request(self, request: AuthorizationRequest) -> None:
        """One conditional PutItem (request ids are random: a clash is a retryable conflict)."""
        try:
            write(
                lambda: self._db.put_item(
                    TableName=self.table_name,
                    Item=request_to_item(request),
                    ConditionExpression="attribute_not_exists(pk)",
                )
            )
        except ConditionFailed as failed:
            raise TemporarilyUnavailable("request id taken") from failed

    def connection_status(self, connection_id: str) -> ConnectionStatus | None:
        """One GetItem."""
        data = self._store.read(keys.connection_key(connection_id))
        return ConnectionStatus(data["status"]) if data and data.get("type") == "connection" else None
