"""Matching rules (domain.matching) and the matcher's provider-call budget (workers.directory_sync)
with in-memory ports: a hit costs no provider call, a miss at most one, one listing per connection."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from orgconnect.domain.accounts import Account, CalendarProfile
from orgconnect.domain.conferencing import DirectoryUser, UserStatus
from orgconnect.domain.conferencing_connections import ManagedConnection
from orgconnect.domain.matching import (
    ConferencingProfile,
    choose_profile,
    match,
    profile_provider_name,
    profile_userinfo,
    with_connection_token,
)
from orgconnect.domain.model import CalendarProvider, ConnectionStatus
from orgconnect.domain.provider_model import AccessTokenRejected
from orgconnect.domain.server_to_server import AuthorizationType
from orgconnect.workers.directory_sync import ConferencingMatcher
from tests.values import replace

ADA = DirectoryUser("zu_1", "Ada@Example.com", "Ada", UserStatus.ACTIVE)


def profile(user: DirectoryUser, profile_id: str = "pro_1") -> ConferencingProfile:
    return ConferencingProfile(
        profile_id, "acc_1", "cnx_1", "zoom", user.provider_user_id, user.email, user.status
    )


def test_the_first_match_is_by_case_insensitive_email() -> None:
    made = match(None, ADA, None, new_profile=profile)
    assert made is not None and made.profile_name == "ada@example.com" and made.connected


def test_no_match_no_profile() -> None:
    assert match(None, None, None, new_profile=profile) is None


def test_a_later_email_change_keeps_the_profile() -> None:
    first = profile(ADA)
    # The directory no longer knows the old address; the profile and its stable id stay.
    assert match(first, None, None, new_profile=profile) == first
    # Another user now holds the address: the profile stays with the first user.
    other = DirectoryUser("zu_2", "ada@example.com", "Impostor", UserStatus.ACTIVE)
    assert match(first, other, None, new_profile=profile) == first
    # The same user, found by id under a new address: the name follows, the id stays.
    moved = DirectoryUser("zu_1", "ada.l@example.com", "Ada", UserStatus.INACTIVE)
    updated = match(first, None, moved, new_profile=profile)
    assert updated is not None and updated.profile_id == "pro_1"
    assert updated.profile_name == "ada.l@example.com" and not updated.connected


def test_pending_users_are_not_connected_and_get_a_relink_url() -> None:
    pending = profile(DirectoryUser("zu_3", "p@example.com", "P", UserStatus.PENDING))
    shown = profile_userinfo(pending)
    assert shown["profile_connected"] is False and shown["profile_relink_url"].startswith("https://")
    for status in (UserStatus.INACTIVE, UserStatus.UNLICENSED):
        shown = profile_userinfo(profile(DirectoryUser("zu_4", "i@example.com", "I", status)))
        assert shown["profile_connected"] is False and "profile_relink_url" not in shown
    assert profile_userinfo(profile(ADA)) == {
        "provider_name": "zoom",
        "profile_id": "pro_1",
        "profile_name": "ada@example.com",
        "profile_connected": True,
    }


def test_profile_names_and_default_choice() -> None:
    assert profile_provider_name("zoom_enterprise") == "zoom"
    assert profile_provider_name("google_meet") == "google_meet_api"
    assert profile_provider_name("nothing") is None
    pending = profile(DirectoryUser("zu_3", "p@example.com", "P", UserStatus.PENDING), "pro_a")
    active = profile(ADA, "pro_b")
    assert choose_profile([pending, active], "default") == active
    assert choose_profile([pending], "default") == pending
    assert choose_profile([], "default") is None
    assert choose_profile([pending, active], "pro_a") == pending
    assert choose_profile([pending, active], "pro_x") is None


def test_default_choice_skips_a_host_whose_connection_does_not_work_now() -> None:
    revoked = profile(ADA, "pro_r")  # on cnx_1, which is asked about and found unusable
    working = replace(profile(ADA, "pro_w"), connection_id="cnx_2")
    asked: list[list[str]] = []

    def usable(ids: list[str]) -> set[str]:
        asked.append(ids)
        return {"cnx_2"}

    assert choose_profile([revoked, working], "default", usable) == working
    assert asked == [["cnx_1", "cnx_2"]]
    # No connection works: the first host still answers (its request then says why it failed).
    assert choose_profile([revoked, working], "default", lambda ids: set()) == revoked
    # One host: nothing to choose between, no read.
    assert choose_profile([revoked], "default", lambda ids: pytest.fail("read")) == revoked


@dataclass
class Tokens:
    issued: list[str | None] = field(default_factory=list)

    def access_token(self, connection: object, *, rejected: str | None = None) -> str:
        self.issued.append(rejected)
        return f"token-{len(self.issued)}"


def test_a_401_is_retried_once_with_the_refused_token_named() -> None:
    tokens = Tokens()
    seen: list[str] = []

    def call(token: str) -> str:
        seen.append(token)
        if len(seen) == 1:
            raise AccessTokenRejected("expired", status=401)
        return "ok"

    assert with_connection_token(tokens, CONNECTION, call) == "ok"
    assert tokens.issued == [None, "token-1"] and seen == ["token-1", "token-2"]


CONNECTION = ManagedConnection(
    "cnx_1",
    "ou_1",
    "cli_1",
    "zoom_enterprise",
    "zacc",
    "Zoom",
    ConnectionStatus.CONNECTED,
    "arn",
    AuthorizationType.OAUTH,
)


class FakeAdapter:
    lists_directory = True

    def __init__(self, users: list[DirectoryUser], calls: Counter[str]) -> None:
        self.users, self.calls = users, calls

    def list_users(self) -> Iterator[DirectoryUser]:
        for start in range(0, len(self.users), 300):
            self.calls["list"] += 1
            yield from self.users[start : start + 300]

    def lookup_user(self, email: str) -> DirectoryUser | None:
        self.calls["lookup"] += 1
        return next((u for u in self.users if u.email == email), None)


@dataclass
class Memory:
    profiles: dict[tuple[str, str], ConferencingProfile] = field(default_factory=dict)
    users: dict[tuple[str, str], DirectoryUser] = field(default_factory=dict)
    sync: dict[str, str] = field(default_factory=dict)

    def for_account(self, account_id: str) -> list[ConferencingProfile]:
        return [p for (a, _), p in self.profiles.items() if a == account_id]

    def save(self, p: ConferencingProfile) -> ConferencingProfile:
        return self.profiles.setdefault((p.account_id, p.connection_id), p)

    def connections(self, ou_id: str) -> list[ManagedConnection]:
        return [CONNECTION] if ou_id == "ou_1" else []

    def get(self, connection_id: str, email: str) -> DirectoryUser | None:
        return self.users.get((connection_id, email))

    def synced(self, connection_id: str) -> bool:
        return self.sync.get(connection_id) == "done"

    def claim_sync(self, connection_id: str) -> bool:
        if connection_id in self.sync:
            return False
        self.sync[connection_id] = "running"
        return True

    def store(self, connection_id: str, users: Iterable[DirectoryUser]) -> int:
        n = 0
        for u in users:
            self.users[(connection_id, u.email)] = u
            n += 1
        return n

    def finish_sync(self, connection_id: str, users: int) -> None:
        self.sync[connection_id] = "done"


def account(n: int, email: str) -> Account:
    profile_ = CalendarProfile(f"pro_c{n}", CalendarProvider.GOOGLE_WORKSPACE, email)
    return Account(f"acc_{n}", "cli_1", "ser_1", email, None, f"g{n}", profile_)


def test_a_batch_of_accounts_lists_the_directory_once_and_a_miss_costs_one_lookup() -> None:
    users = [DirectoryUser(f"zu_{i}", f"u{i}@example.com", f"U{i}", UserStatus.ACTIVE) for i in range(650)]
    users.append(DirectoryUser("zu_p", "pending@example.com", "P", UserStatus.PENDING))
    calls: Counter[str] = Counter()
    memory = Memory()
    adapter: Any = FakeAdapter(users, calls)

    def first_sync(connection: ManagedConnection) -> bool:
        # The sync job run in-process (tests/sync/ run the real one against the Zoom simulator).
        if not memory.claim_sync(connection.connection_id):
            return False
        memory.store(connection.connection_id, adapter.list_users())
        memory.finish_sync(connection.connection_id, 0)
        return True

    matcher = ConferencingMatcher(
        memory, memory, Tokens(), lambda name, token, tenant: adapter, first_sync=first_sync
    )
    for i in range(40):
        (made,) = matcher.match_account(account(i, f"u{i}@example.com"), "ou_1")
        assert made.provider_user_id == f"zu_{i}" and made.connected
    assert calls == Counter({"list": 3})  # 651 users, 300 a page: one listing, then hits only
    assert matcher.match_account(account(900, "nobody@example.com"), "ou_1") == []
    assert calls == Counter({"list": 3, "lookup": 1})
    (pending,) = matcher.match_account(account(901, "pending@example.com"), "ou_1")
    assert not pending.connected
    # Redelivery: the same account keeps its one profile.
    again = matcher.match_account(account(1, "u1@example.com"), "ou_1")
    assert again == memory.for_account("acc_1") and len(again) == 1
    assert matcher.match_account(account(1, "u1@example.com"), None) == []
