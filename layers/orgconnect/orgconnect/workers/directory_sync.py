"""Matching one account against every conferencing connection of its Organizational Unit, with
the connection's user directory listed by the sync job and reused (docs/matching.md, docs/sync.md).

Per connection: the directory's item for the account's email (no provider call on a hit); on a
miss, if the directory was never listed and no sync of it runs, the sync job runs here (the
same chunks the queue runs: list, store, reconcile every account of the OU) and the email is
read from what it stored; otherwise one ``lookup_user`` call. Then the pure
``domain.matching.match`` decides the profile, written idempotently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import suppress
from typing import TYPE_CHECKING, Protocol

from msgspec import Struct

from orgconnect.domain.conferencing import DirectoryUser
from orgconnect.domain.conferencing_connections import ManagedConnection
from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.domain.matching import (
    AccessTokens,
    ConferencingProfile,
    match,
    profile_provider_name,
    with_connection_token,
)
from orgconnect.domain.model import ConnectionStatus
from orgconnect.domain.notifications import NO_NOTIFICATIONS, NotificationPublisher
from orgconnect.domain.secrets import new_id
from orgconnect.workers.connection_calls import CONNECTION_SKIPPED, AdapterFactory, log_connection_skipped

if TYPE_CHECKING:
    from orgconnect.domain.accounts import Account
    from orgconnect.providers.conferencing import ConferencingAdapter


class ProfileStore(Protocol):
    """``orgconnect.store.conferencing_profiles.DynamoConferencingProfiles``."""

    def for_account(self, account_id: str) -> list[ConferencingProfile]: ...

    def save(self, profile: ConferencingProfile) -> ConferencingProfile: ...

    def connections(self, ou_id: str) -> list[ManagedConnection]: ...


class DirectoryStore(Protocol):
    """``orgconnect.store.sync_state.DynamoSyncDirectory``."""

    def get(self, connection_id: str, email: str) -> DirectoryUser | None: ...

    def synced(self, connection_id: str) -> bool: ...

    def store(self, connection_id: str, users: Iterable[DirectoryUser]) -> int: ...


class ConferencingMatcher(Struct):
    """Matches accounts to the conferencing users of their OU's connections."""

    profiles: ProfileStore
    directory: DirectoryStore
    tokens: AccessTokens
    adapters: AdapterFactory
    notifications: NotificationPublisher = NO_NOTIFICATIONS
    #: Runs a whole sync of a never-listed connection here (the sync job, in-process); True when
    #: it completed, False when another sync of it runs. None: look each miss up.
    first_sync: Callable[[ManagedConnection], bool] | None = None

    def match_account(self, account: Account, ou_id: str | None) -> list[ConferencingProfile]:
        """Match ``account`` against every linked conferencing connection of ``ou_id``; returns
        its profiles. A connection that cannot be reached now is skipped (its profile, if any,
        is kept) and matched again on the account's next request."""
        if not ou_id:
            return []
        existing = {p.connection_id: p for p in self.profiles.for_account(account.account_id)}
        out: list[ConferencingProfile] = []
        for connection in self.profiles.connections(ou_id):
            name = profile_provider_name(connection.provider_name)
            if name is None or connection.status is ConnectionStatus.REVOKED:
                continue
            before = existing.get(connection.connection_id)
            try:
                found = self.find(connection, name, account.email)
            except CONNECTION_SKIPPED as e:
                log_connection_skipped("conferencing match skipped", connection.connection_id, e)
                found = None
                if before is None:
                    continue
            profile = match(before, found, None, new_profile=self._new_profile(account, connection, name))
            if profile is None:
                continue
            if profile != before:
                profile = self.profiles.save(profile)
                with suppress(TemporarilyUnavailable):  # logged by the publisher
                    self.notifications.profile_changed(before, profile, connection)
            out.append(profile)
        return out

    def find(self, connection: ManagedConnection, name: str, email: str) -> DirectoryUser | None:
        """The connection's user with ``email``: stored, else after a first sync run here (the
        sync job, when the directory was never listed and no sync runs), else looked up."""
        email = email.strip().lower()
        stored = self.directory.get(connection.connection_id, email)
        if stored is not None:
            return stored
        if (
            self.first_sync is not None
            and not self.directory.synced(connection.connection_id)
            and self.first_sync(connection)
        ):
            return self.directory.get(connection.connection_id, email)
        user = with_connection_token(
            self.tokens, connection, lambda token: self._adapter(connection, name, token).lookup_user(email)
        )
        if user is not None:
            self.directory.store(connection.connection_id, [user])
        return user

    @staticmethod
    def _new_profile(
        account: Account, connection: ManagedConnection, name: str
    ) -> Callable[[DirectoryUser], ConferencingProfile]:
        def new(user: DirectoryUser) -> ConferencingProfile:
            return ConferencingProfile(
                profile_id=new_id("pro"),
                account_id=account.account_id,
                connection_id=connection.connection_id,
                provider_name=name,
                provider_user_id=user.provider_user_id,
                profile_name=user.email,
                status=user.status,
            )

        return new

    def _adapter(self, connection: ManagedConnection, name: str, token: str) -> ConferencingAdapter:
        tenant = connection.provider_account_id if name == "ms_teams" else None
        return self.adapters(name, token, tenant)
