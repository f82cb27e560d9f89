"""The refresh lease of a conferencing connection (domain/connection_credentials.py), one item per
connection: pk ``CONNECTIONLEASE#{cnx}``, sk ``CONNECTIONLEASE``, ``holder``, ``base_version``
(the secret version the holder refreshes from), ``failure`` (set by a failed refresh) and
``expires_at`` (the table's TTL attribute; TTL deletion is lazy, so the condition checks it).

Taking a lease is one conditional PutItem that returns the item it replaced (an expired lease of
a holder that never released it); a caller that loses reads the live lease with one GetItem.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orgconnect.domain.connection_credentials import Lease, LeaseAttempt
from orgconnect.store.dynamodb import ConditionFailed, DynamoStore, from_item, to_item, write

LEASE_KIND = "CONNECTIONLEASE"


def lease_key(connection_id: str) -> dict[str, str]:
    """The key of a connection's lease item."""
    return {"pk": f"{LEASE_KIND}#{connection_id}", "sk": LEASE_KIND}


def lease_from(data: Mapping[str, Any]) -> Lease:
    """A lease from its item."""
    return Lease(
        connection_id=data["connection_id"],
        holder=data["holder"],
        expires_at=int(data["expires_at"]),
        base_version=data.get("base_version", ""),
        failure=data.get("failure"),
    )


class DynamoConnectionLeases:
    """:class:`~orgconnect.domain.connection_credentials.ConnectionLeases` over the single table."""

    def __init__(self, store: DynamoStore) -> None:
        self._store = store
        self._db = store.client
        self._table = store.table_name

    def acquire(self, lease: Lease, *, now: int) -> LeaseAttempt:
        """PutItem if no live lease exists (``expires_at <= now`` counts as none)."""
        item = {
            **lease_key(lease.connection_id),
            "type": "connection_lease",
            "connection_id": lease.connection_id,
            "holder": lease.holder,
            "base_version": lease.base_version,
            "acquired_at": now,
            "expires_at": lease.expires_at,
        }
        try:
            answer = write(
                lambda: self._db.put_item(
                    TableName=self._table,
                    Item=to_item(item),
                    ConditionExpression="attribute_not_exists(pk) OR expires_at <= :now",
                    ExpressionAttributeValues=to_item({":now": now}),
                    ReturnValues="ALL_OLD",
                )
            )
        except ConditionFailed:
            live = self._store.read(lease_key(lease.connection_id))
            current = lease_from(live) if live is not None and int(live["expires_at"]) > now else None
            return LeaseAttempt(acquired=False, current=current)
        old = answer.get("Attributes")
        return LeaseAttempt(acquired=True, taken_over=lease_from(from_item(old)) if old else None)

    def release(self, connection_id: str, holder: str) -> None:
        """DeleteItem if ``holder`` still holds it (a lease taken over meanwhile is left alone)."""
        try:
            write(
                lambda: self._db.delete_item(
                    TableName=self._table,
                    Key=to_item(lease_key(connection_id)),
                    ConditionExpression="holder = :me",
                    ExpressionAttributeValues=to_item({":me": holder}),
                )
            )
        except ConditionFailed:
            return

    def hold_failure(self, connection_id: str, holder: str, *, failure: str, until: int) -> None:
        """UpdateItem: the lease stays until ``until`` and tells its waiters why the refresh failed."""
        try:
            write(
                lambda: self._db.update_item(
                    TableName=self._table,
                    Key=to_item(lease_key(connection_id)),
                    UpdateExpression="SET failure = :failure, expires_at = :until",
                    ConditionExpression="holder = :me",
                    ExpressionAttributeValues=to_item({":failure": failure, ":until": until, ":me": holder}),
                )
            )
        except ConditionFailed:
            return
