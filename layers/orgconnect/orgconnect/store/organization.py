"""What an Organizational Unit is made of, in DynamoDB: OUs (``OU#``), service accounts
(``SERVICEACCOUNT#``), conferencing connections (``CONNECTION#``) and provider-account links
(``PROVIDERACCOUNT#``), as the flow reads them; the approval writes them (store/approvals.py).
The flow reads a service account with store/service_accounts.py's DynamoServiceAccounts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from orgconnect.domain.model import (
    ConnectionStatus,
    OrganizationalUnit,
    ProviderAccountLink,
    ServiceAccount,
)
from orgconnect.domain.webhooks_deauthorization import Revocation
from orgconnect.store import keys
from orgconnect.store.dynamodb import ConditionFailed, DynamoStore, query_all, to_item, transact


def organizational_unit_item(ou: OrganizationalUnit) -> dict[str, Any]:
    return {
        **keys.organizational_unit_key(ou.ou_id),
        "type": "organizational_unit",
        "ou_id": ou.ou_id,
        "client_id": ou.client_id,
        "name": ou.name,
        "created_at": ou.created_at,
    }


def organizational_unit_from(data: Mapping[str, Any]) -> OrganizationalUnit:
    return OrganizationalUnit(data["ou_id"], data["client_id"], data["name"], data.get("created_at", 0))


class ConnectionFields(Protocol):
    """What every kind of connection item holds (the browser flow's and the OU API's)."""

    @property
    def connection_id(self) -> str: ...

    @property
    def ou_id(self) -> str: ...

    @property
    def client_id(self) -> str: ...

    @property
    def provider_name(self) -> str: ...

    @property
    def provider_account_id(self) -> str: ...

    @property
    def account_name(self) -> str: ...

    @property
    def status(self) -> ConnectionStatus: ...

    @property
    def secret_arn(self) -> str: ...

    @property
    def updated_at(self) -> int: ...


def connection_attributes(connection: ConnectionFields) -> dict[str, Any]:
    """A conferencing connection's attributes (without its key and ``created_at``)."""
    return {
        "type": "connection",
        "gsi1pk": keys.ou_member_index(connection.ou_id),
        "gsi1sk": f"CONNECTION#{connection.connection_id}",
        "connection_id": connection.connection_id,
        "ou_id": connection.ou_id,
        "client_id": connection.client_id,
        "provider_name": connection.provider_name,
        "provider_account_id": connection.provider_account_id,
        "account_name": connection.account_name,
        "status": str(connection.status),
        "secret_arn": connection.secret_arn,
        "updated_at": connection.updated_at,
    }


def calendar_service_account_attributes(account: ServiceAccount) -> dict[str, Any]:
    """A calendar tenant linked through ``capabilities[]=calendars`` (without key and ``created_at``)."""
    if account.organizational_unit_id is None:
        raise ValueError("a linked calendar tenant belongs to an OU")
    return {
        "type": "service_account",
        "gsi1pk": keys.ou_member_index(account.organizational_unit_id),
        "gsi1sk": f"SERVICEACCOUNT#{account.service_account_id}",
        "service_account_id": account.service_account_id,
        "client_id": account.client_id,
        "provider": str(account.provider),
        "domain": account.domain,
        "admin_email": account.admin_email,
        "organizational_unit_id": account.organizational_unit_id,
    }


def link_key(link: ProviderAccountLink) -> dict[str, str]:
    return keys.provider_account_key(link.client_id, link.provider_name, link.account_id)


def link_item(link: ProviderAccountLink) -> dict[str, Any]:
    return {
        **link_key(link),
        "type": "provider_account",
        "gsi1pk": keys.provider_account_index(link.provider_name, link.account_id),
        "gsi1sk": f"CLIENT#{link.client_id}",
        "client_id": link.client_id,
        "provider_name": link.provider_name,
        "account_id": link.account_id,
        "ou_id": link.ou_id,
        "connection_id": link.connection_id,
        "secret_arn": link.secret_arn,
        "service_account_id": link.service_account_id,
        "created_at": link.created_at,
        "updated_at": link.updated_at,
    }


def link_from(
    data: Mapping[str, Any], client_id: str, provider_name: str, account_id: str
) -> ProviderAccountLink:
    return ProviderAccountLink(
        client_id=data.get("client_id", client_id),
        provider_name=data.get("provider_name", provider_name),
        account_id=data.get("account_id", account_id),
        ou_id=data["ou_id"],
        connection_id=data.get("connection_id"),
        secret_arn=data.get("secret_arn"),
        service_account_id=data.get("service_account_id"),
        # Links written before created_at was kept on calendar links have only updated_at.
        created_at=data.get("created_at", data.get("updated_at", 0)),
        updated_at=data.get("updated_at", 0),
    )


