"""A conferencing connection's user directory and the state of its sync job (docs/sync.md).

| item | pk | sk | lifetime |
|---|---|---|---|
| directory user | ``DIRECTORY#{cnx}`` | ``USER#{lower-cased email}`` | |
| directory sync | ``DIRECTORY#{cnx}`` | ``SYNC`` | a running sync's lease (``lease_until``) |
| listed users | ``DIRECTORY#{cnx}`` | ``LISTING#{sync id}#{part}`` | deleted at the end; TTL 7 days |
| synced connection | ``DIRECTORIES`` | ``CONNECTION#{cnx}`` | (the scheduled reconcile's list) |

The sync item is started with one conditional write (so one sync runs per connection) and every
later write of it is conditional on its sync id and chunk number, so a stale or redelivered chunk
message changes nothing. Directory users are written with BatchWriteItem (25 a request).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from orgconnect.domain.bulk_matching import DirectoryChanges
from orgconnect.domain.conferencing import DirectoryUser, UserStatus
from orgconnect.domain.directory_sync import SyncCursor, SyncState, SyncStats, SyncStatus
from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.store.dynamodb import ConditionFailed, DynamoStore, aws_errors, query_all, to_item, write

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from orgconnect.domain.webhooks_users import UserChange

BATCH_WRITE = 25  # BatchWriteItem's limit
BATCH_WRITE_ATTEMPTS = 5
SYNC_LEASE_SECONDS = 900  # a running sync that made no progress for this long may be taken over
LISTING_TTL_SECONDS = 7 * 24 * 3600
LISTING_PART = 1_000  # users per kept item: ~100 KB
USER_SK, LISTING_SK = "USER#", "LISTING#"


def directory_pk(connection_id: str) -> str:
    return f"DIRECTORY#{connection_id}"


def user_key(connection_id: str, email: str) -> dict[str, str]:
    return {"pk": directory_pk(connection_id), "sk": f"{USER_SK}{email.strip().lower()}"}


REGISTRY_PK = "DIRECTORIES"


def registry_key(connection_id: str) -> dict[str, str]:
    return {"pk": REGISTRY_PK, "sk": f"CONNECTION#{connection_id}"}


def sync_key(connection_id: str) -> dict[str, str]:
    return {"pk": directory_pk(connection_id), "sk": "SYNC"}


def listing_key(connection_id: str, sync_id: str, part: int) -> dict[str, str]:
    return {"pk": directory_pk(connection_id), "sk": f"{LISTING_SK}{sync_id}#{part:06d}"}


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


def state_from(data: dict[str, Any] | None) -> SyncState | None:
    """The sync job's state from its item (None: never started, or an item of the older format)."""
    if data is None or data.get("type") != "directory_sync" or "sync_id" not in data:
        return None
    return SyncState(
        connection_id=data["pk"].removeprefix("DIRECTORY#"),
        sync_id=data["sync_id"],
        status=SyncStatus(data["state"]),
        seq=int(data.get("seq", 0)),
        sent=int(data.get("sent", 0)),
        cursor=SyncCursor.from_dict(data.get("cursor")),
        stats=SyncStats.from_dict(data.get("stats")),
        expires_at=int(data.get("lease_until", 0)),
        reason=data.get("reason"),
    )


