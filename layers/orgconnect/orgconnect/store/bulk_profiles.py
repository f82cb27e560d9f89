"""A whole Organizational Unit's accounts and their profiles at one connection, read and written in
bulk for a connection sync (docs/sync.md). Same items and keys as
:mod:`orgconnect.store.conferencing_profiles`.

| read | how |
|---|---|
| the OU's calendar service accounts | one gsi1 Query (``OU#{ou}`` / ``SERVICEACCOUNT#``) |
| their accounts | one gsi1 Query per service account (``ACCOUNTS#{ser}``, see store/accounts.py) |
| the accounts' profiles at the connection | BatchGetItem, 100 keys a request |

Profiles are written one conditional PutItem each (only the changed ones): a new profile only if
the account has none for the connection or the same id (a concurrent first match keeps its id),
a changed one only while it has the id read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from orgconnect.domain.accounts import Account
from orgconnect.domain.bulk_matching import ChangeKind, ProfileChange
from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.domain.matching import ConferencingProfile
from orgconnect.store import keys
from orgconnect.store.accounts import account_from, accounts_index
from orgconnect.store.conferencing_profiles import _profile_item, profile_from, profile_key
from orgconnect.store.dynamodb import (
    ConditionFailed,
    DynamoStore,
    aws_errors,
    from_item,
    query_all,
    to_item,
    write,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BATCH_GET = 100  # BatchGetItem's limit
BATCH_GET_ATTEMPTS = 5


class DynamoBulkProfiles:
    """The OU's accounts and their profiles at a connection; changed profiles written."""

    def __init__(self, store: DynamoStore) -> None:
        self._store = store
        self._db: DynamoDBClient = store.client
        self.table_name = store.table_name
        self.writes = 0  # profiles written, for the sync's report

    def accounts(self, ou_id: str) -> list[Account]:
        """Every account provisioned through a calendar service account of the OU."""
        tenants = self._index(keys.ou_member_index(ou_id), "SERVICEACCOUNT#")
        found: list[Account] = []
        for tenant in tenants:
            if tenant.get("type") != "service_account":
                continue
            items = self._index(accounts_index(tenant["service_account_id"]), "ACCOUNT#")
            found += [a for a in (account_from(i) for i in items) if a is not None]
        return found

    def profiles(self, connection_id: str, account_ids: Iterable[str]) -> dict[str, ConferencingProfile]:
        """The accounts' profiles at the connection, by account id (BatchGetItem)."""
        wanted = [profile_key(a, connection_id) for a in dict.fromkeys(account_ids)]
        found: dict[str, ConferencingProfile] = {}
        for start in range(0, len(wanted), BATCH_GET):
            for data in self._batch_get(wanted[start : start + BATCH_GET]):
                profile = profile_from(data)
                if profile is not None:
                    found[profile.account_id] = profile
        return found

    def apply(self, change: ProfileChange) -> ConferencingProfile | None:
        """Write one changed profile (a conditional PutItem); None when the stored profile is no
        longer the one reconciled (a concurrent match or event wins; the next sync looks again)."""
        profile = change.after
        if change.kind is ChangeKind.CREATED:
            condition = "attribute_not_exists(pk) OR profile_id = :id"
        else:
            condition = "profile_id = :id"
        try:
            write(
                lambda: self._db.put_item(
                    TableName=self.table_name,
                    Item=to_item(_profile_item(profile)),
                    ConditionExpression=condition,
                    ExpressionAttributeValues=to_item({":id": profile.profile_id}),
                )
            )
        except ConditionFailed:
            return None
        self.writes += 1
        return profile

    def _index(self, pk: str, prefix: str) -> list[dict[str, Any]]:
        return query_all(
            self._db,
            TableName=self.table_name,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :sk)",
            ExpressionAttributeValues=to_item({":pk": pk, ":sk": prefix}),
        )

    def _batch_get(self, wanted: list[dict[str, str]]) -> list[dict[str, Any]]:
        request: dict[str, Any] = {
            self.table_name: {"Keys": [to_item(k) for k in wanted], "ConsistentRead": True}
        }
        found: list[dict[str, Any]] = []
        for _ in range(BATCH_GET_ATTEMPTS):
            with aws_errors():
                answer = self._db.batch_get_item(RequestItems=request)
            found += [from_item(i) for i in answer.get("Responses", {}).get(self.table_name, [])]
            request = dict(answer.get("UnprocessedKeys") or {})
            if not request:
                return found
        raise TemporarilyUnavailable("BatchGetItem left keys unprocessed")
