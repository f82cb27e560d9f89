"""Accounts' conferencing profiles, and the conferencing connections an account is matched against.

| item | pk | sk |
|---|---|---|
| conferencing profile | ``ACCOUNT#{acc}`` | ``CONFPROFILE#{cnx}`` |

One profile per account and connection, beside the account item: an account's profiles are one
Query. The profile id is fixed by the first write (a conditional PutItem), so redelivered or
concurrent matches of one account keep one profile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orgconnect.domain.conferencing import UserStatus
from orgconnect.domain.conferencing_connections import ManagedConnection
from orgconnect.domain.matching import ConferencingProfile
from orgconnect.store import keys
from orgconnect.store.conferencing_connections import connection_from
from orgconnect.store.dynamodb import ConditionFailed, DynamoStore, query_all, to_item, write

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PROFILE_SK = "CONFPROFILE#"


def profile_key(account_id: str, connection_id: str) -> dict[str, str]:
    return {"pk": f"ACCOUNT#{account_id}", "sk": f"{PROFILE_SK}{connection_id}"}


def _profile_item(profile: ConferencingProfile) -> dict[str, Any]:
    return {
        **profile_key(profile.account_id, profile.connection_id),
        "type": "conferencing_profile",
        "profile_id": profile.profile_id,
        "account_id": profile.account_id,
        "connection_id": profile.connection_id,
        "provider_name": profile.provider_name,
        "provider_user_id": profile.provider_user_id,
        "profile_name": profile.profile_name,
        "status": str(profile.status),
    }


def profile_from(data: dict[str, Any] | None) -> ConferencingProfile | None:
    """A profile from its item, or None."""
    if data is None or data.get("type") != "conferencing_profile":
        return None
    return ConferencingProfile(
        profile_id=data["profile_id"],
        account_id=data["account_id"],
        connection_id=data["connection_id"],
        provider_name=data["provider_name"],
        provider_user_id=data["provider_user_id"],
        profile_name=data["profile_name"],
        status=UserStatus(data["status"]),
    )


class DynamoConferencingProfiles:
    """Profiles by account (Query on the account's partition) and their conditional writes."""

    def __init__(self, store: DynamoStore) -> None:
        self._store = store
        self._db: DynamoDBClient = store.client
        self.table_name = store.table_name

    def for_account(self, account_id: str) -> list[ConferencingProfile]:
        """Every profile of the account, by connection id (one Query)."""
        items = query_all(
            self._db,
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :sk)",
            ExpressionAttributeValues=to_item({":pk": f"ACCOUNT#{account_id}", ":sk": PROFILE_SK}),
            ConsistentRead=True,
        )
        return [p for p in (profile_from(i) for i in items) if p is not None]

    def save(self, profile: ConferencingProfile) -> ConferencingProfile:
        """Write the profile unless the account already has one for the connection under another
        id (a concurrent first match); returns the stored profile."""
        try:
            write(
                lambda: self._db.put_item(
                    TableName=self.table_name,
                    Item=to_item(_profile_item(profile)),
                    ConditionExpression="attribute_not_exists(pk) OR profile_id = :id",
                    ExpressionAttributeValues=to_item({":id": profile.profile_id}),
                )
            )
        except ConditionFailed:
            stored = profile_from(self._store.read(profile_key(profile.account_id, profile.connection_id)))
            if stored is None:
                raise
            return stored
        return profile

    def connections(self, ou_id: str) -> list[ManagedConnection]:
        """The OU's conferencing connections that are linked (one gsi1 Query)."""
        items = query_all(
            self._db,
            TableName=self.table_name,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :c)",
            ExpressionAttributeValues=to_item({":pk": keys.ou_member_index(ou_id), ":c": "CONNECTION#"}),
        )
        return [connection_from(i) for i in items if i.get("type") == "connection"]

    def connection(self, connection_id: str) -> ManagedConnection | None:
        """One connection (GetItem), None when removed."""
        data = self._store.read(keys.connection_key(connection_id))
        if data is None or data.get("type") != "connection":
            return None
        return connection_from(data)
