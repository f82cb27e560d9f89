"""Accounts' conferencing profiles, and the conferencing connections an account is matched against.

| item | pk | sk | gsi1pk / gsi1sk |
|---|---|---|---|
| profile | ``ACCOUNT#{acc}`` | ``CONFPROFILE#{cnx}`` | ``CONFPROFILES#{cnx}`` / ``USER#{user}#{acc}`` |

One profile per account and connection, beside the account item: an account's profiles are one
Query. The profile id is fixed by the first write (a conditional PutItem), so redelivered or
concurrent matches of one account keep one profile. gsi1 finds a connection's profiles, and the
ones of one provider user (a user event names only the user's stable id).

A user event's update (:meth:`DynamoConferencingProfiles.apply_user_change`) is conditional on
the time of the event that last set the attribute (``status_ts``, ``email_ts``, epoch ms), so a
replayed or older event changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from msgspec.structs import replace

from orgconnect.domain.conferencing import UserStatus
from orgconnect.domain.conferencing_connections import ManagedConnection
from orgconnect.domain.matching import ConferencingProfile
from orgconnect.domain.model import ConnectionStatus
from orgconnect.domain.webhooks_users import ProfileChange, UserChange
from orgconnect.store import keys
from orgconnect.store.conferencing_connections import connection_from
from orgconnect.store.dynamodb import ConditionFailed, DynamoStore, query_all, to_item, write

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PROFILE_SK = "CONFPROFILE#"


def profile_key(account_id: str, connection_id: str) -> dict[str, str]:
    return {"pk": f"ACCOUNT#{account_id}", "sk": f"{PROFILE_SK}{connection_id}"}


def connection_profiles_index(connection_id: str) -> str:
    """gsi1pk of every profile matched at ``connection_id``."""
    return f"CONFPROFILES#{connection_id}"


def provider_user_prefix(provider_user_id: str) -> str:
    """gsi1sk prefix of the profiles matched to one provider user."""
    return f"USER#{provider_user_id}#"


def _profile_item(profile: ConferencingProfile) -> dict[str, Any]:
    return {
        **profile_key(profile.account_id, profile.connection_id),
        "gsi1pk": connection_profiles_index(profile.connection_id),
        "gsi1sk": provider_user_prefix(profile.provider_user_id) + profile.account_id,
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

    # -- provider webhooks (domain/webhooks_users.py) and connection status -------------------

    def of_connection(
        self, connection_id: str, provider_user_id: str | None = None
    ) -> list[ConferencingProfile]:
        """The connection's profiles (one gsi1 Query), or only those of one provider user."""
        condition, values = "gsi1pk = :pk", {":pk": connection_profiles_index(connection_id)}
        if provider_user_id is not None:
            condition += " AND begins_with(gsi1sk, :user)"
            values[":user"] = provider_user_prefix(provider_user_id)
        items = query_all(
            self._db,
            TableName=self.table_name,
            IndexName="gsi1",
            KeyConditionExpression=condition,
            ExpressionAttributeValues=to_item(values),
        )
        return [p for p in (profile_from(i) for i in items) if p is not None]

    def apply_user_change(self, connection_id: str, change: UserChange) -> list[ProfileChange]:
        """Set the status and email a user event brings on each profile of its user, each unless a
        later event set it already (one conditional UpdateItem per attribute and profile); the
        profiles whose value changed."""
        status = UserStatus.INACTIVE if change.removed else change.status
        changed: list[ProfileChange] = []
        for profile in self.of_connection(connection_id, change.provider_user_id):
            # Written even when the value is the same: its time must stop an older, different event.
            now = profile
            if status is not None and self._set_attribute(
                profile, "status", str(status), "status_ts", change.event_ts
            ):
                now = replace(now, status=status)
            if (
                change.renamed
                and change.email is not None
                and self._set_attribute(profile, "profile_name", change.email, "email_ts", change.event_ts)
            ):
                now = replace(now, profile_name=change.email)
            if now != profile:
                changed.append(ProfileChange(profile, now))
        return changed

    def _set_attribute(
        self, profile: ConferencingProfile, name: str, value: str, ts_name: str, ts: int
    ) -> bool:
        """One conditional UpdateItem: False when the profile is gone, rematched, or was set by a
        later event."""
        try:
            write(
                lambda: self._db.update_item(
                    TableName=self.table_name,
                    Key=to_item(profile_key(profile.account_id, profile.connection_id)),
                    UpdateExpression="SET #a = :v, #ts = :ts",
                    ConditionExpression=(
                        "profile_id = :id AND provider_user_id = :user "
                        "AND (attribute_not_exists(#ts) OR #ts < :ts)"
                    ),
                    ExpressionAttributeNames={"#a": name, "#ts": ts_name},
                    ExpressionAttributeValues=to_item(
                        {":v": value, ":ts": ts, ":id": profile.profile_id, ":user": profile.provider_user_id}
                    ),
                )
            )
        except ConditionFailed:
            return False
        return True

    def connection_statuses(self, connection_ids: Iterable[str]) -> dict[str, ConnectionStatus]:
        """The status of each connection that still exists (one BatchGetItem; a removed one is absent)."""
        wanted = [keys.connection_key(c) for c in dict.fromkeys(connection_ids)]
        found = self._store.batch_get(wanted) if wanted else {}
        return {
            data["connection_id"]: ConnectionStatus(data["status"])
            for data in (found.get(k["pk"]) for k in wanted)
            if data is not None and data.get("type") == "connection"
        }
