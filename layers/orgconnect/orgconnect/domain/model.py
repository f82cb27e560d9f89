"""Domain entities (SPEC section 1). Plain frozen dataclasses: the store maps them to items."""

from __future__ import annotations

from enum import StrEnum

from msgspec import Struct, field

from orgconnect.domain.redacted import Redacted


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


class Client(Struct, frozen=True):
    """An integrator application."""

    client_id: str
    name: str
    secret_digest: str
    redirect_uris: tuple[str, ...]
    categories: tuple[ConferencingCategory, ...] = (ConferencingCategory.GENERAL,)
    admin_proof_policy: AdminProofPolicy = AdminProofPolicy.WHEN_UNLINKED
    notification_url: str | None = None
    created_at: int = 0


class ProviderApp(Redacted, frozen=True):
    """orgconnect's registered OAuth app at a provider (Zoom: also the app's webhook secret token,
    which signs the events Zoom sends to ``POST /webhooks/zoom``)."""

    __redacted__ = frozenset({"client_secret", "webhook_secret_token"})

    client_id: str
    client_secret: str
    webhook_secret_token: str | None = None


class ApiKey(Struct, frozen=True):
    """The authentication record of a client secret: which client it belongs to."""

    client_id: str
    secret_digest: str


class ServiceAccount(Struct, frozen=True):
    """An enterprise calendar connection authorized for a client through Enterprise Connect."""

    service_account_id: str
    client_id: str
    provider: CalendarProvider
    domain: str
    admin_email: str | None = None
    organizational_unit_id: str | None = None
    created_at: int = 0


class LinkTokenGrant(Struct, frozen=True):
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


class OrganizationalUnit(Struct, frozen=True):
    """The entity that associates a client's service accounts and conferencing connections."""

    ou_id: str
    client_id: str
    name: str
    created_at: int = 0


class Connection(Struct, frozen=True):
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


class ProviderAccountLink(Struct, frozen=True):
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
