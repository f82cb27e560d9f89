"""What the flow knows about providers without talking to one: purposes, tokens, accounts and
the two failure outcomes (no httpx or Authlib here, so importing it costs nothing)."""

from __future__ import annotations

from collections.abc import Mapping
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
    """Tokens from a code exchange. Stored sealed, then in Secrets Manager; never logged.

    ``expires_at`` is the access token's expiry; ``refresh_expires_at`` the refresh token's, when
    the provider states it (Webex's ``refresh_token_expires_in``), else None: unknown."""

    __redacted__ = frozenset({"access_token", "refresh_token"})

    access_token: str
    refresh_token: str | None = None
    expires_at: int | None = None
    scope: str | None = None
    refresh_expires_at: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON of the sealed tokens and of the connection's secret."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at,
            "scope": self.scope,
            "refresh_expires_at": self.refresh_expires_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProviderTokens:
        """The tokens of :meth:`to_dict`'s JSON; a field that is missing (secrets written before
        it existed) or not a number reads as None."""
        return cls(
            access_token=str(data.get("access_token") or ""),
            refresh_token=data.get("refresh_token") or None,
            expires_at=_epoch(data.get("expires_at")),
            scope=data.get("scope"),
            refresh_expires_at=_epoch(data.get("refresh_expires_at")),
        )

    def refresh_expired(self, now: int) -> bool:
        """Whether the provider said the refresh token is expired by ``now`` (refreshing would be
        refused); False when it did not say."""
        return self.refresh_expires_at is not None and self.refresh_expires_at <= now

    def refresh_expires_within(self, now: int, seconds: int) -> bool:
        """Whether the refresh token expires within ``seconds`` of ``now`` (expired included);
        False when the provider did not say."""
        return self.refresh_expires_at is not None and self.refresh_expires_at - seconds <= now


def _epoch(value: Any) -> int | None:
    # bool is an int: a stray true must not read as 1970.
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


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
