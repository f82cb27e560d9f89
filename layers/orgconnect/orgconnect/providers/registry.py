"""Provider clients built from orgconnect's app credentials (provider modules load on first use,
so functions that never call a provider do not pay for httpx and Authlib at cold start)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

from orgconnect.domain.model import ProviderApp

if TYPE_CHECKING:
    from orgconnect.providers.base import OAuthProvider

PROVIDER_CLASSES = {
    "zoom": "orgconnect.providers.zoom:ZoomProvider",
    "google": "orgconnect.providers.google:GoogleProvider",
    "microsoft": "orgconnect.providers.microsoft:MicrosoftProvider",
    "webex": "orgconnect.providers.webex:WebexProvider",
    "indeed": "orgconnect.providers.indeed:IndeedProvider",
}


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
        if not self.configured(provider_key):
            raise KeyError(f"no OAuth app configured for {provider_key}")
        module, _, name = PROVIDER_CLASSES[provider_key].partition(":")
        cls: type[OAuthProvider] = getattr(importlib.import_module(module), name)
        return cls(
            self._apps[provider_key], base_url=self._overrides.get(provider_key), timeout=self._timeout
        )
