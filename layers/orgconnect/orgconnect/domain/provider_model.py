"""What the flow knows about providers without talking to one: purposes, tokens, accounts and
the two failure outcomes (no httpx or Authlib here, so importing it costs nothing)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from msgspec import Struct

from orgconnect.domain.redacted import Redacted


class Purpose(StrEnum):
    """Why the administrator is sent to a provider."""

    ADMIN_PROOF = "admin_proof"  # prove admin of the service account's calendar domain
    CONFERENCING = "conferencing"  # authorize an enterprise conferencing account
    CALENDARS = "calendars"  # link an additional calendar tenant (seed 002)
    ENTERPRISE_CONNECT = "enterprise_connect"  # an administrator's consent for a service account


class ProviderTokens(Redacted, frozen=True):
    """Tokens from a code exchange. Stored sealed, then in Secrets Manager; never logged."""

    __redacted__ = frozenset({"access_token", "refresh_token"})

    access_token: str
    refresh_token: str | None = None
    expires_at: int | None = None
    scope: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at,
            "scope": self.scope,
        }


class ProviderAccount(Struct, frozen=True):
    """Who authorized, and for which account, as read from the provider after the exchange."""

    provider: str  # the provider key: zoom, google, microsoft, webex, indeed
    account_id: str  # the enterprise account: Zoom account id, Google customer, Microsoft tenant
    account_name: str
    user_email: str
    user_is_admin: bool
    paid: bool | None = None  # None: the provider has no such notion
    domain: str | None = None


class ProviderError(Exception):
    """Base of the failures a provider client raises. ``description`` names the provider and what
    went wrong, never a token or a body the provider sent (it may hold secrets)."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class ProviderRefused(ProviderError):
    """The provider refused (an OAuth error or another 4xx). ``error`` is the provider's code."""

    def __init__(self, description: str, *, error: str = "invalid_grant", status: int | None = None) -> None:
        super().__init__(description)
        self.error = error
        self.status = status


class AccessTokenRejected(ProviderRefused):
    """The API answered 401: the access token expired or was revoked. Refresh, then call again."""


class RefreshTokenRejected(ProviderRefused):
    """The refresh grant was refused with ``invalid_grant``: the authorization is gone (revoked,
    expired, or a rotated refresh token was reused). The connection needs reauthorization."""


class ProviderUnavailable(ProviderError):
    """The provider did not answer usefully (network, timeout, 5xx, 429) after the retries.

    ``retry_after``: seconds the provider asked us to wait (its ``Retry-After``), when it said so;
    a worker can reschedule with it instead of retrying now."""

    def __init__(
        self, description: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.retry_after = retry_after


class ProviderAnswerMalformed(ProviderError):
    """The provider answered with success but the body is not what its API documents (HTML, empty,
    JSON of the wrong shape). Not retried: the same request would get the same answer."""
