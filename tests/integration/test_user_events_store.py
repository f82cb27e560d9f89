"""User events applied to the store, on moto and on DynamoDB Local: profiles found by the provider
user's id, each attribute set only by an event newer than the one that last set it (replays and
out-of-order deliveries change nothing), directory items upserted, renamed and removed behind
tombstones, and the statuses of a profile's connections in one read."""

from __future__ import annotations

import pytest

from orgconnect import runtime
from orgconnect.domain.conferencing import DirectoryUser, UserStatus
from orgconnect.domain.matching import ConferencingProfile
from orgconnect.domain.model import ConnectionStatus
from orgconnect.domain.secrets import new_id
from orgconnect.domain.webhooks_users import UserChange
from orgconnect.store.conferencing_profiles import DynamoConferencingProfiles
from orgconnect.store.directory import DynamoDirectory

pytestmark = pytest.mark.every_dynamodb


def _directory() -> DynamoDirectory:
    return DynamoDirectory(runtime.get_store())


def _profiles() -> DynamoConferencingProfiles:
    return DynamoConferencingProfiles(runtime.get_store())


def _matched(connection: str, user_id: str, email: str, status: UserStatus) -> ConferencingProfile:
    return _profiles().save(
        ConferencingProfile(new_id("pro"), new_id("acc"), connection, "zoom", user_id, email, status)
    )


def _now(profile: ConferencingProfile) -> ConferencingProfile:
    (found,) = [
        p for p in _profiles().for_account(profile.account_id) if p.connection_id == profile.connection_id
    ]
    return found


def test_status_events_apply_in_event_order_whatever_the_delivery_order(seeded: object) -> None:
    connection = new_id("cnx")
    ada = _matched(connection, "zu_ada", "ada@example.com", UserStatus.ACTIVE)
    other = _matched(connection, "zu_bo", "bo@example.com", UserStatus.ACTIVE)
    deactivated = UserChange("zu_ada", 2_000, email="ada@example.com", status=UserStatus.INACTIVE)
    activated = UserChange("zu_ada", 3_000, email="ada@example.com", status=UserStatus.ACTIVE)

    assert len(_profiles().apply_user_change(connection, deactivated)) == 1
    assert _now(ada).status is UserStatus.INACTIVE and not _now(ada).connected
    assert len(_profiles().apply_user_change(connection, deactivated)) == 0  # a replay
    assert len(_profiles().apply_user_change(connection, activated)) == 1
    assert _now(ada).status is UserStatus.ACTIVE
    assert len(_profiles().apply_user_change(connection, deactivated)) == 0  # older than the last applied
    assert _now(ada).status is UserStatus.ACTIVE
    assert _now(other).status is UserStatus.ACTIVE  # another user's profile is not touched


def test_a_same_valued_newer_event_still_stops_an_older_one(seeded: object) -> None:
    connection = new_id("cnx")
    ada = _matched(connection, "zu_ada", "ada@example.com", UserStatus.ACTIVE)
    # Delivered out of order: activated (t=3) first (no visible change), then deactivated (t=2).
    activated = UserChange("zu_ada", 3_000, email="ada@example.com", status=UserStatus.ACTIVE)
    assert len(_profiles().apply_user_change(connection, activated)) == 0
    deactivated = UserChange("zu_ada", 2_000, email="ada@example.com", status=UserStatus.INACTIVE)
    assert len(_profiles().apply_user_change(connection, deactivated)) == 0
    assert _now(ada).status is UserStatus.ACTIVE


def test_an_email_change_keeps_the_profile_and_an_older_status_event_still_applies(seeded: object) -> None:
    connection = new_id("cnx")
    ada = _matched(connection, "zu_ada", "ada@example.com", UserStatus.ACTIVE)
    renamed = UserChange("zu_ada", 5_000, email="ada.l@example.com", old_email="ada@example.com")
    assert len(_profiles().apply_user_change(connection, renamed)) == 1
    assert _now(ada).profile_id == ada.profile_id and _now(ada).profile_name == "ada.l@example.com"
    # A deactivation from before the rename, delivered late: the status is still newer than the
    # status's own last change; the email is not taken back.
    late = UserChange("zu_ada", 4_000, email="ada@example.com", status=UserStatus.INACTIVE)
    assert len(_profiles().apply_user_change(connection, late)) == 1
    assert (_now(ada).profile_name, _now(ada).status) == ("ada.l@example.com", UserStatus.INACTIVE)
    # A removed user's profile stays, not connected.
    removed = UserChange("zu_ada", 6_000, email="ada.l@example.com", removed=True)
    assert len(_profiles().apply_user_change(connection, removed)) == 0  # already inactive
    assert [p.profile_id for p in _profiles().of_connection(connection)] != []


def test_directory_items_follow_events_behind_tombstones(seeded: object) -> None:
    connection = new_id("cnx")
    directory = _directory()
    directory.store(connection, [DirectoryUser("zu_ada", "ada@example.com", "Ada", UserStatus.ACTIVE)])

    created = UserChange("zu_new", 1_000, email="New@Example.com".lower(), status=UserStatus.PENDING)
    assert directory.apply_user_change(connection, created)
    assert directory.get(connection, "new@example.com") == DirectoryUser(
        "zu_new", "new@example.com", "new@example.com", UserStatus.PENDING
    )
    accepted = UserChange("zu_new", 2_000, email="new@example.com", status=UserStatus.ACTIVE)
    assert directory.apply_user_change(connection, accepted)
    assert not directory.apply_user_change(connection, created)  # older: ignored
    assert directory.get(connection, "new@example.com").status is UserStatus.ACTIVE  # type: ignore[union-attr]

    renamed = UserChange("zu_ada", 3_000, email="ada.l@example.com", old_email="ada@example.com")
    assert directory.apply_user_change(connection, renamed)
    assert directory.get(connection, "ada@example.com") is None
    assert directory.get(connection, "ada.l@example.com") == DirectoryUser(
        "zu_ada", "ada.l@example.com", "Ada", UserStatus.ACTIVE
    )
    # An older event for the old address does not bring it back.
    stale = UserChange("zu_ada", 2_500, email="ada@example.com", status=UserStatus.ACTIVE)
    assert not directory.apply_user_change(connection, stale)
    assert directory.get(connection, "ada@example.com") is None

    removed = UserChange("zu_new", 4_000, email="new@example.com", removed=True)
    assert directory.apply_user_change(connection, removed)
    assert directory.get(connection, "new@example.com") is None
    assert not directory.apply_user_change(connection, accepted)  # older than the removal
    assert directory.get(connection, "new@example.com") is None
    # A listing (the reconcile) writes the truth over a tombstone.
    directory.store(connection, [DirectoryUser("zu_new2", "new@example.com", "N", UserStatus.ACTIVE)])
    assert directory.get(connection, "new@example.com") is not None


def test_connection_statuses_in_one_read(seeded: object) -> None:
    profiles = _profiles()
    assert profiles.connection_statuses([]) == {}
    assert profiles.connection_statuses([new_id("cnx")]) == {}  # removed or unknown: absent
    connection = new_id("cnx")
    from orgconnect.store.dynamodb import to_item
    from orgconnect.store.keys import connection_key

    store = runtime.get_store()
    store.client.put_item(
        TableName=store.table_name,
        Item=to_item(
            {
                **connection_key(connection),
                "type": "connection",
                "connection_id": connection,
                "status": "revoked",
            }
        ),
    )
    assert profiles.connection_statuses([connection, connection]) == {connection: ConnectionStatus.REVOKED}
