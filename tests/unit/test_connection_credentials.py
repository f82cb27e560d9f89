"""The live-credentials decision logic (domain/connection_credentials.py) with in-memory ports and
a manual clock: when it refreshes, what it saves, how the lease is taken, waited on, taken over,
and what each provider failure leaves behind. The fake sleep moves the clock: nothing waits."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest

from orgconnect.domain.connection_credentials import (
    ConnectionCredentials,
    ConnectionNeedsReauthorization,
    CredentialPolicy,
    CredentialsBusy,
    CredentialsMissing,
    Lease,
    LeaseAttempt,
    StaleCredentials,
    StoredCredentials,
)
from orgconnect.domain.provider_model import (
    ProviderRefused,
    ProviderTokens,
    ProviderUnavailable,
    RefreshTokenRejected,
)

NOW = 1_900_000_000
ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:orgconnect/test/connections/cnx_1"


@dataclass(frozen=True)
class Target:
    connection_id: str = "cnx_1"
    provider_name: str = "zoom_enterprise"
    provider_account_id: str = "acc-1"
    secret_arn: str = ARN


CONNECTION = Target()


@dataclass
class Clock:
    now: float = NOW
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Vault:
    """Versions of one secret; ``replace_current`` is a compare-and-swap like AWSCURRENT's move."""

    versions: dict[str, dict[str, Any]] = field(default_factory=dict)
    current: str | None = None
    ids: itertools.count[int] = field(default_factory=itertools.count)
    before_swap: list[Any] = field(default_factory=list)  # callbacks run inside replace_current

    def put(self, data: dict[str, Any]) -> str:
        version = f"v{next(self.ids)}"
        self.versions[version] = data
        self.current = version
        return version

    def read_current(self, secret_arn: str) -> StoredCredentials | None:
        if self.current is None:
            return None
        return StoredCredentials(self.current, dict(self.versions[self.current]))

    def replace_current(self, secret_arn: str, base_version: str, data: dict[str, Any]) -> str:
        for callback in self.before_swap:
            callback()
        if self.current != base_version:
            raise StaleCredentials(base_version)
        return self.put(data)


@dataclass
class Leases:
    leases: dict[str, Lease] = field(default_factory=dict)
    acquired: int = 0

    def acquire(self, lease: Lease, *, now: int) -> LeaseAttempt:
        held = self.leases.get(lease.connection_id)
        if held is not None and held.expires_at > now:
            return LeaseAttempt(acquired=False, current=held)
        self.leases[lease.connection_id] = lease
        self.acquired += 1
        return LeaseAttempt(acquired=True, taken_over=held)

    def release(self, connection_id: str, holder: str) -> None:
        if connection_id in self.leases and self.leases[connection_id].holder == holder:
            del self.leases[connection_id]

    def hold_failure(self, connection_id: str, holder: str, *, failure: str, until: int) -> None:
        held = self.leases.get(connection_id)
        if held is not None and held.holder == holder:
            self.leases[connection_id] = Lease(connection_id, holder, until, held.base_version, failure)


@dataclass
class Statuses:
    marked: list[str] = field(default_factory=list)

    def mark_needs_reauthorization(self, connection_id: str, *, now: int) -> None:
        self.marked.append(connection_id)


@dataclass
class Refresher:
    """Zoom-like: each refresh rotates; ``fail`` raises instead (once per entry)."""

    clock: Clock
    fail: list[Exception] = field(default_factory=list)
    sent: list[str | None] = field(default_factory=list)
    serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def refresh(self, connection: Any, tokens: ProviderTokens) -> ProviderTokens:
        self.sent.append(tokens.refresh_token)
        if self.fail:
            raise self.fail.pop(0)
        n = next(self.serial)
        return ProviderTokens(f"access-{n}", f"refresh-{n}", int(self.clock()) + 3600, "user:read:admin")


@dataclass
class World:
    clock: Clock
    vault: Vault
    leases: Leases
    statuses: Statuses
    refresher: Refresher
    service: ConnectionCredentials


def tokens(access: str, refresh: str, expires_in: int) -> dict[str, Any]:
    return ProviderTokens(access, refresh, NOW + expires_in, "user:read:admin").to_dict()


