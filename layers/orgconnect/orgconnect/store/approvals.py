"""The approval of SPEC 3 step 7 as one ``TransactWriteItems``: finish the request, create or
check the OU, link the service account, write the member (connection or calendar tenant) and its
provider-account link, issue the code. Any failed condition cancels all of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from orgconnect.domain.authorization import Approval, Step
from orgconnect.domain.model import Connection, ServiceAccount
from orgconnect.domain.ports import StepConflict
from orgconnect.store import keys
from orgconnect.store.dynamodb import ConditionFailed, DynamoStore, to_item, transact
from orgconnect.store.organization import (
    calendar_service_account_attributes,
    connection_attributes,
    link_item,
    organizational_unit_item,
)
from orgconnect.store.tokens import code_put

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoApprovals:
    """:class:`~orgconnect.domain.ports.ApprovalRepository` over the single table."""

    def __init__(self, store: DynamoStore, *, clock: Callable[[], int]) -> None:
        self.table_name = store.table_name
        self._db: DynamoDBClient = store.client
        self._clock = clock

    def approve(self, approval: Approval) -> None:
        """One transaction; StepConflict if any condition no longer holds (replay, lost race)."""
        items = [
            self._finish_request(approval),
            self._organizational_unit(approval),
            self._link_service_account(approval),
            *self._member(approval),
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": to_item(link_item(approval.link)),
                    **({"ConditionExpression": "attribute_not_exists(pk)"} if approval.link_is_new else {}),
                }
            },
            code_put(self.table_name, approval.code_digest, approval.code, approval.ou.name),
        ]
        try:
            transact(self._db, items)
        except ConditionFailed as failed:
            raise StepConflict() from failed

    def _finish_request(self, approval: Approval) -> dict[str, Any]:
        request = approval.request
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": to_item(keys.authorization_request_key(request.request_id)),
                "UpdateExpression": "SET step = :done, outcome = :approved REMOVE pending",
                "ConditionExpression": "step = :consent AND expires_at > :now AND browser_digest = :b",
                "ExpressionAttributeValues": to_item(
                    {
                        ":done": str(Step.DONE),
                        ":approved": "approved",
                        ":consent": str(Step.CONSENT),
                        ":now": self._clock(),
                        ":b": request.browser_digest,
                    }
                ),
            }
        }

    def _organizational_unit(self, approval: Approval) -> dict[str, Any]:
        ou = approval.ou
        if approval.ou_is_new:
            return {
                "Put": {
                    "TableName": self.table_name,
                    "Item": to_item(organizational_unit_item(ou)),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        return {
            "ConditionCheck": {
                "TableName": self.table_name,
                "Key": to_item(keys.organizational_unit_key(ou.ou_id)),
                "ConditionExpression": "client_id = :cid",
                "ExpressionAttributeValues": to_item({":cid": ou.client_id}),
            }
        }

    def _link_service_account(self, approval: Approval) -> dict[str, Any]:
        """The flow's service account joins the OU (condition: still where the page showed it)."""
        account, ou = approval.service_account, approval.ou
        previous = account.organizational_unit_id
        values: dict[str, Any] = {
            ":cid": approval.request.client_id,
            ":ou": ou.ou_id,
            ":g1": keys.ou_member_index(ou.ou_id),
            ":g1s": f"SERVICEACCOUNT#{account.service_account_id}",
        }
        if previous:
            values[":prev"] = previous
        where = (
            "organizational_unit_id = :prev" if previous else "attribute_not_exists(organizational_unit_id)"
        )
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": to_item(keys.service_account_key(account.service_account_id)),
                "UpdateExpression": "SET organizational_unit_id = :ou, gsi1pk = :g1, gsi1sk = :g1s",
                "ConditionExpression": f"client_id = :cid AND {where}",
                "ExpressionAttributeValues": to_item(values),
            }
        }

    def _member(self, approval: Approval) -> list[dict[str, Any]]:
        """The member's Update, keeping its ``created_at`` when it exists (relinking refreshes in
        place). None when the member is the flow's own service account: the item is written once."""
        member = approval.member
        if member is None:
            return []
        if isinstance(member, Connection):
            key, attributes = keys.connection_key(member.connection_id), connection_attributes(member)
        elif isinstance(member, ServiceAccount):
            if member.service_account_id == approval.service_account.service_account_id:
                return []  # one transaction may touch an item only once (the link above does it)
            key = keys.service_account_key(member.service_account_id)
            attributes = {
                **calendar_service_account_attributes(member),
                "updated_at": approval.code.created_at,
            }
        present = {k: v for k, v in attributes.items() if v is not None}
        names = {f"#a{i}": name for i, name in enumerate(present)}
        values = {f":a{i}": value for i, value in enumerate(present.values())}
        assignments = ", ".join(f"#a{i} = :a{i}" for i in range(len(present)))
        assignments += ", created_at = if_not_exists(created_at, :created)"
        return [
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": to_item(key),
                    "UpdateExpression": f"SET {assignments}",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": to_item({**values, ":created": member.created_at}),
                }
            }
        ]
