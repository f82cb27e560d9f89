"""A conferencing connection's user directory, synced once and reused for matching (docs/matching.md).

| item | pk | sk | lifetime |
|---|---|---|---|
| directory user | ``DIRECTORY#{cnx}`` | ``USER#{lower-cased email}`` | |
| directory sync | ``DIRECTORY#{cnx}`` | ``SYNC`` | a running sync's claim expires (``expires_at``) |

The sync item is claimed with a conditional write, so one worker lists the directory while the
others fall back to one lookup per email; users are written with BatchWriteItem (25 a request).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from orgconnect.domain.conferencing import DirectoryUser, UserStatus
from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.store.dynamodb import ConditionFailed, DynamoStore, aws_errors, to_item, write

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from orgconnect.domain.webhooks_users import UserChange

BATCH_WRITE = 25  # BatchWriteItem's limit
BATCH_WRITE_ATTEMPTS = 5
SYNC_CLAIM_SECONDS = 300  # longer than a worker invocation (120 s)
SYNC_DONE, SYNC_RUNNING = "done", "running"


def directory_pk(connection_id: str) -> str:
    return f"DIRECTORY#{connection_id}"


def user_key(connection_id: str, email: str) -> dict[str, str]:
    return {"pk": directory_pk(connection_id), "sk": f"USER#{email.strip().lower()}"}


def sync_key(connection_id: str) -> dict[str, str]:
    return {"pk": directory_pk(connection_id), "sk": "SYNC"}


def _user_item(connection_id: str, user: DirectoryUser) -> dict[str, Any]:
    return {
        **user_key(connection_id, user.email),
        "type": "directory_user",
        "connection_id": connection_id,
        "provider_user_id": user.provider_user_id,
        "email": user.email,
        "display_name": user.display_name,
        "status": str(user.status),
    }


def user_from(data: dict[str, Any] | None) -> DirectoryUser | None:
    """A directory user from its item, or None."""
    if data is None or data.get("type") != "directory_user":
        return None
    return DirectoryUser(
        data["provider_user_id"], data["email"], data.get("display_name") or "", UserStatus(data["status"])
    )


class DynamoDirectory:
    """Directory users by connection and email, and the connection's sync claim."""

    def __init__(self, store: DynamoStore, *, clock: Callable[[], int]) -> None:
        self._store = store
        self._db: DynamoDBClient = store.client
        self.table_name = store.table_name
        self._clock = clock

    def get(self, connection_id: str, email: str) -> DirectoryUser | None:
        """The directory's user with ``email`` (one GetItem)."""
        return user_from(self._store.read(user_key(connection_id, email)))

    def synced(self, connection_id: str) -> bool:
        """Whether the connection's directory was listed (one GetItem)."""
        data = self._store.read(sync_key(connection_id))
        return data is not None and data.get("state") == SYNC_DONE

    def claim_sync(self, connection_id: str) -> bool:
        """Claim the listing (one conditional PutItem); False when it is done or another runs it."""
        now = self._clock()
        item = {
            **sync_key(connection_id),
            "type": "directory_sync",
            "state": SYNC_RUNNING,
            "started_at": now,
            "expires_at": now + SYNC_CLAIM_SECONDS,
        }
        try:
            write(
                lambda: self._db.put_item(
                    TableName=self.table_name,
                    Item=to_item(item),
                    ConditionExpression="attribute_not_exists(pk) OR (#s = :running AND expires_at <= :now)",
                    ExpressionAttributeNames={"#s": "state"},
                    ExpressionAttributeValues=to_item({":running": SYNC_RUNNING, ":now": now}),
                )
            )
        except ConditionFailed:
            return False
        return True

    def store(self, connection_id: str, users: Iterable[DirectoryUser]) -> int:
        """Write ``users`` (BatchWriteItem, 25 a request; unprocessed items repeated); the count."""
        batch: dict[str, dict[str, Any]] = {}
        count = 0
        for user in users:
            item = _user_item(connection_id, user)
            batch[item["sk"]] = item  # one item per email in a request: DynamoDB refuses duplicates
            if len(batch) == BATCH_WRITE:
                count += self._write(list(batch.values()))
                batch = {}
        if batch:
            count += self._write(list(batch.values()))
        return count

    def finish_sync(self, connection_id: str, users: int) -> None:
        """Mark the listing done (PutItem, without expiry)."""
        item = {
            **sync_key(connection_id),
            "type": "directory_sync",
            "state": SYNC_DONE,
            "users": users,
            "synced_at": self._clock(),
        }
        write(lambda: self._db.put_item(TableName=self.table_name, Item=to_item(item)))

    def _write(self, items: list[dict[str, Any]]) -> int:
        request: dict[str, Any] = {self.table_name: [{"PutRequest": {"Item": to_item(i)}} for i in items]}
        for _ in range(BATCH_WRITE_ATTEMPTS):
            with aws_errors():
                answer = self._db.batch_write_item(RequestItems=request)
            request = dict(answer.get("UnprocessedItems") or {})
            if not request:
                return len(items)
        raise TemporarilyUnavailable("BatchWriteItem left items unprocessed")

    # -- provider webhooks (domain/webhooks_users.py): one user event at a time ---------------

    def apply_user_change(self, connection_id: str, change: UserChange) -> bool:
        """Apply a user event to the items of its email(s), each unless a later event wrote it
        (``event_ts``, ms). A removed user, or the old address of a renamed one, leaves a
        tombstone (``type`` ``directory_user_removed``/``_moved``) that a matcher reads as a miss
        and that stops an older event from bringing the address back. False: nothing written."""
        if change.email is None:
            return False  # a name change without the email: matching does not use names
        if change.removed:
            return self._tombstone(connection_id, change.email, change, "directory_user_removed")
        status, name = change.status, change.display_name
        if change.renamed and change.old_email is not None:
            before = self._store.read(user_key(connection_id, change.old_email))
            moved = self._tombstone(connection_id, change.old_email, change, "directory_user_moved")
            was = user_from(before)
            if not moved or was is None or was.provider_user_id != change.provider_user_id:
                return moved  # nothing known to carry over: the next match looks the address up
            status, name = was.status, name or was.display_name
        if status is None:
            return False
        # A name the event brings replaces the stored one; else the item keeps its own.
        shown = ":name" if name else "if_not_exists(display_name, :name)"
        return self._event_write(
            connection_id,
            change.email,
            change.event_ts,
            "SET #type = :type, connection_id = :cnx, email = :email, provider_user_id = :id, "
            f"#status = :status, display_name = {shown}, event_ts = :ts",
            {
                ":type": "directory_user",
                ":cnx": connection_id,
                ":email": change.email,
                ":id": change.provider_user_id,
                ":status": str(status),
                ":name": name or change.email,
            },
            names={"#status": "status"},
        )

    def _tombstone(self, connection_id: str, email: str, change: UserChange, kind: str) -> bool:
        return self._event_write(
            connection_id,
            email,
            change.event_ts,
            "SET #type = :type, connection_id = :cnx, provider_user_id = :id, event_ts = :ts"
            + (", moved_to = :to" if change.email != email else ""),
            {
                ":type": kind,
                ":cnx": connection_id,
                ":id": change.provider_user_id,
                ":to": change.email if change.email != email else None,
            },
        )

    def _event_write(
        self,
        connection_id: str,
        email: str,
        event_ts: int,
        update: str,
        values: dict[str, Any],
        *,
        names: dict[str, str] | None = None,
    ) -> bool:
        """One UpdateItem of ``USER#{email}``, conditional on no later event having written it."""
        try:
            write(
                lambda: self._db.update_item(
                    TableName=self.table_name,
                    Key=to_item(user_key(connection_id, email)),
                    UpdateExpression=update,
                    ConditionExpression="attribute_not_exists(event_ts) OR event_ts < :ts",
                    ExpressionAttributeNames={"#type": "type", **(names or {})},
                    ExpressionAttributeValues=to_item({**values, ":ts": event_ts}),
                )
            )
        except ConditionFailed:
            return False
        return True
