"""Read model of an Organizational Unit for ``GET /v1/userinfo`` and ``GET /v1/organizational_unit``.

Two reads: the OU item (``OU#{ou}``) and one query of gsi1 (``gsi1pk = OU#{ou}``) that returns
every service account and conferencing connection linked to it (store/keys.py), each
connection with its provisioning policy (store/provisioning_policy.py). Members of
other types that later issues put on the same index are ignored here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orgconnect.domain.organizational_unit_view import (
    ConnectionView,
    OrganizationalUnitView,
    ServiceAccountView,
)
from orgconnect.store import keys
from orgconnect.store.dynamodb import query_all, to_item

if TYPE_CHECKING:
    from orgconnect.domain.provisioning_policy import StoredPolicy
    from orgconnect.store.dynamodb import DynamoStore


class OrganizationalUnitViews:
    """Loads :class:`OrganizationalUnitView` from the single table."""

    def __init__(self, store: DynamoStore) -> None:
        self._store = store
        self.table_name = store.table_name
        self._db = store.client

    @classmethod
    def sharing(cls, store: DynamoStore) -> OrganizationalUnitViews:
        """Views on ``store``'s table, client and read helpers (one client per cold start)."""
        return cls(store)

    def get(self, ou_id: str, *, with_provisioning: bool = False) -> OrganizationalUnitView | None:
        """The OU and its members, or None if there is no such OU; with ``with_provisioning``,
        each connection's provisioning policy (``GET /v1/organizational_unit``)."""
        ou = self._store.read(keys.organizational_unit_key(ou_id))
        if ou is None:
            return None
        service_accounts: list[ServiceAccountView] = []
        connections: list[ConnectionView] = []
        for member in self._members(ou_id):
            kind = member.get("type")
            if kind == "service_account":
                service_accounts.append(
                    ServiceAccountView(member["service_account_id"], member["provider"], member["domain"])
                )
            elif kind == "connection":
                connections.append(
                    ConnectionView(
                        member["connection_id"],
                        member["provider_name"],
                        member["account_name"],
                        member["status"],
                        _provisioning(member) if with_provisioning else None,
                    )
                )
        return OrganizationalUnitView(
            sub=ou_id,
            name=ou["name"],
            client_id=ou["client_id"],
            service_accounts=tuple(service_accounts),
            connections=tuple(connections),
        )

    def _members(self, ou_id: str) -> list[dict[str, Any]]:
        return query_all(
            self._db,
            TableName=self.table_name,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues=to_item({":pk": keys.ou_member_index(ou_id)}),
        )


def _provisioning(connection: dict[str, Any]) -> StoredPolicy | None:
    """The connection's policy, read from its own item (no extra read); None without provisioning."""
    # Imported here: /v1/userinfo never shows policies, so it never loads them.
    from orgconnect.domain.provisioning_policy import PROVISIONING_PROVIDERS
    from orgconnect.store.provisioning_policy import stored_policy_from

    if connection["provider_name"] not in PROVISIONING_PROVIDERS:
        return None
    return stored_policy_from(connection)
