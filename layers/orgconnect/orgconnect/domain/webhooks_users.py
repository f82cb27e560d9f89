"""Zoom user events (``user.created``, ``user.updated``, ``user.deactivated``, ``user.activated``,
``user.invitation_accepted``, ``user.deleted``, ``user.disassociated``) applied to every connection
of the event's account: its directory item and the profiles matched to that Zoom user.

Profiles are found by the provider's stable user id (an email change keeps the profile). Each
change carries the event's ``event_ts`` (ms); a profile remembers, per attribute, the time of the
event that last set it (``status_ts``, ``email_ts``), so a replay or an event older than the one
already applied changes nothing, whatever order Zoom delivers them in (docs/webhooks.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import suppress
from typing import Any, Protocol

from msgspec import Struct, field

from orgconnect.domain.conferencing import UserStatus
from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.domain.matching import ConferencingProfile
from orgconnect.domain.model import ProviderAccountLink
from orgconnect.domain.notifications import NO_NOTIFICATIONS, NotificationPublisher
from orgconnect.domain.webhooks import ZoomEvent

# The status each status event leaves the user in (created: by how the user was created).
_STATUS_EVENTS = {
    "user.activated": UserStatus.ACTIVE,
    "user.invitation_accepted": UserStatus.ACTIVE,
    "user.deactivated": UserStatus.INACTIVE,
}
_REMOVAL_EVENTS = frozenset({"user.deleted", "user.disassociated"})
# ``creation_type`` "create" sends an invitation (the user is pending until accepted); the others
# (autoCreate, custCreate, ssoCreate) create an active user at once.
_INVITED = "create"


class UserChange(Struct, frozen=True):
    """What one user event says about one Zoom user, at ``event_ts`` (ms)."""

    provider_user_id: str
    event_ts: int
    email: str | None = None  # the user's email after the event (None: the event does not say)
    old_email: str | None = None  # set for an email change: the address the user had
    status: UserStatus | None = None  # None: the event does not change the status
    display_name: str | None = None
    removed: bool = False  # deleted or disassociated: the user left the account

    @property
    def renamed(self) -> bool:
        """Whether the event changes the user's email."""
        return self.old_email is not None and self.email is not None and self.old_email != self.email


def _email(value: Any) -> str | None:
    return value.strip().lower() if isinstance(value, str) and "@" in value else None


def _name(obj: Mapping[str, Any]) -> str | None:
    parts = [obj.get(k) for k in ("first_name", "last_name")]
    name = " ".join(p for p in parts if isinstance(p, str) and p).strip()
    return name or None


def user_change(event: ZoomEvent, *, default_ts: int) -> UserChange | None:
    """The change a user event describes; None when it names no user (nothing to apply).

    ``default_ts`` (ms) stands in for a missing ``event_ts``."""
    obj = event.payload.get("object")
    if not isinstance(obj, Mapping) or not isinstance(obj.get("id"), str) or not obj["id"]:
        return None
    ts = event.event_ts_ms if event.event_ts_ms is not None else default_ts
    user_id, email = obj["id"], _email(obj.get("email"))
    if event.name in _REMOVAL_EVENTS:
        return UserChange(user_id, ts, email=email, removed=True)
    if event.name in _STATUS_EVENTS:
        return UserChange(user_id, ts, email=email, status=_STATUS_EVENTS[event.name])
    if event.name == "user.created":
        invited = event.payload.get("creation_type", _INVITED) == _INVITED
        status = UserStatus.PENDING if invited else UserStatus.ACTIVE
        return UserChange(user_id, ts, email=email, status=status, display_name=_name(obj))
    if event.name == "user.updated":
        old = event.payload.get("old_object")
        old_email = _email(old.get("email")) if isinstance(old, Mapping) else None
        return UserChange(
            user_id, ts, email=email, old_email=old_email if email else None, display_name=_name(obj)
        )
    return None


class ProfileChange(Struct, frozen=True):
    """A profile a user event changed: as it was, and as it is now."""

    before: ConferencingProfile
    after: ConferencingProfile


class _LinkedConnection(Struct, frozen=True):
    """What a notification tells of the connection (from its provider-account link)."""

    connection_id: str
    ou_id: str
    client_id: str
    provider_name: str


class UserDirectory(Protocol):
    """The connection's directory items (store/directory.py), written from events."""

    def apply_user_change(self, connection_id: str, change: UserChange) -> bool:
        """Apply ``change`` to the directory items it concerns; False when it was older than
        what the items hold already (or named no email)."""
        ...


class ProfileUpdates(Protocol):
    """The profiles matched to a provider user (store/conferencing_profiles.py)."""

    def apply_user_change(self, connection_id: str, change: UserChange) -> list[ProfileChange]:
        """Apply ``change`` to every profile of ``connection_id`` matched to its user; the profiles
        whose status or email changed (a replay or an older event changes none)."""
        ...


class AccountLinks(Protocol):
    """Every client's link to a provider account (the webhook's account)."""

    def links_of_account(self, provider_name: str, account_id: str) -> list[ProviderAccountLink]: ...


class UserEventOutcome(Struct):
    """What one user event did, per connection."""

    connections: list[str] = field(default_factory=list)
    directory_items_changed: int = 0
    # Each profile whose status or email the event changed (``connected`` tells whether the user
    # can host; the connection's own status is not the event's to change).
    profiles_changed: list[ProfileChange] = field(default_factory=list)


def apply_user_event(
    *,
    provider_names: Iterable[str],
    account_id: str,
    change: UserChange,
    links: AccountLinks,
    directory: UserDirectory,
    profiles: ProfileUpdates,
    notifications: NotificationPublisher = NO_NOTIFICATIONS,
) -> UserEventOutcome:
    """Apply ``change`` to the directory and the profiles of every connection linked to ``account_id``,
    and tell the client of each profile whose connected state changed.

    Revoked connections are updated too (their profiles are disconnected by the connection's
    status anyway, and stay true for when the account is linked again), without notifications:
    a revoked connection's link no longer names a secret."""
    outcome = UserEventOutcome()
    for provider_name in provider_names:
        for link in links.links_of_account(provider_name, account_id):
            if link.connection_id is None:
                continue  # a calendar tenant's link
            outcome.connections.append(link.connection_id)
            if directory.apply_user_change(link.connection_id, change):
                outcome.directory_items_changed += 1
            changed = profiles.apply_user_change(link.connection_id, change)
            outcome.profiles_changed += changed
            if link.secret_arn is None:
                continue
            connection = _LinkedConnection(link.connection_id, link.ou_id, link.client_id, provider_name)
            for profile in changed:
                # Logged by the publisher; like a match, a lost notification does not undo the change.
                with suppress(TemporarilyUnavailable):
                    notifications.profile_changed(profile.before, profile.after, connection)
    return outcome
