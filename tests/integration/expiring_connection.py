"""A browser-linked conferencing connection stored as a link leaves it (an OU item, the connection
item, its tokens' secret), its access token about to expire: what the live-credentials tests
refresh, and the ``invalid_grant`` check they share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from orgconnect import runtime
from orgconnect.domain.conferencing_connections import ManagedConnection
from orgconnect.domain.connection_credentials import ConnectionCredentials, ConnectionNeedsReauthorization
from orgconnect.domain.model import ConnectionStatus, OrganizationalUnit
from orgconnect.domain.provider_model import ProviderTokens
from orgconnect.domain.secrets import new_id
from orgconnect.domain.server_to_server import AuthorizationType
from orgconnect.store.conferencing_connections import DynamoConferencingConnections
from orgconnect.store.dynamodb import to_item
from orgconnect.store.organization import organizational_unit_item
from orgconnect.store.vault import ConnectionVault

SECRET_PREFIX = "orgconnect/test/connections/"


@dataclass
class ExpiringConnection:
    """The stored connection and the vault holding its tokens."""

    connection: ManagedConnection
    vault: ConnectionVault

    def stored(self) -> dict[str, Any]:
        """The tokens in the connection's secret now."""
        data = self.vault.read(self.connection.secret_arn)
        assert data is not None
        return data

    def status(self) -> str:
        """The connection's status as GET /v1/userinfo and GET /v1/organizational_unit read it."""
        view = runtime.get_organizational_unit_views().get(self.connection.ou_id)
        assert view is not None
        (shown,) = [c for c in view.connections if c.connection_id == self.connection.connection_id]
        return shown.status


def store_expiring_connection(
    first: ProviderTokens, provider_name: str, provider_account_id: str, clock: Callable[[], float]
) -> tuple[ManagedConnection, ConnectionVault]:
    """Store an OU and its connection with ``first``'s tokens, the access token expiring in 10 s
    (within the safety margin, so the next use refreshes)."""
    now = int(clock())
    expiring = ProviderTokens(first.access_token, first.refresh_token, now + 10, first.scope)
    vault = ConnectionVault(runtime.get_secrets_client(), prefix=SECRET_PREFIX)
    connection_id = new_id("cnx")
    arn = vault.create(connection_id, expiring.to_dict())
    store = runtime.get_store()
    ou = OrganizationalUnit(new_id("ou"), new_id("cli"), "Acme", now)
    store.client.put_item(TableName=store.table_name, Item=to_item(organizational_unit_item(ou)))
    connection = ManagedConnection(
        connection_id, ou.ou_id, ou.client_id, provider_name, provider_account_id, "Acme",
        ConnectionStatus.CONNECTED, arn, AuthorizationType.OAUTH, now, now,
    )  # fmt: skip
    DynamoConferencingConnections(store, clock=lambda: int(clock())).add(connection)
    return connection, vault


def check_invalid_grant(
    linked: ExpiringConnection,
    service: Callable[[], ConnectionCredentials],
    refuse_refresh: Callable[[], object],
    refresh_grants: Callable[[], int],
) -> None:
    """Once the provider refuses the refresh token (``invalid_grant``), the connection is
    needs_reauthorization with its stored tokens untouched, and the next caller is told so by
    the lease without asking the provider again."""
    before = linked.stored()
    refuse_refresh()
    with pytest.raises(ConnectionNeedsReauthorization):
        service().access_token(linked.connection)
    assert linked.status() == "needs_reauthorization"
    assert linked.stored() == before
    with pytest.raises(ConnectionNeedsReauthorization):
        service().access_token(linked.connection)
    assert refresh_grants() == 1
