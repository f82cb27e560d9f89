"""A conferencing connection's user directory (docs/sync.md). The sync job's item and its listed
pages share the partition: :mod:`orgconnect.store.sync_state`.

| item | pk | sk | lifetime |
|---|---|---|---|
| directory user | ``DIRECTORY#{cnx}`` | ``USER#{lower-cased email}`` | |

Directory users are written with BatchWriteItem (25 a request). A provider webhook's user event
is one UpdateItem of its email's item, conditional on no later event having written it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from orgconnect.domain.bulk_matching import DirectoryChanges
from orgconnect.domain.conferencing import DirectoryUser, UserStatus
from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.store.dynamodb import ConditionFailed, DynamoStore, aws_errors, query_all, to_item, write

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from orgconnect.domain.webhooks_users import UserChange

BATCH_WRITE = 25  # BatchWriteItem's limit
BATCH_WRITE_ATTEMPTS = 5
USER_SK = "USER#"


def directory_pk(connection_id: str) -> str:
    return f"DIRECTORY#{connection_id}"


def user_key(connection_id: str, email: str) -> dict[str, str]:
    return {"pk": directory_pk(connection_id), "sk": f"{USER_SK}{email.strip().lower()}"}


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
    """Directory users by connection and email (the sync job's item: DynamoSyncDirectory)."""

    def __init__(self, store: DynamoStore) -> None:
        self._store = store
        self._db: DynamoDBClient = store.client
        self.table_name = store.table_name
        self.writes = 0  # items written or deleted (BatchWriteItem), for the sync's report

    # -- users ---------------------------------------------------------------------------------

    def get(self, connection_id: str, email: str) -> DirectoryUser | None:
        """The directory's user with ``email`` (one GetItem)."""
        return user_from(self._store.read(user_key(connection_id, email)))

    def users(self, connection_id: str) -> list[DirectoryUser]:
        """Every stored user of the directory (one Query, paged)."""
        items = self._query(connection_id, USER_SK)
        return [u for u in (user_from(i) for i in items) if u is not None]

    def store(self, connection_id: str, users: Iterable[DirectoryUser]) -> int:
        """Write ``users`` (BatchWriteItem, 25 a request; unprocessed items repeated); the count."""
        return self.apply(connection_id, DirectoryChanges(list(users), []))

    def apply(self, connection_id: str, changes: DirectoryChanges) -> int:
        """Put the new or changed users and delete the removed ones (BatchWriteItem); the count."""
        requests: dict[str, dict[str, Any]] = {}
        for user in changes.upserts:
            item = _user_item(connection_id, user)
            requests[item["sk"]] = {"PutRequest": {"Item": to_item(item)}}
        for email in changes.removals:
            key = user_key(connection_id, email)
            requests.setdefault(key["sk"], {"DeleteRequest": {"Key": to_item(key)}})
        return self._batch(list(requests.values()))

    # -- helpers -------------------------------------------------------------------------------

    def _query(self, connection_id: str, prefix: str, *, keys_only: bool = False) -> list[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :sk)",
            "ExpressionAttributeValues": to_item({":pk": directory_pk(connection_id), ":sk": prefix}),
            "ConsistentRead": True,
        }
        if keys_only:
            request["ProjectionExpression"] = "pk, sk"
        return query_all(self._db, **request)

    def _batch(self, requests: list[dict[str, Any]]) -> int:
        for start in range(0, len(requests), BATCH_WRITE):
            self._write(requests[start : start + BATCH_WRITE])
        self.writes += len(requests)
        return len(requests)

    def _write(self, chunk: list[dict[str, Any]]) -> None:
        request: dict[str, Any] = {self.table_name: chunk}
        for _ in range(BATCH_WRITE_ATTEMPTS):
            with aws_errors():
                answer = self._db.batch_write_item(RequestItems=request)
            request = dict(answer.get("UnprocessedItems") or {})
            if not request:
                return
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
