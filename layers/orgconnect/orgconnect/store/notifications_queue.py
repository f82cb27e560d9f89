"""The notification publisher over SQS (``domain.notifications.NotificationPublisher``).

A notification is queued only for a client with a notification URL: the client's item is read
once per client and then trusted for ``CLIENT_CACHE_SECONDS`` (a URL set or cleared with the CLI
takes effect within that time; the worker reads the client again before each delivery anyway).
A connection status change reads the connection (one GetItem) for its OU, client and provider,
and is queued only if the connection really has that status now. A sync's profile changes are
queued ten to a ``SendMessageBatch`` call (a 100,000-user backfill: 10,000 calls, not 100,000).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.domain.model import ConnectionStatus
from orgconnect.domain.notifications import (
    Notification,
    NotifiedConnection,
    NotifiedProfile,
    connection_status_changed,
    profile_changed,
)
from orgconnect.observability import logger
from orgconnect.store import keys
from orgconnect.store.dynamodb import DynamoStore

CLIENT_CACHE_SECONDS = 60
SEND_BATCH = 10  # SendMessageBatch's most entries a call


class _StoredConnection:
    """The fields of a connection item a notification needs."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.connection_id = str(data["connection_id"])
        self.ou_id = str(data["ou_id"])
        self.client_id = str(data["client_id"])
        self.provider_name = str(data["provider_name"])


@contextmanager
def _reads_failing(kind: str, connection_id: str) -> Iterator[None]:
    """A read that failed (throttled, denied, unreachable) is logged and is TemporarilyUnavailable,
    the one failure the publisher's callers expect."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (ClientError, BotoCoreError, TemporarilyUnavailable) as error:
        logger.error(
            "notification not queued",
            extra={"type": kind, "connection_id": connection_id, "why": type(error).__name__},
        )
        if isinstance(error, TemporarilyUnavailable):
            raise
        raise TemporarilyUnavailable(f"notification read: {type(error).__name__}") from error


class SqsNotificationPublisher:
    """Queues notifications for the notifications worker (``SendMessage``)."""

    def __init__(self, store: DynamoStore, sqs: Any, queue_url: str, *, clock: Callable[[], int]) -> None:
        self._store = store
        self._sqs = sqs
        self._queue_url = queue_url
        self._clock = clock
        self._urls: dict[str, tuple[bool, int]] = {}

    def connection_status_changed(
        self, connection_id: str, status: ConnectionStatus, *, change_key: str
    ) -> None:
        """Queue ``connection_status_changed`` if the connection has ``status`` and its client a URL."""
        with _reads_failing("connection_status_changed", connection_id):
            data = self._store.read(keys.connection_key(connection_id))
            if not data or data.get("type") != "connection" or data.get("status") != str(status):
                return
            connection = _StoredConnection(data)
            if not self._has_url(connection.client_id):
                return
        self._send(
            connection_status_changed(connection, status, change_key=change_key, occurred_at=self._clock())
        )

    def profile_changed(
        self, before: NotifiedProfile | None, after: NotifiedProfile, connection: NotifiedConnection
    ) -> None:
        """Queue ``profile_connected``/``profile_disconnected`` when the connected state changed."""
        notification = profile_changed(before, after, connection, occurred_at=self._clock())
        if notification is None:
            return
        with _reads_failing(str(notification.type), connection.connection_id):
            if not self._has_url(connection.client_id):
                return
        self._send(notification)

    def profiles_changed(
        self,
        changes: Iterable[tuple[NotifiedProfile | None, NotifiedProfile]],
        connection: NotifiedConnection,
    ) -> int:
        """Queue ``profile_connected``/``profile_disconnected`` for each (before, after) whose
        connected state changed, ten a call; the number queued. Entries SQS refuses are sent once
        more; then TemporarilyUnavailable (logged) if any is still not queued."""
        now = self._clock()
        found = (profile_changed(before, after, connection, occurred_at=now) for before, after in changes)
        notifications = [n for n in found if n is not None]
        if not notifications:
            return 0
        with _reads_failing(str(notifications[0].type), connection.connection_id):
            if not self._has_url(connection.client_id):
                return 0
        failed: list[Notification] = []
        for start in range(0, len(notifications), SEND_BATCH):
            batch = notifications[start : start + SEND_BATCH]
            refused = self._send_batch(batch)
            failed += self._send_batch(refused) if refused else []
        for notification in failed:
            logger.error("notification not queued", extra=_log_fields(notification))
        if failed:
            raise TemporarilyUnavailable(f"SendMessageBatch: {len(failed)} notifications not queued")
        logger.info(
            "notifications queued",
            extra={"connection_id": connection.connection_id, "count": len(notifications)},
        )
        return len(notifications)

    def _send_batch(self, batch: list[Notification]) -> list[Notification]:
        """One SendMessageBatch; the notifications it did not queue (all of them when it failed)."""
        from botocore.exceptions import BotoCoreError, ClientError

        entries = [
            {"Id": str(i), "MessageBody": json.dumps(n.to_message(), separators=(",", ":"))}
            for i, n in enumerate(batch)
        ]
        try:
            answer = self._sqs.send_message_batch(QueueUrl=self._queue_url, Entries=entries)
        except (ClientError, BotoCoreError) as error:
            logger.warning("notification batch not queued", extra={"why": type(error).__name__})
            return batch
        return [batch[int(f["Id"])] for f in answer.get("Failed", [])]

    def _has_url(self, client_id: str) -> bool:
        now = self._clock()
        cached = self._urls.get(client_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        data = self._store.read(keys.client_key(client_id))
        has = bool(data and data.get("type") == "client" and data.get("notification_url"))
        self._urls[client_id] = (has, now + CLIENT_CACHE_SECONDS)
        return has

    def _send(self, notification: Notification) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        body = json.dumps(notification.to_message(), separators=(",", ":"))
        try:
            self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=body)
        except (ClientError, BotoCoreError) as error:
            logger.error(
                "notification not queued",
                extra={**_log_fields(notification), "why": type(error).__name__},
            )
            raise TemporarilyUnavailable(f"SendMessage: {type(error).__name__}") from error
        logger.info("notification queued", extra=_log_fields(notification))


def _log_fields(notification: Notification) -> dict[str, str]:
    """What a log line tells of a notification: its id, type and client (never its payload)."""
    return {
        "notification_id": notification.notification_id,
        "type": str(notification.type),
        "client_id": notification.client_id,
    }
