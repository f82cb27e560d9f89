"""What ``GET /v1/userinfo`` and ``GET /v1/organizational_unit`` show of an Organizational Unit:
the OU with its linked service accounts and conferencing connections (a read model)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from msgspec import Struct

if TYPE_CHECKING:  # the policy's module loads only where a view holds one (userinfo's cold start)
    from orgconnect.domain.provisioning_policy import StoredPolicy


class ServiceAccountView(Struct, frozen=True):
    """A calendar service account linked to the OU."""

    service_account_id: str
    provider_name: str  # the service account's calendar provider: google_workspace | microsoft_365
    domain: str


class ConnectionView(Struct, frozen=True):
    """A conferencing connection of the OU."""

    connection_id: str
    provider_name: str  # zoom_enterprise, webex_enterprise, ms_teams, google_meet, indeed
    account_name: str
    status: str  # connected | needs_reauthorization | revoked
    # None: not asked for (userinfo), or the provider has no provisioning (not Zoom).
    provisioning: StoredPolicy | None = None

    @property
    def needs_relink(self) -> bool:
        """Whether an administrator must link the connection again (its profiles are disconnected)."""
        return self.status != "connected"


class OrganizationalUnitView(Struct, frozen=True):
    """An OU with its members, in link order (gsi1 sort key)."""

    sub: str
    name: str
    client_id: str
    service_accounts: tuple[ServiceAccountView, ...]
    connections: tuple[ConnectionView, ...]
