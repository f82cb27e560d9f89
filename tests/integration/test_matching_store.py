"""Matching's store on moto and on DynamoDB Local: the directory written in batches of 25 and read
back by email, one profile per account and connection under concurrent first matches, and an
account's profiles in one Query. (One sync among concurrent starts: test_sync_store.py.)"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from orgconnect import runtime
from orgconnect.domain.conferencing import DirectoryUser, UserStatus
from orgconnect.domain.matching import ConferencingProfile
from orgconnect.domain.secrets import new_id
from orgconnect.store.conferencing_profiles import DynamoConferencingProfiles
from orgconnect.store.directory import DynamoDirectory
from tests.values import replace

pytestmark = pytest.mark.every_dynamodb


def _directory() -> DynamoDirectory:
    return DynamoDirectory(runtime.get_store())


def test_the_directory_is_stored_in_batches_and_read_by_email(seeded: object) -> None:
    connection = new_id("cnx")
    users = [DirectoryUser(f"zu_{i}", f"User{i}@Example.com", f"U {i}", UserStatus.ACTIVE) for i in range(61)]
    users.append(DirectoryUser("zu_p", "pending@example.com", "", UserStatus.PENDING))
    users.append(DirectoryUser("zu_p", "pending@example.com", "", UserStatus.PENDING))  # a page repeated
    assert _directory().store(connection, users) == 62
    assert _directory().get(connection, "USER7@example.com") == users[7]
    assert _directory().get(connection, "pending@example.com") == users[-1]
    assert _directory().get(connection, "nobody@example.com") is None
    assert _directory().get(new_id("cnx"), "user7@example.com") is None


def _profile(account_id: str, connection_id: str, user_id: str = "zu_1") -> ConferencingProfile:
    return ConferencingProfile(
        new_id("pro"), account_id, connection_id, "zoom", user_id, "ada@example.com", UserStatus.ACTIVE
    )


def test_concurrent_first_matches_keep_one_profile(seeded: object) -> None:
    profiles = DynamoConferencingProfiles(runtime.get_store())
    account, connection = new_id("acc"), new_id("cnx")
    with ThreadPoolExecutor(6) as pool:
        saved = list(pool.map(lambda _: profiles.save(_profile(account, connection)), range(6)))
    assert len({p.profile_id for p in saved}) == 1
    (stored,) = profiles.for_account(account)
    assert stored == saved[0]
    # The same profile written again (a status change) keeps its id.
    inactive = replace(stored, status=UserStatus.INACTIVE)
    assert profiles.save(inactive) == inactive
    other = _profile(account, new_id("cnx"), "wx_1")
    profiles.save(other)
    assert {p.profile_id for p in profiles.for_account(account)} == {stored.profile_id, other.profile_id}
    assert profiles.for_account(new_id("acc")) == []
