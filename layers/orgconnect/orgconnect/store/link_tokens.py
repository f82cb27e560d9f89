"""Single-use OU link tokens (``OULINKTOKEN#{token digest}``): the
:class:`~orgconnect.domain.ports.LinkTokenStore` over the single table.

A token is stored in one transaction with a check that its service account belongs to the client;
reads treat an expired token as absent (TTL deletion is lazy).
"""

from __future__ import annotations

from orgconnect.domain.model import LinkTokenGrant
from orgconnect.domain.ports import ServiceAccountNotFound
from orgconnect.store import keys
from orgconnect.store.dynamodb import DynamoStore, to_item


class DynamoLinkTokens:
    """:class:`~orgconnect.domain.ports.LinkTokenStore` over the single table."""

    def __init__(self, store: DynamoStore) -> None:
        self._store = store

    def put_link_token(self, token_digest: str, grant: LinkTokenGrant) -> None:
        """One transaction: the service account must belong to the client, and the token is new."""
        table = self._store.table_name
        item = to_item(
            {
                **keys.link_token_key(token_digest),
                "type": "ou_link_token",
                "client_id": grant.client_id,
                "service_account_id": grant.service_account_id,
                "created_at": grant.created_at,
                "expires_at": grant.expires_at,
            }
        )
        self._store.transact(
            [
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": to_item(keys.service_account_key(grant.service_account_id)),
                        "ConditionExpression": "client_id = :client_id",
                        "ExpressionAttributeValues": to_item({":client_id": grant.client_id}),
                    }
                },
                {
                    "Put": {
                        "TableName": table,
                        "Item": item,
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ],
            failure_for_first=ServiceAccountNotFound,
        )

    def get_link_token(self, token_digest: str) -> LinkTokenGrant | None:
        """The grant of an unexpired link token (used or not), or None."""
        data = self._store.read(keys.link_token_key(token_digest), live=True)
        if data is None:
            return None
        return LinkTokenGrant(
            client_id=data["client_id"],
            service_account_id=data["service_account_id"],
            created_at=data["created_at"],
            expires_at=data["expires_at"],
        )
