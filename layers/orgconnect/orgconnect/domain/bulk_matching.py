"""Reconciling a whole connection at once (docs/sync.md): the stored directory against a complete
listing, and every account of the Organizational Unit against the listed users, in memory.

The rules are those of :mod:`orgconnect.domain.matching`: an account is matched by email the
first time, then its profile follows the provider's stable user id (a renamed user keeps the
profile, another user taking the old address does not). Because the listing is complete, a
profile whose user is no longer listed is disconnected (``inactive``, no relink url). Only what
differs is returned, so a reconcile that finds nothing new writes nothing. Pure and linear: one
dictionary lookup or two per account and per user.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from typing import Protocol

from msgspec import Struct, field
from msgspec.structs import replace

from orgconnect.domain.conferencing import DirectoryUser, UserStatus
from orgconnect.domain.matching import ConferencingProfile


class MatchedAccount(Protocol):
    """What reconciling needs of an account (``domain.accounts.Account`` fits)."""

    @property
    def account_id(self) -> str: ...

    @property
    def email(self) -> str: ...


class DirectoryChanges(Struct, frozen=True):
    """The directory items to write: users new or changed, and emails no longer listed."""

    upserts: list[DirectoryUser] = field(default_factory=list)
    removals: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.upserts) + len(self.removals)


def directory_changes(stored: Iterable[DirectoryUser], listed: Iterable[DirectoryUser]) -> DirectoryChanges:
    """What turns the stored directory into the listed one (one item per email)."""
    current = {u.email: u for u in listed}
    before = {u.email: u for u in stored}
    upserts = [u for email, u in current.items() if before.get(email) != u]
    removals = [email for email in before if email not in current]
    return DirectoryChanges(upserts, removals)


class ChangeKind(StrEnum):
    """What happened to a profile."""

    CREATED = "created"  # first match of the account
    UPDATED = "updated"  # the user's email or status changed at the provider
    DISCONNECTED = "disconnected"  # the user is no longer in the provider's directory


class ProfileChange(Struct, frozen=True):
    """One profile to write: ``before`` (None when new) and ``after``."""

    kind: ChangeKind
    before: ConferencingProfile | None
    after: ConferencingProfile

    @property
    def connected_changed(self) -> bool:
        """Whether ``profile_connected`` flips (what an integrator notification is about)."""
        was = self.before.connected if self.before is not None else False
        return was != self.after.connected


class Reconciliation(Struct, frozen=True):
    """The profiles to write and the counts a sync reports."""

    changes: list[ProfileChange]
    matched: int  # accounts whose provider user is listed
    pending: int  # of those, users who have not accepted their invitation yet
    unmatched: int  # accounts without a listed provider user

    @property
    def connected_changes(self) -> list[ProfileChange]:
        """The changes that flip ``profile_connected``."""
        return [c for c in self.changes if c.connected_changed]


def reconcile_profiles(
    accounts: Iterable[MatchedAccount],
    directory_users: Iterable[DirectoryUser],
    existing_profiles: Mapping[str, ConferencingProfile],
    *,
    connection_id: str,
    provider_name: str,
    new_profile_id: Callable[[], str],
) -> Reconciliation:
    """Every account of the OU matched against the connection's complete directory.

    ``existing_profiles``: the accounts' profiles at this connection, by account id;
    ``provider_name``: Cronofy's profile provider name (``zoom``…); ``new_profile_id``: mints
    ``pro_…`` ids for first matches."""
    by_email: dict[str, DirectoryUser] = {}
    by_id: dict[str, DirectoryUser] = {}
    for listed in directory_users:
        by_email[listed.email] = listed
        by_id[listed.provider_user_id] = listed
    changes: list[ProfileChange] = []
    matched = pending = unmatched = 0
    for account in accounts:
        before = existing_profiles.get(account.account_id)
        user: DirectoryUser | None
        if before is not None:
            user = by_id.get(before.provider_user_id)  # the stable id decides, not the email
        else:
            user = by_email.get(account.email.strip().lower())
        if user is None:
            unmatched += 1
            if before is not None and before.status is not UserStatus.INACTIVE:
                after = replace(before, status=UserStatus.INACTIVE)
                changes.append(ProfileChange(ChangeKind.DISCONNECTED, before, after))
            continue
        matched += 1
        pending += user.status is UserStatus.PENDING
        if before is None:
            created = ConferencingProfile(
                profile_id=new_profile_id(),
                account_id=account.account_id,
                connection_id=connection_id,
                provider_name=provider_name,
                provider_user_id=user.provider_user_id,
                profile_name=user.email,
                status=user.status,
            )
            changes.append(ProfileChange(ChangeKind.CREATED, None, created))
        elif before.profile_name != user.email or before.status is not user.status:
            after = replace(before, profile_name=user.email, status=user.status)
            changes.append(ProfileChange(ChangeKind.UPDATED, before, after))
    return Reconciliation(changes, matched, pending, unmatched)
