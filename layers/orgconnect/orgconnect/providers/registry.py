"""Provider clients built from orgconnect's app credentials, in their two roles: the OAuth
authorization client (the flow) and the API client (workers). Provider modules load on first use,
so functions that never call a provider do not pay for httpx, Authlib or tenacity at cold start."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

from orgconnect.domain.model import ProviderApp

if TYPE_CHECKING:
    from orgconnect.domain.provider_model import ProviderTokens
    from orgconnect.providers.api import ProviderApi
    from orgconnect.providers.base import OAuthProvider
    from orgconnect.providers.conferencing import ConferencingAdapter

PROVIDER_CLASSES = {
    "zoom": "orgconnect.providers.zoom:ZoomProvider",
    "google": "orgconnect.providers.google:GoogleProvider",
    "microsoft": "orgconnect.providers.microsoft:MicrosoftProvider",
    "webex": "orgconnect.providers.webex:WebexProvider",
    "indeed": "orgconnect.providers.indeed:IndeedProvider",
}
PROVIDER_API_CLASSES = {
    "zoom": "orgconnect.providers.zoom:ZoomApi",
    "google": "orgconnect.providers.google:GoogleApi",
    "microsoft": "orgconnect.providers.microsoft:GraphApi",
    "webex": "orgconnect.providers.webex:WebexApi",
    "indeed": "orgconnect.providers.indeed:IndeedApi",
}

#: Conferencing adapters by Cronofy profile provider name (orgconnect.providers.conferencing).
CONFERENCING_ADAPTERS = {
    "zoom": ("zoom", "orgconnect.providers.zoom_conferencing:ZoomConferencing"),
    "webex": ("webex", "orgconnect.providers.webex_conferencing:WebexConferencing"),
    "ms_teams": ("microsoft", "orgconnect.providers.teams_conferencing:TeamsConferencing"),
    "google_meet_api": ("google", "orgconnect.providers.meet_conferencing:MeetConferencing"),
    "indeed": ("indeed", "orgconnect.providers.indeed_conferencing:IndeedConferencing"),
}


def _load(path: str) -> type:
    module, _, name = path.partition(":")
    cls: type = getattr(importlib.import_module(module), name)
    return cls


class ProviderRegistry:
    """Provider clients built from orgconnect's app credentials and the base-URL overrides."""

    def __init__(
        self, apps: Mapping[str, ProviderApp], *, overrides: Mapping[str, str], timeout: float
    ) -> None:
        self._apps = dict(apps)
        self._overrides = dict(overrides)
        self._timeout = timeout

    def configured(self, provider_key: str) -> bool:
        """An app is registered for this provider (only those are offered)."""
        return provider_key in self._apps and provider_key in PROVIDER_CLASSES

    def client(self, provider_key: str) -> OAuthProvider:
        """The OAuth authorization client the flow uses for this provider."""
        if not self.configured(provider_key):
            raise KeyError(f"no OAuth app configured for {provider_key}")
        cls: type[OAuthProvider] = _load(PROVIDER_CLASSES[provider_key])
        return cls(
            self._apps[provider_key], base_url=self._overrides.get(provider_key), timeout=self._timeout
        )

    def api_client(
        self, provider_key: str, tokens: ProviderTokens | None, *, tenant: str | None = None
    ) -> ProviderApi:
        """The API client for one connection's tokens (``tenant``: Microsoft's token endpoint)."""
        if not self.configured(provider_key):
            raise KeyError(f"no OAuth app configured for {provider_key}")
        cls: type[ProviderApi] = _load(PROVIDER_API_CLASSES[provider_key])
        return cls(
            self._apps[provider_key], tokens, base_url=self._overrides.get(provider_key), tenant=tenant
        )

    def conferencing(
        self, profile_name: str, tokens: ProviderTokens | None, *, tenant: str | None = None
    ) -> ConferencingAdapter:
        """The directory-and-meetings adapter of a connection, by Cronofy profile provider name
        (``zoom``, ``webex``, ``ms_teams``, ``google_meet_api``, ``indeed``); ``tenant``: the
        Microsoft tenant id of an ``ms_teams`` connection."""
        if profile_name not in CONFERENCING_ADAPTERS:
            raise KeyError(f"no conferencing provider named {profile_name}")
        provider_key, path = CONFERENCING_ADAPTERS[profile_name]
        adapter: type[ConferencingAdapter] = _load(path)
        return adapter(self.api_client(provider_key, tokens, tenant=tenant))
