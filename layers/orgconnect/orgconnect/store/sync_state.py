"""The sync job's item and listed pages in a connection's directory partition, and the registry of
synced connections (docs/sync.md). The users themselves are :mod:`orgconnect.store.directory`'s.

| item | pk | sk | lifetime |
|---|---|---|---|
| directory sync | ``DIRECTORY#{cnx}`` | ``SYNC`` | a running sync's lease (``lease_until``) |
| listed users | ``DIRECTORY#{cnx}`` | ``LISTING#{sync id}#{part}`` | deleted at the end; TTL 7 days |
| synced connection | ``DIRECTORIES`` | ``CONNECTION#{cnx}`` | (the scheduled reconcile's list) |

The sync item is started with one conditional write (so one sync runs per connection) and every
later write of it is conditional on its sync id and chunk number, so a stale or redelivered chunk
message changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from orgconnect.domain.conferencing import DirectoryUser, UserStatus
from orgconnect.domain.directory_sync import SyncCursor, SyncState, SyncStats, SyncStatus
from orgconnect.store.directory import DynamoDirectory, directory_pk
from orgconnect.store.dynamodb import ConditionFailed, DynamoStore, to_item, write

SYNC_LEASE_SECONDS = 900  # a running sync that made no progress for this long may be taken over
LISTING_TTL_SECONDS = 7 * 24 * 3600
LISTING_PART = 1_000  # users per kept item: ~100 KB
LISTING_SK = "LISTING#"
REGISTRY_PK = "DIRECTORIES"


def registry_key(connection_id: str) -> dict[str, str]:
    return {"pk": REGISTRY_PK, "sk": f"CONNECTION#{connection_id}"}


def sync_key(connection_id: str) -> dict[str, str]:
    return {"pk": directory_pk(connection_id), "sk": "SYNC"}


def listing_key(connection_id: str, sync_id: str, part: int) -> dict[str, str]:
    return {"pk": directory_pk(connection_id), "sk": f"{LISTING_SK}{sync_id}#{part:06d}"}


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


class DynamoSyncDirectory(DynamoDirectory):
    """A connection's directory with its sync job's item and listed pages: the sync job's one port
    (its users, the diff it applies and the item that leads it) and the matcher's (``synced``)."""

    def __init__(self, store: DynamoStore, *, clock: Callable[[], int]) -> None:
        super().__init__(store)
        self._clock = clock

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
