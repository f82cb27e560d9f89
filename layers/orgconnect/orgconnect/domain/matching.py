"""Matching calendar accounts to conferencing users (SPEC section 4): by case-insensitive email on
the first match, then by the provider's stable user id, so a later email change at the provider
keeps the profile. Only a user who can host is ``profile_connected``; a pending user gets a
``profile_relink_url`` (where they accept the invitation). No match: no profile. Pure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from msgspec import Struct
from msgspec.structs import replace

from orgconnect.domain.catalogue import CONFERENCING
from orgconnect.domain.conferencing import DirectoryUser, UserStatus
from orgconnect.domain.connection_credentials import LinkedConnection
from orgconnect.domain.provider_model import AccessTokenRejected

#: Where a user who is not (yet) active goes to activate their provider account.
RELINK_URLS = {
    "zoom": "https://zoom.us/signin",
    "webex": "https://signin.webex.com/",
    "ms_teams": "https://teams.microsoft.com/",
    "google_meet_api": "https://meet.google.com/",
    "indeed": "https://employers.indeed.com/",
}


def profile_provider_name(connection_provider_name: str) -> str | None:
    """Cronofy's profile provider name (``zoom``…) of a connection's provider (``zoom_enterprise``…)."""
    option = CONFERENCING.get(connection_provider_name)
    return option.profile_provider_name if option else None


class ConferencingProfile(Struct, frozen=True):
    """An account's profile at one conferencing connection: the matched provider user."""

    profile_id: str  # pro_…
    account_id: str
    connection_id: str
    provider_name: str  # zoom, webex, ms_teams, google_meet_api, indeed
    provider_user_id: str  # the provider's stable id: kept after the first match
    profile_name: str  # the user's email at the provider
    status: UserStatus

    @property
    def connected(self) -> bool:
        """Whether meetings can be created for this profile (``profile_connected``)."""
        return self.status is UserStatus.ACTIVE

    def host(self) -> DirectoryUser:
        """The provider user a meeting is created for."""
        return DirectoryUser(self.provider_user_id, self.profile_name, self.profile_name, self.status)


def match(
    existing: ConferencingProfile | None,
    by_email: DirectoryUser | None,
    by_id: DirectoryUser | None,
    *,
    new_profile: Callable[[DirectoryUser], ConferencingProfile],
) -> ConferencingProfile | None:
    """The account's profile after matching.

    ``existing``: the profile of an earlier match (its provider user id is authoritative);
    ``by_email``: the directory's user with the account's email; ``by_id``: the directory's user
    with the existing profile's provider user id (None when unknown or not looked up)."""
    if existing is not None:
        current = by_id if by_id is not None and by_id.provider_user_id == existing.provider_user_id else None
        if (
            current is None
            and by_email is not None
            and by_email.provider_user_id == existing.provider_user_id
        ):
            current = by_email
        if current is None:
            return existing  # an email change the directory has not seen yet: keep the profile
        return replace(existing, profile_name=current.email, status=current.status)
    if by_email is None:
        return None
    return new_profile(by_email)


def profile_userinfo(profile: ConferencingProfile) -> dict[str, Any]:
    """The profile as ``conferencing_profiles[]`` of an account's userinfo."""
    body: dict[str, Any] = {
        "provider_name": profile.provider_name,
        "profile_id": profile.profile_id,
        "profile_name": profile.profile_name,
        "profile_connected": profile.connected,
    }
    if profile.status is UserStatus.PENDING:
        body["profile_relink_url"] = RELINK_URLS.get(profile.provider_name, RELINK_URLS["zoom"])
    return body


def choose_profile(
    profiles: list[ConferencingProfile],
    profile_id: str,
    usable_connections: Callable[[list[str]], set[str]] | None = None,
) -> ConferencingProfile | None:
    """The profile a meeting request names. ``default`` is the first whose user can host on a
    connection that works now (``usable_connections`` of the candidates' connection ids, asked
    only when more than one user can host), else the first whose user can host, else the first."""
    if profile_id != "default":
        return next((p for p in profiles if p.profile_id == profile_id), None)
    hosts = [p for p in profiles if p.connected]
    if len(hosts) > 1 and usable_connections is not None:
        usable = usable_connections([p.connection_id for p in hosts])
        hosts = [p for p in hosts if p.connection_id in usable] or hosts
    return next(iter(hosts or profiles), None)


class AccessTokens(Protocol):
    """``ConnectionCredentials``: a valid access token of a connection (refreshed when needed)."""

    def access_token(self, connection: LinkedConnection, *, rejected: str | None = None) -> str: ...


def with_connection_token[T](
    tokens: AccessTokens, connection: LinkedConnection, call: Callable[[str], T]
) -> T:
    """``call(access_token)``; when the provider answers 401, once more with a fresh token (the
    refused one passed as ``rejected``, so it is never handed out again)."""
    token = tokens.access_token(connection)
    try:
        return call(token)
    except AccessTokenRejected:
        return call(tokens.access_token(connection, rejected=token))
