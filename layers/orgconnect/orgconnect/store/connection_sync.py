"""The connection sync queue (SQS) and the scheduled reconcile's list of linked connections.

Chunk messages are ``{"kind": "sync", "connection_id", "sync_id", "seq", "cursor"?}``
(docs/sync.md); a message that asks for a new sync has no ``sync_id``. The scheduled fan-out
reads every linked (not revoked, not removed) connection with one paged Scan of the connection
items (a projection of three attributes): the only place that enumerates every OU.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.domain.model import ConnectionStatus
from orgconnect.domain.server_to_server import AuthorizationType
from orgconnect.store.dynamodb import DynamoStore, aws_errors, from_item, to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SQS_BATCH = 10  # SendMessageBatch's limit


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
        from botocore.exceptions import BotoCoreError, ClientError

        for start in range(0, len(messages), SQS_BATCH):
            entries = [
                {"Id": str(i), "MessageBody": json.dumps(dict(m), separators=(",", ":"))}
                for i, m in enumerate(messages[start : start + SQS_BATCH])
            ]
            try:
                failed = self._sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries).get("Failed")
                if failed:
                    again = [e for e in entries if e["Id"] in {f["Id"] for f in failed}]
                    failed = self._sqs.send_message_batch(QueueUrl=self.queue_url, Entries=again).get(
                        "Failed"
                    )
            except (ClientError, BotoCoreError) as error:
                raise TemporarilyUnavailable(f"SendMessageBatch: {type(error).__name__}") from error
            if failed:
                raise TemporarilyUnavailable("SendMessageBatch left messages unsent")


class DynamoLinkedConnections:
    """Every linked conferencing connection of the table (a paged Scan)."""

    def __init__(self, store: DynamoStore) -> None:
        self._db: DynamoDBClient = store.client
        self.table_name = store.table_name

    def linked(self) -> list[str]:
        """The ids of the connections that are not revoked or removed."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            # Server-to-Server connections are not synced yet (docs/sync.md).
            "FilterExpression": (
                "#type = :connection AND #status <> :revoked AND "
                "(attribute_not_exists(authorization_type) OR authorization_type <> :s2s)"
            ),
            "ProjectionExpression": "connection_id, #type, #status, authorization_type",
            "ExpressionAttributeNames": {"#type": "type", "#status": "status"},
            "ExpressionAttributeValues": to_item(
                {
                    ":connection": "connection",
                    ":revoked": str(ConnectionStatus.REVOKED),
                    ":s2s": str(AuthorizationType.SERVER_TO_SERVER),
                }
            ),
        }
        found: list[str] = []
        while True:
            with aws_errors():
                page = self._db.scan(**request)
            found += [str(from_item(i)["connection_id"]) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
