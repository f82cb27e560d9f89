"""Which providers exist, under which names, and how to build their clients.

SPEC names a conferencing provider three ways: ``conferencing_provider_name`` in the flow
(zoom_enterprise…), the callback path (/oauth/callback/zoom) and a profile's ``provider_name``
(zoom…). This table is the one place that relates them.
"""

from __future__ import annotations

from msgspec import Struct

from orgconnect.domain.model import CalendarProvider, ConferencingCategory


class ConferencingOption(Struct, frozen=True):
    name: str  # conferencing_provider_name, and the connection's provider_name
    provider_key: str  # the OAuth provider (callback path)
    label: str
    category: ConferencingCategory
    profile_provider_name: str


class CalendarOption(Struct, frozen=True):
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


def calendar_provider_key(provider: CalendarProvider) -> str:
    return CALENDARS[provider].provider_key
