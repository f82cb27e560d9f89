"""The provisioning log in the table (domain/provisioning_log.py).

| item | pk | sk | lifetime |
|---|---|---|---|
| provisioning event | ``PROVISIONINGLOG#{ou}`` | ``EVENT#{occurred_at:011d}#{pev}`` | 90 days |

Events sort by time under their OU, so a page is one Query read backwards (newest first). TTL
deletes lazily: the Query's key condition starts after the oldest live second, so an expired
event is never read even before DynamoDB deletes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orgconnect.domain.provisioning_log import (
    PAGE_SIZE,
    RETENTION_SECONDS,
    EventPage,
    EventResult,
    PageCursor,
    ProvisioningEvent,
    sort_key,
)
from orgconnect.store.dynamodb import DynamoStore, aws_errors, from_item, query_all, to_item, write

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _oldest(now: int) -> str:
    """The sort key every live event is above ('~' sorts after every id character, so the events
    of the oldest second, which have just expired, are below it too)."""
    return f"EVENT#{max(now - RETENTION_SECONDS, 0):011d}#~"


def log_pk(ou_id: str) -> str:
    return f"PROVISIONINGLOG#{ou_id}"


def event_item(event: ProvisioningEvent) -> dict[str, Any]:
    """The event's item (None fields left out)."""
    item: dict[str, Any] = {
        "pk": log_pk(event.ou_id),
        "sk": sort_key(event.occurred_at, event.event_id),
        "type": "provisioning_event",
        "event_id": event.event_id,
        "ou_id": event.ou_id,
        "connection_id": event.connection_id,
        "occurred_at": event.occurred_at,
        "action": event.action,
        "result": str(event.result),
        "expires_at": event.expires_at,
    }
    for name in ("account_id", "provider_user_id", "error"):
        value = getattr(event, name)
        if value is not None:
            item[name] = value
    return item


def event_from(data: dict[str, Any]) -> ProvisioningEvent:
    """An event from its item."""
    return ProvisioningEvent(
        event_id=data["event_id"],
        ou_id=data["ou_id"],
        connection_id=data["connection_id"],
        occurred_at=int(data["occurred_at"]),
        action=data["action"],
        account_id=data.get("account_id"),
        provider_user_id=data.get("provider_user_id"),
        result=EventResult(data["result"]),
        error=data.get("error"),
    )


class DynamoProvisioningEvents:
    """:class:`~orgconnect.domain.provisioning_log.ProvisioningEventLog` over the table."""

    def __init__(self, store: DynamoStore, *, page_size: int = PAGE_SIZE) -> None:
        self._db: DynamoDBClient = store.client
        self.table_name = store.table_name
        self.page_size = page_size

    def record(self, event: ProvisioningEvent) -> None:
        """One PutItem, never over another event (ids are random)."""
        write(
            lambda: self._db.put_item(
                TableName=self.table_name,
                Item=to_item(event_item(event)),
                ConditionExpression="attribute_not_exists(pk)",
            )
        )

    def page(self, ou_id: str, *, cursor: PageCursor | None, now: int) -> EventPage:
        """Up to ``page_size`` live events, newest first, after ``cursor``."""
        oldest = _oldest(now)
        condition = {
            "KeyConditionExpression": "pk = :pk AND sk > :oldest",
            "ExpressionAttributeValues": to_item({":pk": log_pk(ou_id), ":oldest": oldest}),
        }
        request: dict[str, Any] = {
            "TableName": self.table_name,
            **condition,
            "ScanIndexForward": False,
            "Limit": self.page_size,
        }
        if cursor is not None:
            if cursor.after <= oldest:
                return EventPage([], cursor.page, self._total(condition), None)
            request["ExclusiveStartKey"] = to_item({"pk": log_pk(ou_id), "sk": cursor.after})
        with aws_errors():
            answer = self._db.query(**request)
        events = [event_from(from_item(i)) for i in answer.get("Items", [])]
        current = cursor.page if cursor else 1
        total = self._total(condition)
        following = None
        if "LastEvaluatedKey" in answer and events and current < total:
            following = PageCursor(
                sort_key(events[-1].occurred_at, events[-1].event_id), current + 1
            ).encode()
        return EventPage(events, current, total, following)

    def created_user_ids(self, ou_id: str, connection_id: str, *, now: int) -> frozenset[str]:
        """The provider user ids of the connection's live ``create`` ``ok`` events (one Query)."""
        items = query_all(
            self._db,
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND sk > :oldest",
            FilterExpression="connection_id = :cnx AND #action = :create AND #result = :ok",
            ExpressionAttributeNames={"#action": "action", "#result": "result"},  # reserved words
            ExpressionAttributeValues=to_item(
                {
                    ":pk": log_pk(ou_id),
                    ":oldest": _oldest(now),
                    ":cnx": connection_id,
                    ":create": "create",
                    ":ok": str(EventResult.OK),
                }
            ),
        )
        return frozenset(str(i["provider_user_id"]) for i in items if i.get("provider_user_id"))

    def _total(self, condition: dict[str, Any]) -> int:
        """Pages of live events (Cronofy's ``pages.total``): a COUNT Query."""
        count, request = 0, {"TableName": self.table_name, **condition, "Select": "COUNT"}
        while True:
            with aws_errors():
                answer = self._db.query(**request)
            count += int(answer.get("Count", 0))
            if "LastEvaluatedKey" not in answer:
                break
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
        return max(1, -(-count // self.page_size))
