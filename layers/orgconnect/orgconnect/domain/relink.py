"""Relinking a connection from a profile's ``profile_relink_url`` (docs/connections.md,
Re-authorization): orgconnect's page starts the OU flow for that connection without a link token,
so what such a flow may link is narrowed to the very same provider account, into its own OU.

The url holds no secret: whoever opens it must still pass the flow's admin proof (per the
client's policy) and authorize, as an administrator, the provider account the connection already
holds. A relink of that account replaces its credentials in place (same connection, same secret
name, same profiles): no new match, no directory listing.
"""

from __future__ import annotations

from typing import Protocol

from msgspec import Struct

from orgconnect.domain.authorization import AuthorizationRequest
from orgconnect.domain.model import ConnectionStatus, ProviderAccountLink


class RelinkTarget(Struct, frozen=True):
    """The connection a relink url names, and the OU's service account the flow runs for."""

    connection_id: str
    client_id: str
    ou_id: str
    provider_name: str  # zoom_enterprise…
    service_account_id: str | None  # None: the OU has no service account left (cannot relink)


class RelinkStore(Protocol):
    """What the relink page reads and writes (store/relink.py)."""

    def target(self, connection_id: str) -> RelinkTarget | None:
        """The live connection (not removed) and a service account of its OU, or None."""
        ...

    def create_request(self, request: AuthorizationRequest) -> None:
        """Store a new authorization request (no link token to consume)."""
        ...

    def connection_status(self, connection_id: str) -> ConnectionStatus | None:
        """The connection's status (None: not a live connection)."""
        ...


def relinks_its_connection(request: AuthorizationRequest, link: ProviderAccountLink | None) -> bool:
    """Whether the provider account authorized in ``request`` is the one its relink names: the
    account's link (same client and provider) points at that connection. Always True for a flow
    that was not started from a relink url."""
    if request.relink_connection_id is None:
        return True
    return link is not None and link.connection_id == request.relink_connection_id
