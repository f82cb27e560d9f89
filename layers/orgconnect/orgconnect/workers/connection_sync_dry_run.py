"""Read-only ports for a dry run of a connection's sync (``orgconnect sync --dry-run``;
docs/provisioning.md): the provider is listed and the stored directory, accounts and profiles
are read as usual, but every write the job would make (the ``SYNC`` item, kept pages, directory
items, profiles) is held in memory and counted instead. Nothing is written to DynamoDB.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from msgspec import Struct, field
from msgspec.structs import replace

from orgconnect.domain.directory_sync import SyncState, SyncStatus

if TYPE_CHECKING:
    from orgconnect.domain.accounts import Account
    from orgconnect.domain.bulk_matching import DirectoryChanges, ProfileChange
    from orgconnect.domain.conferencing import DirectoryUser
    from orgconnect.domain.directory_sync import SyncCursor, SyncStats
    from orgconnect.domain.matching import ConferencingProfile


class StoredDirectory(Protocol):
    """What a dry run reads of ``SyncDirectory``: the stored users."""

    def users(self, connection_id: str) -> list[DirectoryUser]: ...


class StoredProfiles(Protocol):
    """What a dry run reads of ``BulkProfiles``: the OU's accounts and their profiles."""

    def accounts(self, ou_id: str) -> list[Account]: ...

    def profiles(self, connection_id: str, account_ids: Iterable[str]) -> dict[str, ConferencingProfile]: ...


class ReadOnlyDirectory(Struct):
    """A ``SyncDirectory`` whose sync state and kept pages live in memory; directory changes are
    counted (``upserts``, ``removals``), never written."""

    stored: StoredDirectory
    writes: int = 0
    upserts: int = 0
    removals: int = 0
    _states: dict[str, SyncState] = field(default_factory=dict)
    _parts: list[list[DirectoryUser]] = field(default_factory=list)

    def state(self, connection_id: str) -> SyncState | None:
        return self._states.get(connection_id)

    def start(self, connection_id: str, sync_id: str) -> bool:
        self._states[connection_id] = SyncState(connection_id, sync_id, SyncStatus.RUNNING, 0, 0)
        return True

    def save_progress(
        self, state: SyncState, cursor: SyncCursor, stats: SyncStats, *, seq: int | None = None
    ) -> bool:
        moved = replace(state, cursor=cursor, stats=stats, seq=state.seq if seq is None else seq)
        return self._put(moved)

    def mark_sent(self, state: SyncState, seq: int) -> bool:
        return self._put(replace(state, sent=max(state.sent, seq)))

    def finish(self, state: SyncState, stats: SyncStats, users: int) -> bool:
        return self._put(replace(state, status=SyncStatus.DONE, stats=stats))

    def fail(self, state: SyncState, reason: str) -> bool:
        return self._put(replace(state, status=SyncStatus.FAILED, reason=reason))

    def keep(self, state: SyncState, first_part: int, users: list[DirectoryUser]) -> int:
        del self._parts[first_part:]
        self._parts.append(list(users))
        return 1

    def listing(self, state: SyncState, parts: int) -> list[DirectoryUser]:
        return [user for part in self._parts[:parts] for user in part]

    def drop_listing(self, state: SyncState) -> None:
        self._parts.clear()

    def users(self, connection_id: str) -> list[DirectoryUser]:
        return self.stored.users(connection_id)

    def apply(self, connection_id: str, changes: DirectoryChanges) -> int:
        self.upserts += len(changes.upserts)
        self.removals += len(changes.removals)
        return len(changes)

    def _put(self, state: SyncState) -> bool:
        current = self._states.get(state.connection_id)
        if current is None or current.sync_id != state.sync_id:
            return False
        self._states[state.connection_id] = state
        return True


class ReadOnlyProfiles(Struct):
    """``BulkProfiles`` that read the stored accounts and profiles and keep the changes."""

    stored: StoredProfiles
    changes: list[ProfileChange] = field(default_factory=list)

    def accounts(self, ou_id: str) -> list[Account]:
        return self.stored.accounts(ou_id)

    def profiles(self, connection_id: str, account_ids: Iterable[str]) -> dict[str, ConferencingProfile]:
        return self.stored.profiles(connection_id, account_ids)

    def apply(self, change: ProfileChange) -> ConferencingProfile | None:
        self.changes.append(change)
        return change.after

    def counts(self) -> dict[str, int]:
        """Profile changes by kind: ``created``, ``updated``, ``disconnected``."""
        kinds = Counter(str(c.kind) for c in self.changes)
        return {kind: kinds.get(kind, 0) for kind in ("created", "updated", "disconnected")}
