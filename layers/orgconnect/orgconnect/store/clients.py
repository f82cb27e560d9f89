"""Integrator applications (``CLIENT#``) and their API keys (``APIKEY#{secret digest}``): the
:class:`~orgconnect.domain.ports.ClientStore` over the single table.

A client and its API-key item are created in one transaction, each conditional on being new.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orgconnect.domain.model import AdminProofPolicy, ApiKey, Client, ConferencingCategory
from orgconnect.store import keys
from orgconnect.store.dynamodb import DynamoStore, to_item


def client_from(data: Mapping[str, Any] | None) -> Client | None:
    """A client from its item (already read), or None."""
    if data is None or data.get("type") != "client":
        return None
    return Client(
        client_id=data["client_id"],
        name=data["name"],
        secret_digest=data["secret_digest"],
        redirect_uris=tuple(data.get("redirect_uris", [])),
        categories=tuple(ConferencingCategory(c) for c in data.get("categories", [])),
        admin_proof_policy=AdminProofPolicy(data.get("admin_proof_policy", "when_unlinked")),
        notification_url=data.get("notification_url"),
        created_at=data.get("created_at", 0),
    )


class DynamoClients:
    """:class:`~orgconnect.domain.ports.ClientStore` over the single table."""

    def __init__(self, store: DynamoStore) -> None:
        self._store = store

    def create_client(self, client: Client) -> None:
        """Create the client and its API-key item in one transaction."""
        client_item = to_item(
            {
                **keys.client_key(client.client_id),
                "type": "client",
                "client_id": client.client_id,
                "name": client.name,
                "secret_digest": client.secret_digest,
                "redirect_uris": list(client.redirect_uris),
                "categories": [str(c) for c in client.categories],
                "admin_proof_policy": str(client.admin_proof_policy),
                "notification_url": client.notification_url,
                "created_at": client.created_at,
            }
        )
        api_key_item = to_item(
            {
                **keys.api_key_key(client.secret_digest),
                "type": "api_key",
                "client_id": client.client_id,
                "secret_digest": client.secret_digest,
                "created_at": client.created_at,
            }
        )
        new_item = "attribute_not_exists(pk)"
        table = self._store.table_name
        self._store.transact(
            [
                {"Put": {"TableName": table, "Item": client_item, "ConditionExpression": new_item}},
                {"Put": {"TableName": table, "Item": api_key_item, "ConditionExpression": new_item}},
            ]
        )

    def get_client(self, client_id: str) -> Client | None:
        """The client, or None (one consistent GetItem)."""
        return client_from(self._store.read(keys.client_key(client_id)))

    def get_api_key(self, secret_digest: str) -> ApiKey | None:
        """The API key with this secret digest, or None (one consistent GetItem)."""
        data = self._store.read(keys.api_key_key(secret_digest))
        if data is None:
            return None
        return ApiKey(client_id=data["client_id"], secret_digest=data["secret_digest"])
