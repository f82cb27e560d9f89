"""Provisioning policies, stored on their connection's item (``CONNECTION#{cnx}``, store/keys.py):
``provisioning`` (a map), ``provisioning_version``, ``provisioning_updated_at`` and, while a
policy-off removal is unfinished, ``provisioning_pending_removal`` (``{policy, since}``).

On the connection item, the policy is read with it (``GET /v1/organizational_unit`` needs no
extra read), relinking in the browser flow keeps it (that write SETs named attributes only), and
a removed connection's tombstone takes it along. Every replacement is one conditional
UpdateItem that adds 1 to the version, so concurrent PUTs each get their own version; it also
drops a pending removal (the new policy is what counts). A pending removal is written and cleared
on the condition that the version is still the one it belongs to.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from orgconnect.domain.conferencing_connections import ConnectionNotFound
from orgconnect.domain.model import OrganizationalUnit
from orgconnect.domain.provisioning_policy import (
    PendingRemoval,
    ProvisioningPolicy,
    StoredPolicy,
    parse_policy,
)
from orgconnect.domain.provisioning_policy_management import PolicySubject, StaleVersion
from orgconnect.store import keys
from orgconnect.store.dynamodb import ConditionFailed, DynamoStore, from_item, to_item, write
from orgconnect.store.organization import DynamoOrganizationalUnits

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _plain(value: Any) -> Any:
    """Numbers nested in a map come back as Decimal; the policy's are integers."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def stored_policy_from(item: Mapping[str, Any]) -> StoredPolicy:
    """The policy of a connection item (the defaults, version 0, when it was never set)."""
    document = item.get("provisioning")
    if document is None:
        return StoredPolicy(ProvisioningPolicy())
    # Stored documents passed this validation when written; a field added since takes its default.
    policy, _ = parse_policy(_plain(document))
    pending = item.get("provisioning_pending_removal")
    return StoredPolicy(
        policy,
        int(item["provisioning_version"]),
        int(item["provisioning_updated_at"]),
        pending_removal=(
            PendingRemoval(parse_policy(_plain(pending["policy"]))[0], int(pending["since"]))
            if pending is not None
            else None
        ),
    )


class DynamoProvisioningPolicies:
    """:class:`~orgconnect.domain.provisioning_policy.ProvisioningPolicyRepository` over the table."""

    def __init__(self, store: DynamoStore) -> None:
        self._store = store
        self.table_name = store.table_name
        self._db: DynamoDBClient = store.client
        self._organizational_units = DynamoOrganizationalUnits(store)

    def get_organizational_unit(self, ou_id: str) -> OrganizationalUnit | None:
        """One consistent read (the OU of an access token)."""
        found = self._organizational_units.get_many([ou_id])
        return found[0] if found else None

    def get(self, connection_id: str) -> PolicySubject | None:
        """One consistent GetItem; a removed connection (tombstone) reads as absent."""
        data = self._store.read(keys.connection_key(connection_id))
        if data is None or data.get("type") != "connection":
            return None
        return PolicySubject(
            connection_id=data["connection_id"],
            ou_id=data["ou_id"],
            client_id=data["client_id"],
            provider_name=data["provider_name"],
            stored=stored_policy_from(data),
        )

    def replace(
        self, subject: PolicySubject, policy: ProvisioningPolicy, *, expected_version: int | None, now: int
    ) -> StoredPolicy:
        """One UpdateItem: still this OU's connection (and at ``expected_version`` when given)."""
        condition = "#type = :connection AND ou_id = :ou AND client_id = :cid"
        values: dict[str, Any] = {
            ":connection": "connection",
            ":ou": subject.ou_id,
            ":cid": subject.client_id,
            ":policy": policy.to_document(),
            ":zero": 0,
            ":one": 1,
            ":now": now,
        }
        if expected_version == 0:
            condition += " AND attribute_not_exists(provisioning_version)"
        elif expected_version is not None:
            condition += " AND provisioning_version = :expected"
            values[":expected"] = expected_version
        try:
            answer = write(
                lambda: self._db.update_item(
                    TableName=self.table_name,
                    Key=to_item(keys.connection_key(subject.connection_id)),
                    UpdateExpression=(
                        "SET #policy = :policy, provisioning_updated_at = :now, "
                        "provisioning_version = if_not_exists(provisioning_version, :zero) + :one "
                        "REMOVE provisioning_pending_removal"
                    ),
                    ConditionExpression=condition,
                    ExpressionAttributeNames={"#type": "type", "#policy": "provisioning"},  # reserved words
                    ExpressionAttributeValues=to_item(values),
                    ReturnValues="ALL_NEW",
                )
            )
        except ConditionFailed as failed:
            raise self._why_not(subject, expected_version) from failed
        return stored_policy_from(from_item(answer["Attributes"]))

    def _why_not(self, subject: PolicySubject, expected_version: int | None) -> Exception:
        """After a failed condition: the connection left the OU (404), or another PUT came first."""
        now = self.get(subject.connection_id)
        if now is None or now.ou_id != subject.ou_id or now.client_id != subject.client_id:
            return ConnectionNotFound()
        return StaleVersion(expected_version or 0, now.stored.version)

    def record_pending_removal(self, connection_id: str, pending: PendingRemoval, *, version: int) -> bool:
        """One UpdateItem, only while the connection's policy is still at ``version`` (a later PUT
        decides anew); False when it is not (nothing written)."""
        document = {"policy": pending.policy.to_document(), "since": pending.since}
        return self._update_at_version(
            connection_id, version, "SET provisioning_pending_removal = :pending", {":pending": document}
        )

    def clear_pending_removal(self, connection_id: str, *, version: int, since: int) -> bool:
        """One UpdateItem: drop the pending removal recorded ``since`` at ``version``; False when
        the policy or the pending removal changed meanwhile (nothing written)."""
        return self._update_at_version(
            connection_id,
            version,
            "REMOVE provisioning_pending_removal",
            {":since": since},
            also="provisioning_pending_removal.since = :since",
        )

    def _update_at_version(
        self, connection_id: str, version: int, update: str, values: dict[str, Any], *, also: str = ""
    ) -> bool:
        """``update`` on the connection item while its policy is at ``version`` (and ``also``
        holds); False when it is not (nothing written)."""
        condition = "#type = :connection AND provisioning_version = :version"
        try:
            write(
                lambda: self._db.update_item(
                    TableName=self.table_name,
                    Key=to_item(keys.connection_key(connection_id)),
                    UpdateExpression=update,
                    ConditionExpression=f"{condition} AND {also}" if also else condition,
                    ExpressionAttributeNames={"#type": "type"},
                    ExpressionAttributeValues=to_item(
                        {":connection": "connection", ":version": version, **values}
                    ),
                )
            )
        except ConditionFailed:
            return False
        return True
