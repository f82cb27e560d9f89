"""The provider side of a connection's live credentials: the refresh grant with orgconnect's app
(domain/connection_credentials.py's TokenRefresher) and the test of a browser-linked Zoom
connection with its access token (domain/conferencing_connections.py's LinkedConnectionChecker),
and the access tokens of every kind of connection, Server-to-Server ones included (ConnectionAccessTokens).

The refresh and the test may run inside an API request, so each call is tried twice at most,
with the per-attempt timeout of the settings; the refresh lease is sized from the same numbers
(``refresh_seconds``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from orgconnect.domain.catalogue import CONFERENCING
from orgconnect.domain.connection_checks import (
    CheckFailure,
    CheckName,
    ConnectionCheck,
    missing_scopes,
    run_steps,
)
from orgconnect.domain.connection_credentials import CredentialsMissing
from orgconnect.domain.model import ProviderApp
from orgconnect.domain.provider_model import (
    AccessTokenRejected,
    ProviderAnswerMalformed,
    ProviderRefused,
    ProviderTokens,
    ProviderUnavailable,
)
from orgconnect.domain.server_to_server import AuthorizationType, ServerToServerCredentials

if TYPE_CHECKING:
    from orgconnect.domain.connection_credentials import LinkedConnection
    from orgconnect.domain.matching import AccessTokens
    from orgconnect.providers.api import ProviderApi
    from orgconnect.providers.registry import ProviderRegistry
    from orgconnect.providers.retry import RetryPolicy
    from orgconnect.providers.zoom import ZoomApi

ATTEMPTS = 2
BACKOFF_MAX = 1.0
MAX_RETRY_AFTER = 2.0


def refresh_seconds(timeout: float) -> float:
    """The longest a refresh can take with this per-attempt timeout (connect + read, twice,
    plus the backoff or a short Retry-After between them)."""
    return ATTEMPTS * (min(3.0, timeout) + timeout) + max(BACKOFF_MAX, MAX_RETRY_AFTER)


class ProviderConnectionTokens:
    """TokenRefresher and LinkedConnectionChecker over the providers' API clients."""

    def __init__(self, load_registry: Callable[[], ProviderRegistry], *, timeout: float) -> None:
        self._load_registry = load_registry
        self._timeout = timeout

    def _api(self, connection: LinkedConnection, tokens: ProviderTokens | None) -> ProviderApi:
        from orgconnect.providers.api import Timeouts

        provider_key = CONFERENCING[connection.provider_name].provider_key
        # Microsoft's token endpoint is the tenant's; the connection's account is the tenant id.
        tenant = connection.provider_account_id if provider_key == "microsoft" else None
        api = self._load_registry().api_client(provider_key, tokens, tenant=tenant)
        api.timeouts = Timeouts(connect=min(3.0, self._timeout), read=self._timeout)
        api.retry_policy = _policy(self._timeout)
        return api

    def refresh(self, connection: LinkedConnection, tokens: ProviderTokens) -> ProviderTokens:
        """The refresh grant; the answer's refresh token replaces the one sent (Zoom, Microsoft)
        or, when there is none (Google), the one sent stays current."""
        return self._api(connection, tokens).refresh(tokens.refresh_token)

    def supports(self, provider_name: str) -> bool:
        """Whether a browser-linked connection of this provider can be tested (Zoom)."""
        option = CONFERENCING.get(provider_name)
        return option is not None and option.provider_key == "zoom"

    def check(self, connection: LinkedConnection, access_token: str, scope: str | None) -> ConnectionCheck:
        """Scopes (from the token answer), ``GET /v2/users/me`` (the account), the plan.
        AccessTokenRejected on a 401; ProviderUnavailable when Zoom cannot tell."""
        from orgconnect.providers.answers import parse_answer
        from orgconnect.providers.zoom import BASIC_USER_TYPE, ZoomMe

        if not self.supports(connection.provider_name):
            raise ValueError(f"no linked-connection test for {connection.provider_name}")
        granted = tuple((scope or "").split())
        # An answer without ``scope`` says nothing; the read below then tells.
        missing = tuple(missing_scopes(scope)) if scope else ()
        if missing:
            steps = run_steps(CheckName.SCOPES, {CheckName.SCOPES: "missing: " + ", ".join(missing)})
            return ConnectionCheck(
                steps,
                CheckFailure.MISSING_SCOPES,
                missing_scopes=missing,
                granted_scopes=granted,
                linked=True,
            )
        api = self._api(connection, ProviderTokens(access_token))
        try:
            me = parse_answer(ZoomMe, api.get("/v2/users/me"), what="Zoom users/me")
        except AccessTokenRejected:
            raise
        except ProviderRefused as refused:
            detail = f"HTTP {refused.status}, {refused.error}"
            steps = run_steps(CheckName.ACCOUNT, {CheckName.ACCOUNT: "refused"})
            return ConnectionCheck(
                steps, CheckFailure.REFUSED, granted_scopes=granted, detail=detail, linked=True
            )
        except ProviderAnswerMalformed as malformed:
            raise ProviderUnavailable(malformed.description) from None
        if me.account_id != connection.provider_account_id:
            steps = run_steps(CheckName.ACCOUNT, {CheckName.ACCOUNT: "another account"})
            return ConnectionCheck(steps, CheckFailure.UNKNOWN_ACCOUNT, granted_scopes=granted, linked=True)
        if me.type == BASIC_USER_TYPE:
            steps = run_steps(CheckName.PAID_PLAN, {CheckName.PAID_PLAN: "the account is on the Free plan"})
            return ConnectionCheck(
                steps, CheckFailure.FREE_PLAN, granted_scopes=granted, account_id=me.account_id, linked=True
            )
        name = me.company or me.email.lower().partition("@")[2]
        return ConnectionCheck(
            run_steps(None, {}),
            None,
            granted_scopes=granted,
            account_id=me.account_id,
            account_name=name,
            linked=True,
        )


