"""A client's notification destination (on its ``CLIENT#`` item) and the delivery markers of the
notifications worker (``NOTIFICATIONDELIVERED#{ntf}``, 14 days).

The client item holds ``notification_url`` and the signing secrets sealed with the deployment's
keyring (AES-256-GCM, associated data: the client id), never in clear:
``notification_secret`` (current), and during a rotation ``notification_previous_secret`` until
``notification_previous_until``. Every change is one conditional UpdateItem on the client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orgconnect.domain.errors import InvalidRequest
from orgconnect.domain.notifications import Destination, SigningSecrets, sealing_context
from orgconnect.store import keys
from orgconnect.store.dynamodb import ConditionFailed, DynamoStore, to_item, write

if TYPE_CHECKING:
    from collections.abc import Callable

    from orgconnect.domain.sealing import Sealer

# SQS's longest retention: a redelivery of a delivered notification never POSTs it again.
DELIVERY_MARKER_TTL_SECONDS = 14 * 24 * 3600
_IS_CLIENT = "#type = :client"


def delivery_key(notification_id: str) -> dict[str, str]:
    return {"pk": f"NOTIFICATIONDELIVERED#{notification_id}", "sk": "NOTIFICATIONDELIVERED"}


def _unknown_client(client_id: str) -> InvalidRequest:
    return InvalidRequest.single("client_id", "errors.invalid", f"no client {client_id}")


class DynamoNotificationDestinations:
    """Set, rotate, clear and read a client's notification destination."""

    def __init__(self, store: DynamoStore, sealer: Callable[[], Sealer]) -> None:
        self._store = store
        self._db = store.client
        self._sealer = sealer

    def _seal(self, client_id: str, secret: str) -> str:
        return self._sealer().seal(secret.encode(), associated_data=sealing_context(client_id))

    def _open(self, client_id: str, sealed: str) -> str:
        return self._sealer().open(sealed, associated_data=sealing_context(client_id)).decode()

    def _update(
        self, client_id: str, expression: str, condition: str, values: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            answer = write(
                lambda: self._db.update_item(
                    TableName=self._store.table_name,
                    Key=to_item(keys.client_key(client_id)),
                    UpdateExpression=expression,
                    ConditionExpression=condition,
                    ExpressionAttributeNames={"#type": "type"},
                    ExpressionAttributeValues=to_item({":client": "client", **values}),
                    ReturnValues="ALL_NEW",
                )
            )
        except ConditionFailed:
            raise _unknown_client(client_id) from None
        return dict(answer.get("Attributes", {}))

    def set_url(self, client_id: str, url: str, new_secret: str) -> bool:
        """Set the URL; the client's secret becomes ``new_secret`` only if it has none. Returns
        whether ``new_secret`` is now the client's secret (else the existing one stays)."""
        sealed = self._seal(client_id, new_secret)
        item = self._update(
            client_id,
            "SET notification_url = :url, notification_secret = if_not_exists(notification_secret, :sealed)",
            _IS_CLIENT,
            {":url": url, ":sealed": sealed},
        )
        return bool(item.get("notification_secret", {}).get("S") == sealed)

    def rotate(self, client_id: str, new_secret: str, *, previous_until: int) -> None:
        """The current secret becomes the previous one (signing too until ``previous_until``)."""
        try:
            self._update(
                client_id,
                "SET notification_previous_secret = notification_secret, "
                "notification_previous_until = :until, notification_secret = :sealed",
                f"{_IS_CLIENT} AND attribute_exists(notification_url)",
                {":sealed": self._seal(client_id, new_secret), ":until": previous_until},
            )
        except InvalidRequest:
            raise InvalidRequest.single(
                "client_id", "errors.invalid", f"{client_id} is not a client with a notification URL"
            ) from None

    def clear(self, client_id: str) -> None:
        """Remove the URL and every secret: nothing more is sent to the client."""
        self._update(
            client_id,
            "REMOVE notification_url, notification_secret, notification_previous_secret, "
            "notification_previous_until",
            _IS_CLIENT,
            {},
        )

    def destination(self, client_id: str) -> Destination | None:
        """Where the client's notifications go now (one GetItem), or None without a URL."""
        data = self._store.read(keys.client_key(client_id))
        if not data or data.get("type") != "client" or not data.get("notification_url"):
            return None
        if not data.get("notification_secret"):
            return None
        previous = data.get("notification_previous_secret")
        return Destination(
            client_id=client_id,
            url=str(data["notification_url"]),
            secrets=SigningSecrets(
                current=self._open(client_id, str(data["notification_secret"])),
                previous=self._open(client_id, str(previous)) if previous else None,
                previous_until=data.get("notification_previous_until"),
            ),
        )


class DynamoDeliveryMarkers:
    """Which notifications were delivered (the worker's idempotence, per notification id)."""

    def __init__(self, store: DynamoStore, clock: Callable[[], int]) -> None:
        self._store = store
        self._clock = clock

    def delivered(self, notification_id: str) -> bool:
        """One GetItem (an expired marker reads as absent)."""
        data = self._store.read(delivery_key(notification_id))
        # TTL deletion is lazy: an expired marker may still be there.
        return data is not None and int(data.get("expires_at", 0)) > self._clock()

    def mark_delivered(self, notification_id: str) -> None:
        """One PutItem, after the client answered 2xx."""
        item = {
            **delivery_key(notification_id),
            "type": "notification_delivered",
            "expires_at": self._clock() + DELIVERY_MARKER_TTL_SECONDS,
        }
        write(lambda: self._store.client.put_item(TableName=self._store.table_name, Item=to_item(item)))
