"""The provider side of the OU-token connection API: test Server-to-Server credentials and revoke
a browser-linked connection's tokens (the ports of orgconnect.domain.conferencing_connections).

Both run inside an API request (API Gateway gives 29 s), so they retry briefly: two attempts,
and a ``Retry-After`` over two seconds is not waited but passed on to the integrator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from orgconnect.domain.catalogue import CONFERENCING
from orgconnect.domain.model import ProviderApp

if TYPE_CHECKING:
    from orgconnect.domain.connection_checks import ConnectionCheck
    from orgconnect.domain.server_to_server import ServerToServerCredentials
    from orgconnect.providers.api import ProviderApi
    from orgconnect.providers.google import GoogleApi
    from orgconnect.providers.zoom import ZoomApi


class ProviderConnectionClients:
    """:class:`ServerToServerChecker` and :class:`TokenRevoker` over the providers' APIs."""

    def __init__(
        self,
        *,
        overrides: Mapping[str, str],
        timeout: float,
        load_apps: Callable[[], Mapping[str, ProviderApp]],
    ) -> None:
        self._overrides = dict(overrides)
        self._timeout = timeout
        self._load_apps = load_apps

    def _zoom(self, app: ProviderApp) -> ZoomApi:
        from orgconnect.providers.zoom import ZoomApi

        return self._in_request(ZoomApi, app)

    def _google(self, app: ProviderApp) -> GoogleApi:
        from orgconnect.providers.google import GoogleApi

        return self._in_request(GoogleApi, app)

    def _in_request[Api: ProviderApi](self, api: type[Api], app: ProviderApp) -> Api:
        """``api`` for ``app`` (its base-URL override, if any) with the request's brief retries."""
        from orgconnect.providers.api import Timeouts
        from orgconnect.providers.retry import RetryPolicy

        return api(
            app,
            base_url=self._overrides.get(api.key),
            timeouts=Timeouts(connect=min(3.0, self._timeout), read=self._timeout),
            retry_policy=RetryPolicy(
                attempts=2, backoff_initial=0.2, backoff_max=1.0, max_retry_after=2.0, max_elapsed=10.0
            ),
        )

    def check(self, provider_name: str, credentials: ServerToServerCredentials) -> ConnectionCheck:
        """Run the connection test with the S2S app's own credentials."""
        from orgconnect.providers.zoom import check_server_to_server

        if CONFERENCING[provider_name].provider_key != "zoom":
            raise ValueError(f"no Server-to-Server test for {provider_name}")
        api = self._zoom(ProviderApp(credentials.client_id, credentials.client_secret))
        return check_server_to_server(api, credentials.account_id)

    def revoke(self, provider_name: str, tokens: dict[str, Any]) -> bool:
        """Zoom and Google: revoke the authorization with orgconnect's app. Webex, Microsoft and
        Indeed offer no revocation an app can call: False (their tokens are deleted with the
        secret and expire; docs/conferencing-providers.md)."""
        option = CONFERENCING.get(provider_name)
        token = tokens.get("refresh_token") or tokens.get("access_token")
        if option is None or option.provider_key not in ("zoom", "google"):
            return False
        if not isinstance(token, str) or not token:
            return False
        app = self._load_apps().get(option.provider_key)
        if app is None:
            return False
        if option.provider_key == "google":
            return self._google(app).revoke(token)
        return self._zoom(app).revoke(token)
