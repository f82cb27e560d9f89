"""In-memory ports of the Provisioner (profiles, policies, directory, event log) and a Provisioner
wired to a Zoom simulator with the paid account's Server-to-Server token."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from devstack.simulators.zoom import ZoomSimulator
from orgconnect.domain.accounts import Account, CalendarProfile
from orgconnect.domain.conferencing import DirectoryUser
from orgconnect.domain.conferencing_connections import ManagedConnection
from orgconnect.domain.connection_credentials import LinkedConnection
from orgconnect.domain.matching import ConferencingProfile
from orgconnect.domain.model import CalendarProvider, ConnectionStatus, ProviderApp
from orgconnect.domain.provisioning_log import EventPage, PageCursor, ProvisioningEvent
from orgconnect.domain.provisioning_policy import ProvisioningPolicy, StoredPolicy
from orgconnect.domain.provisioning_policy_management import PolicySubject
from orgconnect.domain.server_to_server import AuthorizationType
from orgconnect.providers.retry import RetryPolicy
from orgconnect.providers.zoom import ZoomApi
from orgconnect.providers.zoom_users import ZoomUsers
from orgconnect.workers.provisioning import Provisioner

OU, CLIENT, CNX = "ou_1", "cli_1", "cnx_" + "1" * 24
CLOCK_START = 1_700_000_000


@dataclass
class MemoryProfiles:
    profiles: dict[tuple[str, str], ConferencingProfile] = field(default_factory=dict)
    linked: list[ManagedConnection] = field(default_factory=list)

    def for_account(self, account_id: str) -> list[ConferencingProfile]:
        return [p for (a, _), p in self.profiles.items() if a == account_id]

    def save(self, profile: ConferencingProfile) -> ConferencingProfile:
        self.profiles[(profile.account_id, profile.connection_id)] = profile
        return profile

    def connections(self, ou_id: str) -> list[ManagedConnection]:
        return [c for c in self.linked if c.ou_id == ou_id]


@dataclass
class MemoryPolicies:
    policies: dict[str, ProvisioningPolicy] = field(default_factory=dict)

    def get(self, connection_id: str) -> PolicySubject | None:
        policy = self.policies.get(connection_id)
        if policy is None:
            return None
        return PolicySubject(
            connection_id, OU, CLIENT, "zoom_enterprise", StoredPolicy(policy, 1, CLOCK_START)
        )


@dataclass
class MemoryDirectory:
    users: dict[str, DirectoryUser] = field(default_factory=dict)

    def store(self, connection_id: str, users: Iterable[DirectoryUser]) -> int:
        found = list(users)
        self.users.update({u.email: u for u in found})
        return len(found)


@dataclass
class MemoryLog:
    events: list[ProvisioningEvent] = field(default_factory=list)

    def record(self, event: ProvisioningEvent) -> None:
        self.events.append(event)

    def page(self, ou_id: str, *, cursor: PageCursor | None, now: int) -> EventPage:
        raise NotImplementedError  # the executor never pages the log

    def created_user_ids(self, ou_id: str, connection_id: str, *, now: int) -> frozenset[str]:
        return frozenset(
            e.provider_user_id
            for e in self.events
            if e.connection_id == connection_id
            and e.action == "create"
            and e.result == "ok"
            and e.provider_user_id
        )


class StaticTokens:
    """The connection's token: the S2S token the test fetched (a new one when one was refused)."""

    def __init__(self, fetch: Callable[[], str]) -> None:
        self.fetch = fetch
        self.token = fetch()

    def access_token(self, connection: LinkedConnection, *, rejected: str | None = None) -> str:
        if rejected is not None and rejected == self.token:
            self.token = self.fetch()
        return self.token


def connection() -> ManagedConnection:
    return ManagedConnection(
        connection_id=CNX,
        ou_id=OU,
        client_id=CLIENT,
        provider_name="zoom_enterprise",
        provider_account_id="acct",
        account_name="Example",
        status=ConnectionStatus.CONNECTED,
        secret_arn="arn:secret",
        authorization_type=AuthorizationType.SERVER_TO_SERVER,
    )


def account(email: str, name: str = "Ada Lovelace") -> Account:
    local = email.split("@")[0].replace(".", "")
    return Account(
        account_id=f"acc_{local}",
        client_id=CLIENT,
        service_account_id="ser_1",
        email=email,
        name=name,
        provider_user_id=f"g-{local}",
        profile=CalendarProfile("pro_cal", CalendarProvider.GOOGLE_WORKSPACE, email),
    )


@dataclass
class Rig:
    """A Provisioner over the in-memory ports and a simulator; ``sleeps`` records retry waits."""

    sim: ZoomSimulator
    provisioner: Provisioner
    profiles: MemoryProfiles
    policies: MemoryPolicies
    directory: MemoryDirectory
    log: MemoryLog
    sleeps: list[float]

    def set_policy(self, **settings: Any) -> ProvisioningPolicy:
        policy = ProvisioningPolicy(enabled=True, **settings)
        self.policies.policies[CNX] = policy
        return policy

    def zoom_user(self, email: str) -> Any:
        return self.sim.directory.by_email(email)


def rig(sim: ZoomSimulator, base_url: str, *, clock: Callable[[], float]) -> Rig:
    info = sim.dev_info(base_url)
    sleeps: list[float] = []

    def api(token: str | None = None) -> ZoomApi:
        from orgconnect.domain.provider_model import ProviderTokens

        return ZoomApi(
            ProviderApp(info["client_id"], info["client_secret"]),
            ProviderTokens(access_token=token) if token else None,
            base_url=base_url,
            retry_policy=RetryPolicy(attempts=4, backoff_initial=0.01, backoff_max=0.02),
            sleep=sleeps.append,
            clock=clock,
        )

    def fetch() -> str:
        return api().account_credentials(info["account_id"]).access_token

    profiles, policies, directory, log = MemoryProfiles(), MemoryPolicies(), MemoryDirectory(), MemoryLog()
    profiles.linked.append(connection())
    provisioner = Provisioner(
        profiles=profiles,
        policies=policies,
        directory=directory,
        tokens=StaticTokens(fetch),
        users=lambda token, retries: ZoomUsers(api(token), io_retries=retries),
        log=log,
        now=lambda: CLOCK_START,
    )
    return Rig(sim, provisioner, profiles, policies, directory, log, sleeps)
