"""Which providers exist, under which names, and how to build their clients.

SPEC names a conferencing provider three ways: ``conferencing_provider_name`` in the flow
(zoom_enterprise…), the callback path (/oauth/callback/zoom) and a profile's ``provider_name``
(zoom…). This table is the one place that relates them.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass

from orgconnect.domain.model import CalendarProvider, ConferencingCategory
from orgconnect.providers.base import OAuthProvider, ProviderApp


@dataclass(frozen=True)
class ConferencingOption:
    name: str  # conferencing_provider_name, and the connection's provider_name
    provider_key: str  # the OAuth provider (callback path)
    label: str
    category: ConferencingCategory
    profile_provider_name: str


@dataclass(frozen=True)
class CalendarOption:
    name: CalendarProvider
    provider_key: str
    label: str


CONFERENCING: dict[str, ConferencingOption] = {
    o.name: o
    for o in (
        ConferencingOption("zoom_enterprise", "zoom", "Zoom", ConferencingCategory.GENERAL, "zoom"),
        ConferencingOption("webex_enterprise", "webex", "Webex", ConferencingCategory.GENERAL, "webex"),
        ConferencingOption(
            "ms_teams", "microsoft", "Microsoft Teams", ConferencingCategory.GENERAL, "ms_teams"
        ),
        ConferencingOption(
            "google_meet", "google", "Google Meet", ConferencingCategory.GENERAL, "google_meet_api"
        ),
        ConferencingOption("indeed", "indeed", "Indeed Interview", ConferencingCategory.RECRUITING, "indeed"),
    )
}

CALENDARS: dict[str, CalendarOption] = {
    o.name: o
    for o in (
        CalendarOption(CalendarProvider.GOOGLE_WORKSPACE, "google", "Google Workspace"),
        CalendarOption(CalendarProvider.MICROSOFT_365, "microsoft", "Microsoft 365"),
    )
}

PROVIDER_CLASSES = {
    "zoom": "orgconnect.providers.zoom:ZoomProvider",
    "google": "orgconnect.providers.google:GoogleProvider",
    "microsoft": "orgconnect.providers.microsoft:MicrosoftProvider",
    "webex": "orgconnect.providers.webex:WebexProvider",
    "indeed": "orgconnect.providers.indeed:IndeedProvider",
}


def calendar_provider_key(provider: CalendarProvider) -> str:
    return CALENDARS[provider].provider_key


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