@pytest.fixture
def world() -> World:
    clock = Clock()
    vault, leases, statuses, refresher = Vault(), Leases(), Statuses(), Refresher(clock)
    service = ConnectionCredentials(
        vault=vault,
        leases=leases,
        statuses=statuses,
        refresher=refresher,
        clock=clock,
        sleep=clock.sleep,
        policy=CredentialPolicy(safety_margin=300, lease_seconds=30, wait_seconds=10, poll_seconds=0.5),
    )
    return World(clock, vault, leases, statuses, refresher, service)


def test_a_token_valid_beyond_the_margin_is_returned_without_a_lease(world: World) -> None:
    world.vault.put(tokens("access-0", "refresh-0", 301))
    assert world.service.access_token(CONNECTION) == "access-0"
    assert world.refresher.sent == [] and world.leases.acquired == 0


def test_a_token_inside_the_margin_is_refreshed_and_the_rotated_pair_saved(world: World) -> None:
    first = world.vault.put({**tokens("access-0", "refresh-0", 300), "extra": "kept"})
    assert world.service.access_token(CONNECTION) == "access-1"
    assert world.refresher.sent == ["refresh-0"]
    saved = world.vault.read_current(ARN)
    assert saved is not None and saved.version != first
    assert saved.data["refresh_token"] == "refresh-1" and saved.data["extra"] == "kept"
    assert world.leases.leases == {}  # released
    assert world.service.access_token(CONNECTION) == "access-1"  # and then reused
    assert world.refresher.sent == ["refresh-0"]


def test_a_rejected_token_is_refreshed_even_before_it_expires(world: World) -> None:
    world.vault.put(tokens("access-0", "refresh-0", 3000))
    assert world.service.access_token(CONNECTION, rejected="access-0") == "access-1"
    # A token other than the rejected one is simply returned.
    assert world.service.access_token(CONNECTION, rejected="access-0") == "access-1"
    assert world.refresher.sent == ["refresh-0"]


def test_the_holder_reads_again_and_uses_what_the_previous_holder_saved(world: World) -> None:
    world.vault.put(tokens("access-0", "refresh-0", 10))

    class Overtaken(Leases):
        def acquire(self, lease: Lease, *, now: int) -> LeaseAttempt:
            # Between our read and our lease, another caller refreshed and released.
            world.vault.put(tokens("access-9", "refresh-9", 3600))
            return super().acquire(lease, now=now)

    world.service._leases = Overtaken()
    assert world.service.access_token(CONNECTION) == "access-9"
    assert world.refresher.sent == []


def test_invalid_grant_marks_the_connection_and_fails_its_waiters_without_a_second_refresh(
    world: World,
) -> None:
    version = world.vault.put(tokens("access-0", "refresh-0", 10))
    world.refresher.fail.append(RefreshTokenRejected("Zoom refresh: 400 (invalid_grant)"))
    with pytest.raises(ConnectionNeedsReauthorization) as raised:
        world.service.access_token(CONNECTION)
    assert raised.value.rotation_lost is False
    assert world.statuses.marked == ["cnx_1"]
    assert world.vault.current == version  # the credentials are left as they were
    with pytest.raises(ConnectionNeedsReauthorization):
        world.service.access_token(CONNECTION)  # the lease tells the next caller at once
    assert world.refresher.sent == ["refresh-0"]


def test_invalid_grant_after_someone_saved_newer_tokens_is_not_a_reauthorization(world: World) -> None:
    world.vault.put(tokens("access-0", "refresh-0", 10))

    class RelinkedMeanwhile(Refresher):
        def refresh(self, connection: Any, sent: ProviderTokens) -> ProviderTokens:
            world.vault.put(tokens("access-relinked", "refresh-relinked", 3600))
            raise RefreshTokenRejected("Zoom refresh: 400 (invalid_grant)")

    world.service._refresher = RelinkedMeanwhile(world.clock)
    assert world.service.access_token(CONNECTION) == "access-relinked"
    assert world.statuses.marked == []


