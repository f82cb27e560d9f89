"""User-change subscriptions (Graph subscriptions, Google channels) of conferencing connections.

| item | pk | sk |
|---|---|---|
| subscription | ``SUBSCRIPTION#{provider}#{id}`` | ``SUBSCRIPTION`` |
| its connection's pointer | ``CONNECTIONSUBSCRIPTION#{cnx}`` | ``CONNECTIONSUBSCRIPTION`` |

A subscription's gsi1 key is ``SUBSCRIPTIONS`` / ``{expires_at:012d}#{provider}#{id}``.

A notification names the subscription (one GetItem); the renewal finds the ones about to expire
with one Query on gsi1 (the sort key starts with the zero-padded expiry); a removal finds its
connection's through the pointer. Only the SHA-256 of the subscription's secret is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from orgconnect.domain.model import ConnectionStatus
from orgconnect.domain.webhooks_subscriptions import Subscription, WatchedConnection, subscribes
from orgconnect.store import keys
from orgconnect.store.dynamodb import ConditionFailed, DynamoStore, query_all, to_item, write

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SUBSCRIPTIONS_INDEX = "SUBSCRIPTIONS"


def subscription_key(provider: str, subscription_id: str) -> dict[str, str]:
    return {"pk": f"SUBSCRIPTION#{provider}#{subscription_id}", "sk": "SUBSCRIPTION"}


def pointer_key(connection_id: str) -> dict[str, str]:
    return {"pk": f"CONNECTIONSUBSCRIPTION#{connection_id}", "sk": "CONNECTIONSUBSCRIPTION"}


def _item(s: Subscription) -> dict[str, Any]:
    return {
        **subscription_key(s.provider, s.subscription_id),
        "type": "user_subscription",
        "gsi1pk": SUBSCRIPTIONS_INDEX,
        "gsi1sk": f"{s.expires_at:012d}#{s.provider}#{s.subscription_id}",
        "provider": s.provider,
        "subscription_id": s.subscription_id,
        "connection_id": s.connection_id,
        "provider_name": s.provider_name,
        "account_id": s.account_id,
        "secret_digest": s.secret_digest,
        "expires_at_provider": s.expires_at,
        "resource_id": s.resource_id,
        "notification_url": s.notification_url,
    }


def _subscription(data: dict[str, Any]) -> Subscription:
    return Subscription(
        data["provider"],
        data["subscription_id"],
        data["connection_id"],
        data["provider_name"],
        data["account_id"],
        data["secret_digest"],
        int(data["expires_at_provider"]),
        data.get("resource_id"),
        data.get("notification_url", ""),
    )


class DynamoSubscriptions:
    """:class:`~orgconnect.domain.webhooks_subscriptions.SubscriptionStore` and
    ``WatchedConnections`` over the table."""

    def __init__(self, store: DynamoStore, *, clock: Callable[[], int]) -> None:
        self._store = store
        self._db: DynamoDBClient = store.client
        self.table_name = store.table_name
        self._clock = clock

    def get(self, provider: str, subscription_id: str) -> Subscription | None:
        """One consistent GetItem; an expired one reads as absent (the provider stopped it)."""
        data = self._store.read(subscription_key(provider, subscription_id))
        if data is None or int(data.get("expires_at_provider", 0)) <= self._clock():
            return None
        return _subscription(data)

    def of_connection(self, connection_id: str) -> Subscription | None:
        pointer = self._store.read(pointer_key(connection_id))
        if pointer is None:
            return None
        data = self._store.read(subscription_key(pointer["provider"], pointer["subscription_id"]))
        return _subscription(data) if data is not None else None

    def save(self, subscription: Subscription, *, replaces: Subscription | None = None) -> None:
        """One transaction: the subscription, its connection's pointer, and ``replaces`` gone."""
        items: list[dict[str, Any]] = [
            {"Put": {"TableName": self.table_name, "Item": to_item(_item(subscription))}},
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": to_item(
                        {
                            **pointer_key(subscription.connection_id),
                            "type": "connection_subscription",
                            "provider": subscription.provider,
                            "subscription_id": subscription.subscription_id,
                        }
                    ),
                }
            },
        ]
        if replaces is not None and (replaces.provider, replaces.subscription_id) != (
            subscription.provider,
            subscription.subscription_id,
        ):
            key = subscription_key(replaces.provider, replaces.subscription_id)
            items.append({"Delete": {"TableName": self.table_name, "Key": to_item(key)}})
        self._store.transact(items)

    def delete(self, subscription: Subscription) -> None:
        """Delete it, and its connection's pointer while it still names it."""
        key = subscription_key(subscription.provider, subscription.subscription_id)
        write(lambda: self._db.delete_item(TableName=self.table_name, Key=to_item(key)))
        with suppress(ConditionFailed):  # a newer subscription replaced it: keep that pointer
            write(
                lambda: self._db.delete_item(
                    TableName=self.table_name,
                    Key=to_item(pointer_key(subscription.connection_id)),
                    ConditionExpression="subscription_id = :id",
                    ExpressionAttributeValues=to_item({":id": subscription.subscription_id}),
                )
            )

    def due(self, before: int) -> list[Subscription]:
        """Every subscription that expires before ``before`` (one Query on gsi1, all pages)."""
        found = query_all(
            self._db,
            TableName=self.table_name,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk AND gsi1sk < :before",
            ExpressionAttributeValues=to_item({":pk": SUBSCRIPTIONS_INDEX, ":before": f"{before:012d}"}),
        )
        return [_subscription(d) for d in found if d.get("type") == "user_subscription"]

    def watched(self, connection_id: str) -> WatchedConnection | None:
        """The connected connection of a subscription (None: removed, revoked or reauthorizing)."""
        data = self._store.read(keys.connection_key(connection_id))
        if (
            data is None
            or data.get("type") != "connection"
            or data.get("status") != ConnectionStatus.CONNECTED
            or not data.get("secret_arn")
            or not subscribes(str(data.get("provider_name")))
        ):
            return None
        return WatchedConnection(
            connection_id, data["provider_name"], data["provider_account_id"], data["secret_arn"]
        )