class DynamoDirectory:
    """Directory users by connection and email, the listed pages, and the sync job's item."""

    def __init__(self, store: DynamoStore, *, clock: Callable[[], int]) -> None:
        self._store = store
        self._db: DynamoDBClient = store.client
        self.table_name = store.table_name
        self._clock = clock
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

    # -- the sync job --------------------------------------------------------------------------

    def synced(self, connection_id: str) -> bool:
        """Whether the connection's directory was listed completely at least once (one GetItem)."""
        data = self._store.read(sync_key(connection_id))
        return data is not None and ("synced_at" in data or data.get("state") == SyncStatus.DONE)

    def state(self, connection_id: str) -> SyncState | None:
        """The sync job's item (one consistent GetItem)."""
        return state_from(self._store.read(sync_key(connection_id)))

    def start(self, connection_id: str, sync_id: str) -> bool:
        """Start sync ``sync_id`` (one conditional UpdateItem): False while another one runs and
        holds its lease. The last completed sync's ``synced_at`` and ``users`` are kept; the
        connection is recorded for the scheduled reconcile (one PutItem)."""
        now = self._clock()
        try:
            answer = write(
                lambda: self._db.update_item(
                    TableName=self.table_name,
                    Key=to_item(sync_key(connection_id)),
                    ReturnValues="UPDATED_OLD",
                    UpdateExpression=(
                        "SET #type = :type, #s = :running, sync_id = :id, seq = :zero, sent = :unsent, "
                        "#c = :cursor, stats = :stats, started_at = :now, lease_until = :lease "
                        "REMOVE reason, expires_at"
                    ),
                    ConditionExpression=(
                        "attribute_not_exists(pk) OR #s <> :running OR attribute_not_exists(lease_until) "
                        "OR lease_until <= :now"
                    ),
                    ExpressionAttributeNames={"#type": "type", "#s": "state", "#c": "cursor"},
                    ExpressionAttributeValues=to_item(
                        {
                            ":type": "directory_sync",
                            ":running": str(SyncStatus.RUNNING),
                            ":id": sync_id,
                            ":zero": 0,
                            ":unsent": -1,  # chunk 0's message is not queued yet
                            ":cursor": SyncCursor().to_dict(),
                            ":stats": SyncStats().to_dict(),
                            ":now": now,
                            ":lease": now + SYNC_LEASE_SECONDS,
                        }
                    ),
                )
            )
        except ConditionFailed:
            return False
        if "sync_id" not in answer.get("Attributes", {}):  # the connection's first sync
            item = {
                **registry_key(connection_id),
                "type": "synced_connection",
                "connection_id": connection_id,
            }
            self._put(item)
        return True

    def save_progress(
        self, state: SyncState, cursor: SyncCursor, stats: SyncStats, *, seq: int | None = None
    ) -> bool:
        """Save the cursor and stats of the running chunk (or move to chunk ``seq``), conditional
        on the sync id and the current chunk; False when the sync moved on without us."""
        return self._update(
            state,
            "SET #c = :cursor, stats = :stats, seq = :seq, lease_until = :lease",
            {
                ":cursor": cursor.to_dict(),
                ":stats": stats.to_dict(),
                ":seq": state.seq if seq is None else seq,
                ":lease": self._clock() + SYNC_LEASE_SECONDS,
            },
        )

    def mark_sent(self, state: SyncState, seq: int) -> bool:
        """Record that chunk ``seq``'s message was queued."""
        return self._update(state, "SET sent = :sent", {":sent": seq}, same_chunk=False)

    def finish(self, state: SyncState, stats: SyncStats, users: int) -> bool:
        """The sync is done: the directory is current (conditional on the sync id and chunk)."""
        now = self._clock()
        return self._update(
            state,
            "SET #s = :done, stats = :stats, #users = :users, synced_at = :now REMOVE lease_until, #c",
            {":done": str(SyncStatus.DONE), ":stats": stats.to_dict(), ":users": users, ":now": now},
            names={"#users": "users"},
        )

    def fail(self, state: SyncState, reason: str) -> bool:
        """The sync cannot go on (revoked, needs reauthorization): a later one may start."""
        return self._update(
            state,
            "SET #s = :failed, reason = :reason REMOVE lease_until",
            {":failed": str(SyncStatus.FAILED), ":reason": reason},
        )

    # -- listed pages --------------------------------------------------------------------------

    def keep(self, state: SyncState, first_part: int, users: list[DirectoryUser]) -> int:
        """Keep listed users under the sync, 1,000 an item (under DynamoDB's 400 KB limit), as
        parts ``first_part`` on (PutItem each; a repeated attempt overwrites them); the count."""
        rows = [[u.provider_user_id, u.email, u.display_name, str(u.status)] for u in users]
        parts = 0
        for start in range(0, len(rows), LISTING_PART):
            item = {
                **listing_key(state.connection_id, state.sync_id, first_part + parts),
                "type": "directory_listing",
                "users": json.dumps(rows[start : start + LISTING_PART], separators=(",", ":")),
                "expires_at": self._clock() + LISTING_TTL_SECONDS,
            }
            self._put(item)
            parts += 1
        return parts

    def _put(self, item: dict[str, Any]) -> None:
        write(lambda: self._db.put_item(TableName=self.table_name, Item=to_item(item)))

    def listing(self, state: SyncState, parts: int) -> list[DirectoryUser]:
        """The users kept in parts ``0 .. parts - 1``, in order (one Query, paged)."""
        items = self._query(state.connection_id, f"{LISTING_SK}{state.sync_id}#")
        wanted = {listing_key(state.connection_id, state.sync_id, n)["sk"] for n in range(parts)}
        return [
            DirectoryUser(row[0], row[1], row[2], UserStatus(row[3]))
            for item in items
            if item["sk"] in wanted
            for row in json.loads(item["users"])
        ]

    def drop_listing(self, state: SyncState) -> None:
        """Delete the sync's kept pages (BatchWriteItem)."""
        items = self._query(state.connection_id, f"{LISTING_SK}{state.sync_id}#", keys_only=True)
        self._batch([{"DeleteRequest": {"Key": to_item({"pk": i["pk"], "sk": i["sk"]})}} for i in items])

    # -- helpers -------------------------------------------------------------------------------

    def _update(
        self,
        state: SyncState,
        expression: str,
        values: dict[str, Any],
        *,
        same_chunk: bool = True,
        names: dict[str, str] | None = None,
    ) -> bool:
        condition = "sync_id = :id AND #s = :running" + (" AND seq = :current" if same_chunk else "")
        bound = {":id": state.sync_id, ":running": str(SyncStatus.RUNNING), **values}
        if same_chunk:
            bound[":current"] = state.seq
        used = {"#s": "state", "#c": "cursor", **(names or {})}
        text = f"{expression} {condition}"
        try:
            write(
                lambda: self._db.update_item(
                    TableName=self.table_name,
                    Key=to_item(sync_key(state.connection_id)),
                    UpdateExpression=expression,
                    ConditionExpression=condition,
                    ExpressionAttributeNames={k: v for k, v in used.items() if k in text},
                    ExpressionAttributeValues=to_item(bound),
                )
            )
        except ConditionFailed:
            return False
        return True

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
