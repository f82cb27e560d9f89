"""Calendar service accounts (``SERVICEACCOUNT#``) and their domain claims
(``SERVICEACCOUNTDOMAIN#{client}#{provider}#{domain}``, the latest one for its client, provider and
domain: Enterprise Connect finds an existing service account by it).

A service account and its claim are written in one transaction, the account conditional on being
new; Enterprise Connect writes them too (store/enterprise_connect.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orgconnect.domain.errors import Conflict
from orgconnect.domain.model import CalendarProvider, Client, ServiceAccount
from orgconnect.store import keys
from orgconnect.store.clients import client_from
from orgconnect.store.dynamodb import DynamoStore, to_item, write


def service_account_from(data: Mapping[str, Any] | None) -> ServiceAccount | None:
    """A service account from its item (already read), or None."""
    if data is None or data.get("type") != "service_account":
        return None
    return ServiceAccount(
        service_account_id=data["service_account_id"],
        client_id=data["client_id"],
        provider=CalendarProvider(data["provider"]),
        domain=data["domain"],
        admin_email=data.get("admin_email"),
        organizational_unit_id=data.get("organizational_unit_id"),
        created_at=data.get("created_at", 0),
    )


def domain_claim_item(account: ServiceAccount) -> dict[str, Any]:
    """Which service account ``account``'s client has for its provider and domain (the latest)."""
    return {
        **keys.service_account_domain_key(account.client_id, str(account.provider), account.domain),
        "type": "service_account_domain",
        "service_account_id": account.service_account_id,
        "client_id": account.client_id,
    }


class DynamoServiceAccounts:
    """:class:`~orgconnect.domain.ports.ServiceAccountStore` (registration) and
    :class:`~orgconnect.domain.ports.ServiceAccountRepository` (the flow's read) over the table."""

    def __init__(self, store: DynamoStore) -> None:
        self._store = store

    def create_service_account(self, service_account: ServiceAccount) -> None:
        """Create the service account and its domain claim in one transaction (a retried attempt
        of a create that landed rewrites only the claim)."""
        sa = service_account
        table = self._store.table_name
        item = to_item(
            {
                **keys.service_account_key(sa.service_account_id),
                "type": "service_account",
                "service_account_id": sa.service_account_id,
                "client_id": sa.client_id,
                "provider": str(sa.provider),
                "domain": sa.domain,
                "admin_email": sa.admin_email,
                "organizational_unit_id": sa.organizational_unit_id,
                "created_at": sa.created_at,
            }
        )
        # The domain claim lets Enterprise Connect find (and refresh) this service account.
        claim_item = to_item(domain_claim_item(sa))
        claim = {"TableName": table, "Item": claim_item}
        new_item = {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}
        try:
            self._store.transact([{"Put": new_item}, {"Put": claim}])
        except Conflict:  # ours, landed by an attempt whose answer was lost, then retried?
            stored = self._store.read(keys.service_account_key(sa.service_account_id)) or {}
            if (stored.get("client_id"), stored.get("created_at")) != (sa.client_id, sa.created_at):
                raise
            db = self._store.client
            write(lambda: db.put_item(TableName=table, Item=claim_item))  # idempotent

    def get_with_client(
        self, client_id: str, service_account_id: str
    ) -> tuple[Client | None, ServiceAccount | None]:
        """One BatchGetItem."""
        client_key, account_key = keys.client_key(client_id), keys.service_account_key(service_account_id)
        found = self._store.batch_get([client_key, account_key])
        return (
            client_from(found.get(client_key["pk"])),
            service_account_from(found.get(account_key["pk"])),
        )