def _policy(timeout: float) -> RetryPolicy:
    from orgconnect.providers.retry import RetryPolicy

    return RetryPolicy(
        attempts=ATTEMPTS,
        backoff_initial=0.2,
        backoff_max=BACKOFF_MAX,
        max_retry_after=MAX_RETRY_AFTER,
        max_elapsed=refresh_seconds(timeout),
    )


#: Seconds before its expiry a Server-to-Server token is no longer handed out.
S2S_TOKEN_MARGIN = 300


class ConnectionAccessTokens:
    """AccessTokens for every kind of connection: a Server-to-Server one gets an
    ``account_credentials`` token with the app credentials of its secret (Zoom issues as many
    as asked, each valid an hour; kept in ``cache``, per process, until 5 minutes before
    expiry); a browser-linked one goes to ``linked`` (ConnectionCredentials: refresh under a
    lease)."""

    def __init__(
        self,
        linked: AccessTokens,
        *,
        read_secret: Callable[[str], dict[str, Any] | None],
        zoom_api: Callable[[ProviderApp], ZoomApi],
        clock: Callable[[], float] = time.time,
        cache: dict[str, tuple[str, float]] | None = None,
    ) -> None:
        self._linked = linked
        self._read = read_secret
        self._zoom_api = zoom_api
        self._clock = clock
        self._tokens = cache if cache is not None else {}

    def access_token(self, connection: LinkedConnection, *, rejected: str | None = None) -> str:
        """A valid access token; ``rejected``: one the provider just refused (never again)."""
        # The connection item says how it is held (ManagedConnection); no secret read then.
        kind = getattr(connection, "authorization_type", None)
        if kind is not None and kind != AuthorizationType.SERVER_TO_SERVER:
            return self._linked.access_token(connection, rejected=rejected)
        with _CACHE_LOCK:
            kept = self._tokens.get(connection.connection_id)
        if kept is not None and kept[0] != rejected and kept[1] - S2S_TOKEN_MARGIN > self._clock():
            return kept[0]
        stored = self._read(connection.secret_arn)
        if stored is None:
            raise CredentialsMissing(connection.connection_id)
        if stored.get("authorization_type") != AuthorizationType.SERVER_TO_SERVER:
            return self._linked.access_token(connection, rejected=rejected)
        credentials = ServerToServerCredentials.from_secret(stored)
        api = self._zoom_api(ProviderApp(credentials.client_id, credentials.client_secret))
        tokens = api.account_credentials(credentials.account_id)
        expires_at = float(tokens.expires_at) if tokens.expires_at else self._clock() + 3600
        with _CACHE_LOCK:
            self._tokens[connection.connection_id] = (tokens.access_token, expires_at)
        return tokens.access_token


_CACHE_LOCK = threading.Lock()