class DynamoOrganizationalUnits:
    """:class:`~orgconnect.domain.ports.OrganizationalUnitRepository` over the single table."""

    def __init__(self, store: DynamoStore) -> None:
        self._store = store

    def get_many(self, ou_ids: list[str]) -> list[OrganizationalUnit]:
        """One BatchGetItem (none for no ids), in the order asked."""
        found = self._store.batch_get([keys.organizational_unit_key(i) for i in dict.fromkeys(ou_ids)])
        ous = (found.get(keys.organizational_unit_key(i)["pk"]) for i in dict.fromkeys(ou_ids))
        return [organizational_unit_from(d) for d in ous if d and d.get("type") == "organizational_unit"]


class DynamoConnections:
    """:class:`~orgconnect.domain.ports.ConnectionRepository` over the single table."""

    def __init__(self, store: DynamoStore) -> None:
        self._store = store

    def get_link(self, client_id: str, provider_name: str, account_id: str) -> ProviderAccountLink | None:
        data = self._store.read(keys.provider_account_key(client_id, provider_name, account_id))
        return link_from(data, client_id, provider_name, account_id) if data else None

    # -- provider webhooks (domain/webhooks_deauthorization.py) ------------------------------

    def links_of_account(self, provider_name: str, account_id: str) -> list[ProviderAccountLink]:
        """One Query of gsi1: every client's link to the account."""
        found = query_all(
            self._store.client,
            TableName=self._store.table_name,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues=to_item(
                {":pk": keys.provider_account_index(provider_name, account_id)}
            ),
        )
        return [
            link_from(d, d["client_id"], provider_name, account_id)
            for d in found
            if d.get("type") == "provider_account"
        ]

    def revoke(self, link: ProviderAccountLink, *, event_time: int, now: int) -> Revocation:
        """One transaction: the link was not relinked after ``event_time`` (ConditionCheck) and the
        connection, not yet revoked, becomes ``revoked``."""
        if link.connection_id is None:
            raise ValueError("a conferencing link names its connection")
        table = self._store.table_name
        try:
            transact(
                self._store.client,
                [
                    self._link_unchanged_since(link, event_time),
                    {
                        "Update": {
                            "TableName": table,
                            "Key": to_item(keys.connection_key(link.connection_id)),
                            "UpdateExpression": "SET #status = :revoked, updated_at = :now",
                            "ConditionExpression": "attribute_exists(pk) AND #status <> :revoked",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": to_item({":revoked": "revoked", ":now": now}),
                        }
                    },
                ],
            )
        except ConditionFailed as failed:
            return Revocation.RELINKED if failed.at(0) else Revocation.ALREADY_REVOKED
        return Revocation.REVOKED

    def forget_secret(self, link: ProviderAccountLink, *, event_time: int) -> None:
        """One transaction removing ``secret_arn`` from the link and the revoked connection; a lost
        condition means it was already done (or the account was relinked): nothing to do."""
        if link.connection_id is None or link.secret_arn is None:
            return
        table = self._store.table_name
        check = self._link_unchanged_since(link, event_time)["ConditionCheck"]
        try:
            transact(
                self._store.client,
                [
                    {
                        "Update": {
                            **check,
                            "UpdateExpression": "REMOVE secret_arn",
                            "ConditionExpression": check["ConditionExpression"] + " AND secret_arn = :arn",
                            "ExpressionAttributeValues": to_item(
                                {":cnx": link.connection_id, ":t": event_time, ":arn": link.secret_arn}
                            ),
                        }
                    },
                    {
                        "Update": {
                            "TableName": table,
                            "Key": to_item(keys.connection_key(link.connection_id)),
                            "UpdateExpression": "REMOVE secret_arn",
                            "ConditionExpression": "#status = :revoked AND secret_arn = :arn",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": to_item(
                                {":revoked": "revoked", ":arn": link.secret_arn}
                            ),
                        }
                    },
                ],
            )
        except ConditionFailed:
            return

    def _link_unchanged_since(self, link: ProviderAccountLink, event_time: int) -> dict[str, Any]:
        return {
            "ConditionCheck": {
                "TableName": self._store.table_name,
                "Key": to_item(link_key(link)),
                "ConditionExpression": "connection_id = :cnx AND updated_at <= :t",
                "ExpressionAttributeValues": to_item({":cnx": link.connection_id, ":t": event_time}),
            }
        }
