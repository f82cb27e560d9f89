"""Accounts that left their Organizational Unit (revoked with ``request_pii_erasure``), so that
the reconcile's provisioning never creates a Zoom user for them again (docs/provisioning.md).

| item | pk | sk |
|---|---|---|
| departed account | ``DEPARTED#{ou}`` | ``ACCOUNT#{acc}`` (ids and a time only: no address) |
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orgconnect.store.dynamodb import DynamoStore, query_all, to_item, write

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def departed_pk(ou_id: str) -> str:
    return f"DEPARTED#{ou_id}"


class DynamoDepartedAccounts:
    """The OU's departed accounts: one PutItem per departure, one Query per reconcile."""

    def __init__(self, store: DynamoStore) -> None:
        self._db: DynamoDBClient = store.client
        self.table_name = store.table_name

    def record(self, ou_id: str, account_id: str, *, now: int) -> None:
        """Mark the account departed (a redelivered departure writes the same item again)."""
        item: dict[str, str | int] = {
            "pk": departed_pk(ou_id),
            "sk": f"ACCOUNT#{account_id}",
            "type": "departed_account",
            "account_id": account_id,
            "departed_at": now,
        }
        write(lambda: self._db.put_item(TableName=self.table_name, Item=to_item(item)))

    def account_ids(self, ou_id: str) -> frozenset[str]:
        """Every departed account of the OU."""
        items = query_all(
            self._db,
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=to_item({":pk": departed_pk(ou_id)}),
            ProjectionExpression="account_id",
        )
        return frozenset(str(i["account_id"]) for i in items)
