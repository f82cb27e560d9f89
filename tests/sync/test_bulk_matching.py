"""The in-memory reconcile (orgconnect.domain.bulk_matching), the sync message and state types."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count

import pytest

from orgconnect.domain.bulk_matching import ChangeKind, Reconciliation, directory_changes, reconcile_profiles
from orgconnect.domain.conferencing import DirectoryUser, UserStatus
from orgconnect.domain.directory_sync import SyncCursor, SyncPhase, SyncState, SyncStats, SyncStatus
from orgconnect.domain.matching import ConferencingProfile
from orgconnect.workers.connection_sync import SyncMessage

ACTIVE, PENDING, INACTIVE = UserStatus.ACTIVE, UserStatus.PENDING, UserStatus.INACTIVE


@dataclass(frozen=True)
class Acc:
    account_id: str
    email: str


def user(n: int, email: str | None = None, status: UserStatus = ACTIVE) -> DirectoryUser:
    return DirectoryUser(f"zu_{n}", email or f"u{n}@example.com", f"U{n}", status)


def profile(n: int, email: str | None = None, status: UserStatus = ACTIVE) -> ConferencingProfile:
    return ConferencingProfile(
        f"pro_{n}", f"acc_{n}", "cnx_1", "zoom", f"zu_{n}", email or f"u{n}@example.com", status
    )


def reconcile(
    accounts: list[Acc], users: list[DirectoryUser], profiles: list[ConferencingProfile]
) -> Reconciliation:
    ids = count()
    return reconcile_profiles(
        accounts,
        users,
        {p.account_id: p for p in profiles},
        connection_id="cnx_1",
        provider_name="zoom",
        new_profile_id=lambda: f"pro_new{next(ids)}",
    )


def test_each_kind_of_change_and_nothing_else() -> None:
    accounts = [Acc(f"acc_{n}", f"U{n}@Example.com") for n in range(6)]
    profiles = [profile(n) for n in (0, 1, 2, 3, 5)]
    users = [
        user(0),  # unchanged
        user(1, "renamed@example.com"),  # renamed at the provider, same id
        user(2, status=INACTIVE),  # deactivated
        # 3: removed from the provider
        user(4),  # new at the provider, account without a profile
        user(5, status=PENDING),  # back to pending
        user(9, "u3@example.com"),  # another user took the removed user's address
    ]
    result = reconcile(accounts, users, profiles)
    by_account = {c.after.account_id: c for c in result.changes}
    assert set(by_account) == {"acc_1", "acc_2", "acc_3", "acc_4", "acc_5"}
    assert by_account["acc_1"].kind is ChangeKind.UPDATED
    assert (
        by_account["acc_1"].after.profile_id == "pro_1"
        and by_account["acc_1"].after.profile_name == "renamed@example.com"
    )
    assert by_account["acc_2"].after.status is INACTIVE and by_account["acc_2"].connected_changed
    # Removed: disconnected, kept; the address's new owner does not take the profile.
    assert by_account["acc_3"].kind is ChangeKind.DISCONNECTED
    assert (
        by_account["acc_3"].after.provider_user_id == "zu_3" and by_account["acc_3"].after.status is INACTIVE
    )
    assert by_account["acc_4"].kind is ChangeKind.CREATED and by_account["acc_4"].before is None
    assert (
        by_account["acc_4"].after.profile_id == "pro_new0"
        and by_account["acc_4"].after.provider_user_id == "zu_4"
    )
    assert by_account["acc_5"].after.status is PENDING
    assert (result.matched, result.pending, result.unmatched) == (5, 1, 1)


def test_a_listing_without_change_changes_nothing_and_a_disconnected_profile_stays_quiet() -> None:
    accounts = [Acc(f"acc_{n}", f"u{n}@example.com") for n in range(3)]
    users = [user(0), user(1, status=PENDING)]
    profiles = [profile(0), profile(1, status=PENDING), profile(2, status=INACTIVE)]
    result = reconcile(accounts, users, profiles)
    assert result.changes == []


def test_directory_changes_are_the_difference_only() -> None:
    stored = [user(0), user(1), user(2, status=PENDING)]
    listed = [user(0), user(2), user(3), user(1, "new@example.com")]
    changes = directory_changes(stored, listed)
    assert sorted(u.email for u in changes.upserts) == ["new@example.com", "u2@example.com", "u3@example.com"]
    assert changes.removals == ["u1@example.com"]
    assert len(directory_changes(listed, listed)) == 0


def test_messages_and_cursors_round_trip_and_junk_is_refused() -> None:
    cursor = SyncCursor(SyncPhase.LISTING, 1, "tok", 4)
    assert SyncCursor.from_dict(cursor.to_dict()) == cursor and SyncCursor.from_dict(None) == SyncCursor()
    message = SyncMessage("cnx_1", "syn_1", 3, cursor)
    assert SyncMessage.from_message(message.to_message()) == SyncMessage("cnx_1", "syn_1", 3)
    assert SyncMessage.from_message({"kind": "sync", "connection_id": "cnx_2"}).sync_id is None
    junks: list[object] = [{}, {"kind": "other"}, {"kind": "sync", "connection_id": "acc_1"}, [], "x"]
    for junk in junks:
        with pytest.raises((ValueError, KeyError, TypeError)):
            SyncMessage.from_message(junk)
    stats = SyncStats(users_listed=5, api_calls=2)
    assert SyncStats.from_dict(stats.to_dict()) == stats
    state = SyncState("cnx_1", "syn_1", SyncStatus.RUNNING, seq=2, sent=2)
    assert state.runnable("syn_1", 2) and not state.runnable("syn_1", 1) and not state.runnable("syn_0", 2)


def test_the_sample_events_are_a_sync_chunk_and_a_schedule() -> None:
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "events"
    (record,) = json.loads((root / "sqs" / "ConnectionSyncWorkerFunction.json").read_text())["Records"]
    message = SyncMessage.from_message(json.loads(record["body"]))
    assert message.connection_id.startswith("cnx_") and message.sync_id and message.seq == 1
    scheduled = json.loads((root / "schedule" / "ConnectionSyncWorkerFunction.json").read_text())
    assert scheduled["detail-type"] == "Scheduled Event"  # what the worker's handler tells apart