@pytest.mark.parametrize(
    "failure",
    [
        ProviderUnavailable("Zoom POST /oauth/token answered 503", status=503),
        ProviderUnavailable("Zoom POST /oauth/token: ReadTimeout"),
        ProviderRefused("Zoom refresh: 401 (invalid_client)", error="invalid_client", status=401),
    ],
    ids=["5xx", "timeout", "app-refused"],
)
def test_an_unreachable_provider_keeps_the_credentials(world: World, failure: Exception) -> None:
    version = world.vault.put(tokens("access-0", "refresh-0", 10))
    world.refresher.fail.append(failure)
    with pytest.raises(ProviderUnavailable):
        world.service.access_token(CONNECTION)
    with pytest.raises(ProviderUnavailable) as waiter:
        world.service.access_token(CONNECTION)  # held failure: no second attempt yet
    assert waiter.value.retry_after is not None and waiter.value.retry_after >= 1
    assert world.vault.current == version and world.statuses.marked == []
    assert world.refresher.sent == ["refresh-0"]
    world.clock.now += 6  # the failure hold (5 s) is over: the next caller tries again
    assert world.service.access_token(CONNECTION) == "access-1"
    assert world.refresher.sent == ["refresh-0", "refresh-0"]


def test_a_waiter_polls_until_the_holder_saves(world: World) -> None:
    world.vault.put(tokens("access-0", "refresh-0", 10))
    world.leases.leases["cnx_1"] = Lease("cnx_1", "other", NOW + 30, "v0")

    def holder_finishes(seconds: float) -> None:
        world.clock.sleep(seconds)
        if len(world.clock.sleeps) == 3:
            world.vault.put(tokens("access-7", "refresh-7", 3600))
            world.leases.release("cnx_1", "other")

    world.service._sleep = holder_finishes
    assert world.service.access_token(CONNECTION) == "access-7"
    assert world.refresher.sent == [] and len(world.clock.sleeps) == 3


def test_a_waiter_gives_up_after_its_bound(world: World) -> None:
    world.vault.put(tokens("access-0", "refresh-0", 10))
    world.leases.leases["cnx_1"] = Lease("cnx_1", "other", NOW + 3600, "v0")
    with pytest.raises(CredentialsBusy):
        world.service.access_token(CONNECTION)
    assert world.refresher.sent == []
    assert sum(world.clock.sleeps) <= world.service.policy.wait_seconds + world.service.policy.poll_seconds


def test_a_crashed_holders_lease_expires_and_is_taken_over(world: World) -> None:
    version = world.vault.put(tokens("access-0", "refresh-0", 10))
    world.leases.leases["cnx_1"] = Lease("cnx_1", "crashed", NOW + 20, version)
    world.service.policy = CredentialPolicy(wait_seconds=60, poll_seconds=5)
    assert world.service.access_token(CONNECTION) == "access-1"
    assert world.clock.now >= NOW + 20  # it waited for the expiry, then took the lease over
    assert world.refresher.sent == ["refresh-0"]


def test_invalid_grant_after_a_takeover_of_the_same_version_names_the_lost_rotation(world: World) -> None:
    version = world.vault.put(tokens("access-0", "refresh-0", 10))
    world.leases.leases["cnx_1"] = Lease("cnx_1", "crashed", NOW - 1, version)
    world.refresher.fail.append(RefreshTokenRejected("Zoom refresh: 400 (invalid_grant)"))
    with pytest.raises(ConnectionNeedsReauthorization) as raised:
        world.service.access_token(CONNECTION)
    assert raised.value.rotation_lost is True


def test_a_save_that_lost_the_compare_and_swap_yields_to_the_newer_tokens(world: World) -> None:
    world.vault.put(tokens("access-0", "refresh-0", 10))
    world.vault.before_swap.append(lambda: world.vault.put(tokens("access-new", "refresh-new", 3600)))
    assert world.service.access_token(CONNECTION) == "access-new"
    current = world.vault.read_current(ARN)
    assert current is not None and current.data["refresh_token"] == "refresh-new"


def test_a_missing_secret_is_credentials_missing(world: World) -> None:
    with pytest.raises(CredentialsMissing):
        world.service.access_token(CONNECTION)


def test_a_token_without_expiry_is_used_until_rejected(world: World) -> None:
    world.vault.put({"access_token": "access-0", "refresh_token": "refresh-0", "expires_at": None})
    assert world.service.access_token(CONNECTION) == "access-0"
    assert world.service.access_token(CONNECTION, rejected="access-0") == "access-1"
