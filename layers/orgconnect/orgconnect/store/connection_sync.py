"""The connection sync queue (SQS) and the scheduled reconcile's list of linked connections.

Chunk messages are ``{"kind": "sync", "connection_id", "sync_id", "seq", "cursor"?}``
(docs/sync.md); a message that asks for a new sync has no ``sync_id``. The scheduled fan-out
reads the connections ever synced (one Query of the ``DIRECTORIES`` partition, written when a
sync starts) and keeps those still linked (BatchGetItem of their items).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from orgconnect.domain.model import ConnectionStatus
from orgconnect.store import keys
from orgconnect.store.dynamodb import DynamoStore, query_all, to_item
from orgconnect.store.sqs_batches import send_all
from orgconnect.store.sync_state import REGISTRY_PK

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BATCH_GET = 100  # BatchGetItem's limit


class SqsConnectionSyncQueue:
    """Sends sync messages (SendMessage, or SendMessageBatch in tens)."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self.queue_url = queue_url

    def send(self, message: Mapping[str, Any]) -> None:
        """Queue one message; TemporarilyUnavailable when SQS refuses."""
        self.send_many([message])

    def send_many(self, messages: list[Mapping[str, Any]]) -> None:
        """Queue every message (the failed ones of a batch repeated once)."""
        send_all(self._sqs, self.queue_url, messages)


class DynamoLinkedConnections:
    """The connections ever synced (the ``DIRECTORIES`` partition) that are still linked."""

    def __init__(self, store: DynamoStore) -> None:
        self._store = store
        self._db: DynamoDBClient = store.client
        self.table_name = store.table_name

    def linked(self) -> list[str]:
        """Their ids: one Query, then BatchGetItem of the connection items; revoked and removed
        ones are left out (docs/sync.md)."""
        items = query_all(
            self._db,
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=to_item({":pk": REGISTRY_PK}),
        )
        ids = [str(i["connection_id"]) for i in items]
        found: list[str] = []
        for start in range(0, len(ids), BATCH_GET):
            wanted = [keys.connection_key(c) for c in ids[start : start + BATCH_GET]]
            for data in self._store.batch_get(wanted).values():
                if data.get("type") == "connection" and data.get("status") != ConnectionStatus.REVOKED:
                    found.append(str(data["connection_id"]))
        return sorted(found)
