"""The sync job's store on moto and on DynamoDB Local (docs/sync.md): one sync starts among
concurrent starts; every later write is conditional on its sync id and chunk; kept pages round-trip
and are dropped; directory changes put and delete; the OU's accounts and their profiles are read in
bulk and a profile is written only while it is the one reconciled; the scheduled list."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from orgconnect import runtime
from orgconnect.domain.accounts import Account, CalendarProfile
from orgconnect.domain.bulk_matching import ChangeKind, DirectoryChanges, ProfileChange
from orgconnect.domain.conferencing import DirectoryUser, UserStatus
from orgconnect.domain.directory_sync import SyncCursor, SyncPhase, SyncStats, SyncStatus
from orgconnect.domain.matching import ConferencingProfile
from orgconnect.domain.model import CalendarProvider
from orgconnect.domain.secrets import new_id
from orgconnect.store.accounts import DynamoAccounts
from orgconnect.store.bulk_profiles import DynamoBulkProfiles
from orgconnect.store.connection_sync import DynamoLinkedConnections
from orgconnect.store.dynamodb import to_item
from orgconnect.store.sync_state import DynamoSyncDirectory

pytestmark = pytest.mark.every_dynamodb


def _directory() -> DynamoSyncDirectory:
    return DynamoSyncDirectory(runtime.get_store(), clock=runtime.now)


def _put(item: dict[str, Any]) -> None:
    store = runtime.get_store()
    store.client.put_item(TableName=store.table_name, Item=to_item(item))


def test_one_sync_starts_and_only_its_current_chunk_writes(aws: object) -> None:
    connection = new_id("cnx")
    assert not _directory().synced(connection) and _directory().state(connection) is None
    with ThreadPoolExecutor(6) as pool:
        started = list(pool.map(lambda n: _directory().start(connection, f"syn_{n}"), range(6)))
    assert started.count(True) == 1
    state = _directory().state(connection)
    assert state is not None and state.status is SyncStatus.RUNNING and (state.seq, state.sent) == (0, -1)
    assert state.sync_id == f"syn_{started.index(True)}"
    cursor = SyncCursor(SyncPhase.LISTING, 1, "tok", 3)
    assert _directory().save_progress(state, cursor, SyncStats(users_listed=900), seq=1)
    assert not _directory().save_progress(state, cursor, SyncStats())  # chunk 0 is stale now
    moved = _directory().state(connection)
    assert moved is not None and moved.seq == 1 and moved.cursor == cursor and moved.stats.users_listed == 900
    assert _directory().mark_sent(moved, 1) and _directory().state(connection).sent == 1  # type: ignore[union-attr]
    assert not _directory().start(connection, "syn_late")  # the running sync holds its lease
    assert _directory().finish(moved, SyncStats(users_listed=900), 900)
    assert _directory().synced(connection)
    assert not _directory().finish(moved, SyncStats(), 0)  # done: nothing more from that sync
    assert _directory().start(connection, "syn_next")  # a reconcile starts a new one
    assert _directory().synced(connection)  # the last completed sync is still known
    assert DynamoLinkedConnections(runtime.get_store()).linked() == []  # no connection item


def test_listed_users_are_kept_in_parts_read_back_in_order_and_dropped(aws: object) -> None:
    connection = new_id("cnx")
    directory = _directory()
    assert directory.start(connection, "syn_1")
    state = directory.state(connection)
    assert state is not None
    users = [DirectoryUser(f"zu_{i}", f"u{i}@example.com", f"U {i}", UserStatus.ACTIVE) for i in range(2_300)]
    assert directory.keep(state, 0, users[:2_100]) == 3  # 1,000 users an item
    assert directory.keep(state, 3, users[2_100:]) == 1
    assert directory.keep(state, 3, users[2_100:]) == 1  # a repeated attempt overwrites its part
    directory.keep(state, 4, users[:5])  # a lost attempt's part beyond the saved count
    assert directory.listing(state, 4) == users
    directory.drop_listing(state)
    assert directory.listing(state, 5) == []


def test_directory_changes_put_and_delete(aws: object) -> None:
    connection = new_id("cnx")
    ada = DirectoryUser("zu_1", "ada@example.com", "Ada", UserStatus.ACTIVE)
    bo = DirectoryUser("zu_2", "bo@example.com", "Bo", UserStatus.PENDING)
    assert _directory().store(connection, [ada, bo]) == 2
    renamed = DirectoryUser("zu_1", "ada.l@example.com", "Ada", UserStatus.ACTIVE)
    assert _directory().apply(connection, DirectoryChanges([renamed], ["ada@example.com"])) == 2
    assert sorted(u.email for u in _directory().users(connection)) == ["ada.l@example.com", "bo@example.com"]


def test_the_ous_accounts_and_profiles_in_bulk_and_conditional_profile_writes(aws: object) -> None:
    ou, service_account, connection = new_id("ou"), new_id("ser"), new_id("cnx")
    _put(
        {
            "pk": f"SERVICEACCOUNT#{service_account}",
            "sk": "SERVICEACCOUNT",
            "type": "service_account",
            "service_account_id": service_account,
            "gsi1pk": f"OU#{ou}",
            "gsi1sk": f"SERVICEACCOUNT#{service_account}",
        }
    )
    accounts = DynamoAccounts(runtime.get_store(), clock=runtime.now)
    made = []
    for n in range(130):
        account, _ = accounts.create_or_get(
            Account(
                new_id("acc"),
                "cli_1",
                service_account,
                f"u{n}@example.com",
                None,
                f"g{n}",
                CalendarProfile(new_id("pro"), CalendarProvider.GOOGLE_WORKSPACE, f"u{n}@example.com"),
            )
        )
        made.append(account)
    bulk = DynamoBulkProfiles(runtime.get_store())
    assert sorted(a.account_id for a in bulk.accounts(ou)) == sorted(a.account_id for a in made)
    assert bulk.accounts(new_id("ou")) == []

    def profile(
        account: Account, profile_id: str, status: UserStatus = UserStatus.ACTIVE
    ) -> ConferencingProfile:
        return ConferencingProfile(
            profile_id, account.account_id, connection, "zoom", "zu", account.email, status
        )

    first = profile(made[0], "pro_a")
    assert bulk.apply(ProfileChange(ChangeKind.CREATED, None, first)) == first
    # A concurrent first match under another id keeps the stored profile: nothing written.
    assert bulk.apply(ProfileChange(ChangeKind.CREATED, None, profile(made[0], "pro_b"))) is None
    # An update of a profile that is no longer the one read is refused too.
    assert (
        bulk.apply(ProfileChange(ChangeKind.UPDATED, profile(made[1], "pro_x"), profile(made[1], "pro_x")))
        is None
    )
    inactive = profile(made[0], "pro_a", UserStatus.INACTIVE)
    assert bulk.apply(ProfileChange(ChangeKind.DISCONNECTED, first, inactive)) == inactive
    for account in made[1:120]:
        bulk.apply(ProfileChange(ChangeKind.CREATED, None, profile(account, f"pro_{account.account_id}")))
    found = bulk.profiles(connection, [a.account_id for a in made])  # two BatchGetItem requests
    assert len(found) == 120 and found[made[0].account_id] == inactive and bulk.writes == 121
