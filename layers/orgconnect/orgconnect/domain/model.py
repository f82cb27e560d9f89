"""Domain entities (SPEC section 1). Plain frozen dataclasses: the store maps them to items."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ConferencingCategory(StrEnum):
    """The conferencing categories a client may enable (SPEC section 3, step 4)."""

    GENERAL = "general"
    RECRUITING = "recruiting"


class CalendarProvider(StrEnum):
    """Calendar providers a service account can belong to (Enterprise Connect)."""

    GOOGLE_WORKSPACE = "google_workspace"
    MICROSOFT_365 = "microsoft_365"


class AdminProofPolicy(StrEnum):
    """When the administrator must prove admin access to the service account (SPEC section 3, step 3)."""

    ALWAYS = "always"
    WHEN_UNLINKED = "when_unlinked"
    NEVER = "never"


@dataclass(frozen=True)
class Client:
    """An integrator application."""

    client_id: str
    name: str
    secret_digest: str
    redirect_uris: tuple[str, ...]
    categories: tuple[ConferencingCategory, ...] = (ConferencingCategory.GENERAL,)
    admin_proof_policy: AdminProofPolicy = AdminProofPolicy.WHEN_UNLINKED
    notification_url: str | None = None
    created_at: int = 0


@dataclass(frozen=True)
class ProviderApp:
    """orgconnect's registered OAuth app at a provider (Zoom: also the app's webhook secret token,
    which signs the events Zoom sends to ``POST /webhooks/zoom``)."""

    client_id: str
    client_secret: str = field(repr=False)
    webhook_secret_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ApiKey:
    """The authentication record of a client secret: which client it belongs to."""

    client_id: str
    secret_digest: str


@dataclass(frozen=True)
class ServiceAccount:
    """An enterprise calendar connection authorized for a client through Enterprise Connect."""

    service_account_id: str
    client_id: str
    provider: CalendarProvider
    domain: str
    admin_email: str | None = None
    organizational_unit_id: str | None = None
    created_at: int = 0


@dataclass(frozen=True)
class LinkTokenGrant:
    """What a minted OU link token is bound to (the token itself is never stored)."""

    client_id: str
    service_account_id: str
    created_at: int
    expires_at: int
    extra: dict[str, str] = field(default_factory=dict)


class ConnectionStatus(StrEnum):
    CONNECTED = "connected"
    NEEDS_REAUTHORIZATION = "needs_reauthorization"
    REVOKED = "revoked"


@dataclass(frozen=True)
class OrganizationalUnit:
    """The entity that associates a client's service accounts and conferencing connections."""

    ou_id: str
    client_id: str
    name: str
    created_at: int = 0


@dataclass(frozen=True)
class Connection:
    """An enterprise-level provider account linked to an OU. Its tokens live in Secrets Manager."""

    connection_id: str
    ou_id: str
    client_id: str
    provider_name: str  # zoom_enterprise, webex_enterprise, ms_teams, google_meet, indeed
    provider_account_id: str
    account_name: str
    status: ConnectionStatus
    secret_arn: str
    created_at: int = 0
    updated_at: int = 0


@dataclass(frozen=True)
class ProviderAccountLink:
    """Which OU a provider account (a conferencing account, or a calendar tenant) is linked to.

    One per (client, provider, account): linking the same account again refreshes its member in
    place. A conferencing link names its connection and secret; a calendar link its service account.
    """

    client_id: str
    provider_name: str  # conferencing_provider_name or calendar provider name
    account_id: str  # the provider's account id; a calendar tenant's domain
    ou_id: str
    connection_id: str | None = None
    secret_arn: str | None = None
    service_account_id: str | None = None
    created_at: int = 0
    updated_at: int = 0
