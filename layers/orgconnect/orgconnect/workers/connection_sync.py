"""A connection's directory sync as a resumable, chunked job (docs/sync.md).

A sync lists the provider's directory a bounded number of pages per chunk; at the end of a chunk
(or when the provider fails) the users it listed are kept and the cursor after them (provider
page token + status being listed) is saved in the ``SYNC`` item, so a chunk that fails is
redelivered and resumes at the page that failed. A sync that fits in one chunk keeps nothing.
Once listed, the reconcile writes only what changed: directory items (new, changed, gone) and
the profiles of every account of the OU, matched in memory
(:func:`orgconnect.domain.bulk_matching.reconcile_profiles`), at most ``writes_per_chunk`` writes
per chunk. Each chunk is one queue message
(:mod:`orgconnect.workers.connection_sync_driver`); the CLI runs the same chunks in-process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from msgspec import Struct, field
from msgspec.structs import replace

from orgconnect.domain.bulk_matching import (
    DirectoryChanges,
    ProfileChange,
    Reconciliation,
    directory_changes,
    reconcile_profiles,
)
from orgconnect.domain.conferencing import DirectoryUser
from orgconnect.domain.connection_credentials import ConnectionNeedsReauthorization, CredentialsMissing
from orgconnect.domain.directory_sync import SyncCursor, SyncPhase, SyncState, SyncStats, SyncStatus
from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.domain.matching import AccessTokens, ConferencingProfile, profile_provider_name
from orgconnect.domain.model import ConnectionStatus
from orgconnect.domain.provider_model import (
    AccessTokenRejected,
    ProviderError,
    ProviderRefused,
)
from orgconnect.domain.provisioning import ReconciledDirectory
from orgconnect.domain.server_to_server import AuthorizationType
from orgconnect.observability import logger
from orgconnect.workers.connection_calls import AdapterFactory

# Re-exported: the worker function, the driver and the tests import them from here.
from orgconnect.workers.connection_sync_messages import ChunkResult as ChunkResult
from orgconnect.workers.connection_sync_messages import SyncMessage as SyncMessage

if TYPE_CHECKING:
    from orgconnect.domain.accounts import Account
    from orgconnect.domain.conferencing_connections import ManagedConnection
    from orgconnect.providers.conferencing import ConferencingAdapter

#: Pages of one connection's listing from a position: (adapter, segment, page token) -> pages.
PageLister = Callable[["ConferencingAdapter", int, "str | None"], Iterable[Any]]
#: Sets a new adapter's rate limiter to its connection's account and plan (docs/providers.md).
RatePacer = Callable[["ConferencingAdapter", "ManagedConnection"], None]
#: Tells the integrator of the profile changes written (connection, applied changes).
ProfileNotifier = Callable[["ManagedConnection", list[ProfileChange]], None]


class ServerToServerRefused(Exception):
    """The provider refused a Server-to-Server app's token request (credentials changed or the app
    deactivated): the sync stops; the connection's status is the connection test's to change."""


class SyncDirectory(Protocol):
    """``orgconnect.store.sync_state.DynamoSyncDirectory``."""

    writes: int

    def state(self, connection_id: str) -> SyncState | None: ...

    def start(self, connection_id: str, sync_id: str) -> bool: ...

    def save_progress(
        self, state: SyncState, cursor: SyncCursor, stats: SyncStats, *, seq: int | None = None
    ) -> bool: ...

    def mark_sent(self, state: SyncState, seq: int) -> bool: ...

    def finish(self, state: SyncState, stats: SyncStats, users: int) -> bool: ...

    def fail(self, state: SyncState, reason: str) -> bool: ...

    def keep(self, state: SyncState, first_part: int, users: list[DirectoryUser]) -> int: ...

    def listing(self, state: SyncState, parts: int) -> list[DirectoryUser]: ...

    def drop_listing(self, state: SyncState) -> None: ...

    def users(self, connection_id: str) -> list[DirectoryUser]: ...

    def apply(self, connection_id: str, changes: DirectoryChanges) -> int: ...


class BulkProfiles(Protocol):
    """``orgconnect.store.bulk_profiles.DynamoBulkProfiles``."""

    def accounts(self, ou_id: str) -> list[Account]: ...

    def profiles(self, connection_id: str, account_ids: Iterable[str]) -> dict[str, ConferencingProfile]: ...

    def apply(self, change: ProfileChange) -> ConferencingProfile | None: ...


class ConnectionLookup(Protocol):
    def connection(self, connection_id: str) -> ManagedConnection | None: ...


class SyncLimits(Struct, frozen=True):
    """How much one chunk does: far under the worker's timeout, so chunks of other connections
    interleave with a long one in the queue."""

    pages_per_chunk: int = 20  # Zoom: 6,000 users, ~20 calls at the Medium category's rate
    writes_per_chunk: int = 2_000


class ConnectionSyncJob(Struct):
    """The sync job's ports (built by ``orgconnect.sync_runtime``; fakes in unit tests)."""

    directory: SyncDirectory
    profiles: BulkProfiles
    connections: ConnectionLookup
    tokens: AccessTokens
    adapters: AdapterFactory
    pages: PageLister
    new_id: Callable[[str], str]
    limits: SyncLimits = field(default_factory=SyncLimits)
    #: Called after each kept page and each reconcile step (the CLI's progress bar).
    on_progress: Callable[[SyncState], None] | None = None
    #: Called with the profile changes written (integrator notifications hook in here).
    on_profiles_changed: ProfileNotifier | None = None
    #: Paces each adapter with its account's shared limiter (None: the adapter's own).
    pace: RatePacer | None = None
    #: API calls made by this job object's adapters (the CLI's summary).
    api_calls: int = 0
    #: Called once a sync is done, with what it reconciled (provisioning hooks in here).
    on_reconciled: Callable[[ReconciledDirectory], None] | None = None
    #: Called at a sync's first chunk: renews a refresh token near its stated expiry.
    renew_refresh_token: Callable[[ManagedConnection], None] | None = None

    def start(self, connection_id: str) -> SyncMessage | None:
        """Start a new sync of the connection; its first chunk's message, or None while another
        sync of the connection is running."""
        sync_id = self.new_id("syn")
        if not self.directory.start(connection_id, sync_id):
            return None
        return SyncMessage(connection_id, sync_id, 0)

    def unsent(self, connection_id: str) -> SyncMessage | None:
        """The running sync's current chunk message when its send was lost (else None)."""
        state = self.directory.state(connection_id)
        if state is None or state.status is not SyncStatus.RUNNING or state.sent >= state.seq:
            return None
        return SyncMessage(connection_id, state.sync_id, state.seq, state.cursor)

    def sent(self, message: SyncMessage) -> None:
        """Record that ``message`` was queued (a redelivered predecessor will not send it again)."""
        state = self.directory.state(message.connection_id)
        if state is not None and message.sync_id == state.sync_id:
            self.directory.mark_sent(state, message.seq)

    def run_chunk(self, message: SyncMessage) -> ChunkResult:
        """Run chunk ``message.seq`` of its sync from the saved cursor. Provider outages raise
        (the message is redelivered and resumes at the last page kept)."""
        state = self.directory.state(message.connection_id)
        if state is None or message.sync_id is None or not state.runnable(message.sync_id, message.seq):
            lost = state is not None and state.sync_id == message.sync_id and state.sent < state.seq
            if lost and state is not None and state.status is SyncStatus.RUNNING:
                again = SyncMessage(state.connection_id, state.sync_id, state.seq, state.cursor)
                return ChunkResult("resend", state, again)
            return ChunkResult("stale", state)
        connection = self.connections.connection(message.connection_id)
        name = profile_provider_name(connection.provider_name) if connection else None
        if connection is None or name is None:
            return self._failed(state, "connection_removed")
        if connection.status is ConnectionStatus.REVOKED:
            return self._failed(state, "revoked")
        if connection.status is ConnectionStatus.NEEDS_REAUTHORIZATION:
            return self._failed(state, "needs_reauthorization")
        progress = _Progress(state, replace(state.stats, chunks=state.stats.chunks + 1))
        try:
            if message.seq == 0 and self.renew_refresh_token is not None:
                self.renew_refresh_token(connection)  # an expired one ends the sync just below
            if state.cursor.phase is SyncPhase.LISTING:
                self._list(progress, connection, name)
                if progress.state.cursor.phase is SyncPhase.LISTING:
                    return self._next(self._kept(progress), progress.stats)
            return self._reconcile(progress, connection, name)
        except ServerToServerRefused:
            return self._failed(state, "credentials_refused")
        except ConnectionNeedsReauthorization:
            return self._failed(state, "needs_reauthorization")
        except CredentialsMissing:
            return self._failed(state, "no_credentials")

    # -- listing ------------------------------------------------------------------------------

    def _list(self, progress: _Progress, connection: ManagedConnection, name: str) -> None:
        """Up to ``pages_per_chunk`` pages from the cursor, held in memory; on an outage, what was
        listed is kept with the cursor after it (the redelivery resumes there) and it raises."""

        def listing(token: str) -> None:
            adapter = self._adapter(connection, name, token)
            try:
                self._pages(adapter, progress)
            finally:
                calls, limited = _requests(adapter)
                self.api_calls += calls
                progress.stats = replace(
                    progress.stats,
                    api_calls=progress.stats.api_calls + calls,
                    rate_limited=progress.stats.rate_limited + limited,
                )

        token = self._token(connection)
        try:
            try:
                listing(token)
            except AccessTokenRejected:  # refreshed once; the pages listed so far stay listed
                listing(self._token(connection, rejected=token))
        except (ProviderError, TemporarilyUnavailable):
            kept = self._kept(progress)
            self.directory.save_progress(kept, kept.cursor, progress.stats)
            raise

    def _token(self, connection: ManagedConnection, *, rejected: str | None = None) -> str:
        """An access token: refreshed (browser-linked) or from the app's credentials (Server-to-Server)."""
        try:
            return self.tokens.access_token(connection, rejected=rejected)
        except ProviderRefused as refused:
            server_to_server = connection.authorization_type is AuthorizationType.SERVER_TO_SERVER
            if server_to_server and not isinstance(refused, AccessTokenRejected):
                raise ServerToServerRefused(refused.error) from refused
            raise

    def _pages(self, adapter: ConferencingAdapter, progress: _Progress) -> None:
        cursor = progress.state.cursor
        for page in self.pages(adapter, cursor.segment, cursor.page_token):
            phase = SyncPhase.RECONCILE if page.done else SyncPhase.LISTING
            cursor = replace(
                cursor, phase=phase, segment=page.segment, page_token=page.next_token, pages=cursor.pages + 1
            )
            progress.listed += page.users
            progress.stats = replace(
                progress.stats, users_listed=progress.stats.users_listed + len(page.users)
            )
            progress.state = replace(progress.state, cursor=cursor, stats=progress.stats)
            progress.pages += 1
            self._progress(progress.state)
            if page.done or progress.pages >= self.limits.pages_per_chunk:
                return

    def _kept(self, progress: _Progress) -> SyncState:
        """Keep the users listed in this chunk (their cursor is the caller's to save)."""
        state = progress.state
        if not progress.listed:
            return state
        parts = self.directory.keep(state, state.cursor.parts, progress.listed)
        progress.listed = []
        progress.state = replace(state, cursor=replace(state.cursor, parts=state.cursor.parts + parts))
        return progress.state

    # -- reconcile ----------------------------------------------------------------------------

    def _reconcile(self, progress: _Progress, connection: ManagedConnection, name: str) -> ChunkResult:
        """Write what differs, ``writes_per_chunk`` at most; done when nothing is left."""
        state, stats, budget = progress.state, progress.stats, self.limits.writes_per_chunk
        earlier = self.directory.listing(state, state.cursor.parts) if state.cursor.parts else []
        listed = earlier + progress.listed
        changes = directory_changes(self.directory.users(connection.connection_id), listed)
        if len(changes) > budget:
            part = DirectoryChanges(
                changes.upserts[:budget], changes.removals[: budget - len(changes.upserts[:budget])]
            )
            written = self.directory.apply(connection.connection_id, part)
            stats = replace(stats, directory_writes=stats.directory_writes + written)
            return self._next(self._kept(progress), stats)
        written = self.directory.apply(connection.connection_id, changes) if len(changes) else 0
        stats = replace(stats, directory_writes=stats.directory_writes + written)
        budget -= written
        accounts = self.profiles.accounts(connection.ou_id)
        existing = self.profiles.profiles(connection.connection_id, [a.account_id for a in accounts])
        result = reconcile_profiles(
            accounts,
            listed,
            existing,
            connection_id=connection.connection_id,
            provider_name=name,
            new_profile_id=lambda: self.new_id("pro"),
        )
        stats = replace(stats, matched=result.matched, pending=result.pending, unmatched=result.unmatched)
        todo, left = result.changes[: max(budget, 0)], result.changes[max(budget, 0) :]
        applied = self.apply_profile_changes(todo, connection)
        stats = replace(stats, profile_writes=stats.profile_writes + len(applied))
        if left:
            return self._next(self._kept(progress), stats)
        finished = self._finish(state, stats, listed, result)
        if finished.outcome == "done" and self.on_reconciled is not None:
            after = {**existing, **{c.after.account_id: c.after for c in applied}}
            self.on_reconciled(ReconciledDirectory(connection, accounts, listed, after))
        return finished

    def apply_profile_changes(
        self, changes: list[ProfileChange], connection: ManagedConnection
    ) -> list[ProfileChange]:
        """Write the changed profiles; the one place a sync changes profiles (notifications hook
        in through ``on_profiles_changed``, after the writes: a notifier failure is its own to log,
        the writes stand). A change that lost to a concurrent write is skipped."""
        applied = [c for c in changes if self.profiles.apply(c) is not None]
        if applied and self.on_profiles_changed is not None:
            self.on_profiles_changed(connection, applied)
        return applied

    def _finish(
        self, state: SyncState, stats: SyncStats, listed: list[DirectoryUser], result: Reconciliation
    ) -> ChunkResult:
        if not self.directory.finish(state, stats, len(listed)):
            return ChunkResult("stale", state)
        if state.cursor.parts:
            self.directory.drop_listing(state)
        done = replace(state, status=SyncStatus.DONE, stats=stats)
        self._progress(done)
        logger.info(
            "connection synced",
            extra={"connection_id": state.connection_id, "sync_id": state.sync_id, **stats.to_dict()},
        )
        return ChunkResult("done", done)

    # -- helpers ------------------------------------------------------------------------------

    def _next(self, state: SyncState, stats: SyncStats) -> ChunkResult:
        """Move to the next chunk (conditional on this one); its message is the caller's to send."""
        if not self.directory.save_progress(state, state.cursor, stats, seq=state.seq + 1):
            return ChunkResult("stale", state)
        moved = replace(state, seq=state.seq + 1, stats=stats)
        self._progress(moved)
        return ChunkResult(
            "continued", moved, SyncMessage(state.connection_id, state.sync_id, moved.seq, state.cursor)
        )

    def _failed(self, state: SyncState, reason: str) -> ChunkResult:
        self.directory.fail(state, reason)
        logger.warning(
            "connection sync stopped",
            extra={"connection_id": state.connection_id, "sync_id": state.sync_id, "why": reason},
        )
        return ChunkResult("failed", replace(state, status=SyncStatus.FAILED, reason=reason), reason=reason)

    def _progress(self, state: SyncState) -> None:
        if self.on_progress is not None:
            self.on_progress(state)

    def _adapter(self, connection: ManagedConnection, name: str, token: str) -> ConferencingAdapter:
        tenant = connection.provider_account_id if name == "ms_teams" else None
        adapter = self.adapters(name, token, tenant)
        if self.pace is not None:
            self.pace(adapter, connection)
        return adapter


def _requests(adapter: ConferencingAdapter) -> tuple[int, int]:
    """(requests sent, 429s seen) by the adapter's API client, retries included; an adapter
    without one (a benchmark's fake) counts its calls and no 429."""
    stats = getattr(getattr(adapter, "api", None), "rate_stats", None)
    if stats is None:
        return sum(adapter.calls.values()), 0
    return int(stats.requests), int(stats.rate_limited)


class _Progress(Struct):
    """A chunk's state so far: the users it listed are held here until kept or reconciled."""

    state: SyncState
    stats: SyncStats
    pages: int = 0
    listed: list[DirectoryUser] = field(default_factory=list)
