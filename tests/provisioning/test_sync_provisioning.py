"""Provisioning at the end of a connection's sync (workers/provisioning_sync.py) against the Zoom
simulator: the sync job (in-memory sync ports, the real Zoom listing) calls it once when its
reconcile is done; a calendar user without a Zoom user gets one, and a redelivered reconcile
(the same, now stale, listing) adopts it instead of making a second; a departed account's user is
removed per remove_action and none is ever created for it; each toggle off does nothing; a dry
run only plans; a credentials failure never fails the sync."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

from devstack.servers import RunningServer
from orgconnect.domain.accounts import Account
from orgconnect.domain.conferencing import DirectoryUser
from orgconnect.domain.conferencing_connections import ManagedConnection
from orgconnect.domain.connection_credentials import CredentialsMissing, LinkedConnection
from orgconnect.domain.matching import ConferencingProfile
from orgconnect.domain.model import ProviderApp
from orgconnect.domain.provider_model import ProviderTokens
from orgconnect.domain.provisioning import ReconciledDirectory
from orgconnect.domain.provisioning_log import EventResult
from orgconnect.domain.provisioning_policy import RemoveAction
from orgconnect.domain.secrets import new_id
from orgconnect.domain.server_to_server import AuthorizationType
from orgconnect.providers.directory_pages import listing_pages
from orgconnect.providers.retry import RetryPolicy
from orgconnect.providers.zoom import ZoomApi
from orgconnect.providers.zoom_conferencing import ZoomConferencing
from orgconnect.workers.connection_sync import ConnectionSyncJob
from orgconnect.workers.connection_sync_driver import run_in_process
from orgconnect.workers.connection_sync_dry_run import ReadOnlyDirectory, ReadOnlyProfiles
from orgconnect.workers.provisioning_sync import SyncProvisioning
from tests.provisioning.fakes import CNX, OU, Rig, account, connection
from tests.values import replace
from tests.wsgi_slot import Slot

OAUTH = replace(connection(), authorization_type=AuthorizationType.OAUTH)


@pytest.fixture(name="zoom")
def zoom_and_url(zoom: Rig, served: tuple[RunningServer, Slot]) -> tuple[Rig, str]:
    """The package's Zoom rig (conftest.py) and its server's base URL."""
    return zoom, served[0].url


@dataclass
class Stored:
    """The stored side the sync reads: no directory yet, the OU's accounts, no profiles."""

    ou_accounts: list[Account]

    def users(self, connection_id: str) -> list[DirectoryUser]:
        return []

    def accounts(self, ou_id: str) -> list[Account]:
        return self.ou_accounts if ou_id == OU else []

    def profiles(self, connection_id: str, account_ids: Iterable[str]) -> dict[str, ConferencingProfile]:
        return {}


@dataclass
class Departed:
    ids: set[str] = field(default_factory=set)

    def record(self, ou_id: str, account_id: str, *, now: int) -> None:
        self.ids.add(account_id)

    def account_ids(self, ou_id: str) -> frozenset[str]:
        return frozenset(self.ids) if ou_id == OU else frozenset()


class Lookup:
    def connection(self, connection_id: str) -> ManagedConnection | None:
        return OAUTH if connection_id == CNX else None


def sync(
    zoom: tuple[Rig, str], accounts: list[Account], hook: SyncProvisioning, tokens: object = None
) -> list[ReconciledDirectory]:
    """One whole sync of the connection, in-process; what it handed to provisioning."""
    the_rig, base_url = zoom
    info = the_rig.sim.dev_info(base_url)
    seen: list[ReconciledDirectory] = []

    def adapter(name: str, token: str, tenant: str | None) -> ZoomConferencing:
        api = ZoomApi(
            ProviderApp(info["client_id"], info["client_secret"]),
            ProviderTokens(access_token=token),
            base_url=base_url,
            retry_policy=RetryPolicy(attempts=2, backoff_initial=0.01, backoff_max=0.02),
        )
        return ZoomConferencing(api)

    def on_reconciled(reconciled: ReconciledDirectory) -> None:
        seen.append(reconciled)
        hook(reconciled)

    stored = Stored(accounts)
    job = ConnectionSyncJob(
        directory=ReadOnlyDirectory(stored),
        profiles=ReadOnlyProfiles(stored),
        connections=Lookup(),
        tokens=tokens or the_rig.provisioner.tokens,  # type: ignore[arg-type]
        adapters=adapter,
        pages=listing_pages,
        new_id=new_id,
        on_reconciled=on_reconciled,
    )
    assert run_in_process(job, CNX).done
    return seen


def writes(the_rig: Rig) -> list[tuple[str, str]]:
    return [
        (r["method"], r["path"])
        for r in the_rig.sim.requests()
        if r["method"] != "GET" and r["path"].startswith("/v2")
    ]


def test_the_reconcile_creates_the_missing_user_once_even_when_redelivered(zoom: tuple[Rig, str]) -> None:
    the_rig = zoom[0]
    the_rig.set_policy(create_users=True)
    the_rig.sim.control_add_user({"email": "already@example.com"})
    accounts = [account("joiner@example.com"), account("already@example.com")]
    hook = SyncProvisioning(the_rig.provisioner, Departed())
    (reconciled,) = sync(zoom, accounts, hook)
    assert reconciled.profiles["acc_already"].profile_name == "already@example.com"
    (outcome,) = hook.outcomes
    assert [(e.action, e.result, e.account_id) for e in outcome.events] == [
        ("create", EventResult.OK, "acc_joiner")
    ]
    made = the_rig.zoom_user("joiner@example.com")
    assert made.status == "pending" and outcome.events[0].provider_user_id == made.id
    # The same reconcile again (a redelivered last chunk): its listing predates the user, so a
    # create is planned; Zoom's 409 adopts the user made the first time, none is made twice.
    hook(reconciled)
    assert [(e.action, e.result, e.provider_user_id) for e in hook.outcomes[1].events] == [
        ("adopt", EventResult.OK, made.id)
    ]
    assert [u["email"] for u in the_rig.sim.control_list_users()].count("joiner@example.com") == 1
    # The next sync lists the user: nothing more to do.
    sync(zoom, accounts, hook)
    assert hook.outcomes[2].actions == []
    assert [(e.action, str(e.result)) for e in the_rig.log.events] == [("create", "ok"), ("adopt", "ok")]


@pytest.mark.parametrize(
    ("how", "after"),
    [(RemoveAction.DEACTIVATE, "inactive"), (RemoveAction.DISASSOCIATE, None), (RemoveAction.DELETE, None)],
)
def test_a_departed_account_is_removed_per_remove_action_and_never_created(
    zoom: tuple[Rig, str], how: RemoveAction, after: str | None
) -> None:
    the_rig = zoom[0]
    the_rig.set_policy(create_users=True, deprovision_users=True, remove_action=how)
    leaver = the_rig.sim.control_add_user({"email": "leaver@example.com"})
    accounts = [account("leaver@example.com"), account("gone@example.com")]
    departed = Departed({"acc_leaver", "acc_gone"})
    hook = SyncProvisioning(the_rig.provisioner, departed)
    sync(zoom, accounts, hook)
    (event,) = hook.outcomes[0].events
    assert (event.action, event.result, event.provider_user_id) == ("remove", EventResult.OK, leaver["id"])
    user = the_rig.zoom_user("leaver@example.com")
    assert (user.status if user else None) == after
    assert the_rig.zoom_user("gone@example.com") is None  # departed: never created


@pytest.mark.parametrize(
    "settings",
    [
        {"enabled": False, "create_users": True, "deprovision_users": True},
        {"create_users": False, "deprovision_users": False},
    ],
)
def test_toggles_off_do_nothing(zoom: tuple[Rig, str], settings: dict[str, Any]) -> None:
    the_rig = zoom[0]
    the_rig.policies.policies[CNX] = replace(the_rig.set_policy(), **settings)
    the_rig.sim.control_add_user({"email": "leaver@example.com"})
    hook = SyncProvisioning(the_rig.provisioner, Departed({"acc_leaver"}))
    sync(zoom, [account("joiner@example.com"), account("leaver@example.com")], hook)
    assert [o.actions for o in hook.outcomes] in ([], [[]])
    assert writes(the_rig) == [] and the_rig.log.events == []


def test_a_dry_run_plans_and_writes_nothing_at_zoom(zoom: tuple[Rig, str]) -> None:
    the_rig = zoom[0]
    the_rig.set_policy(create_users=True)
    hook = SyncProvisioning(the_rig.provisioner, Departed(), dry_run=True)
    sync(zoom, [account("joiner@example.com")], hook)
    assert hook.outcomes[0].summary().splitlines() == [
        "create joiner@example.com",
        "provisioning: 1 to create",
    ]
    assert writes(the_rig) == [] and the_rig.log.events == []
    assert the_rig.zoom_user("joiner@example.com") is None


def test_no_credentials_skips_provisioning_and_the_sync_still_ends(zoom: tuple[Rig, str]) -> None:
    the_rig = zoom[0]
    the_rig.set_policy(create_users=True)

    class Gone:
        def access_token(self, connection: LinkedConnection, *, rejected: str | None = None) -> str:
            raise CredentialsMissing("the secret is gone")

    listing = the_rig.provisioner.tokens
    the_rig.provisioner.tokens = Gone()
    hook = SyncProvisioning(the_rig.provisioner, Departed())
    # The listing has its token; provisioning's fails and is logged, not raised.
    reconciled = sync(zoom, [account("joiner@example.com")], hook, tokens=listing)
    assert len(reconciled) == 1 and hook.outcomes == []
    assert the_rig.zoom_user("joiner@example.com") is None and the_rig.log.events == []


def test_a_capped_plan_leaves_the_rest_to_the_next_sync(zoom: tuple[Rig, str]) -> None:
    the_rig = zoom[0]
    the_rig.set_policy(create_users=True)
    hook = SyncProvisioning(the_rig.provisioner, Departed(), max_actions=1)
    accounts = [account("one@example.com"), account("two@example.com")]
    sync(zoom, accounts, hook)
    sync(zoom, accounts, hook)
    assert [len(o.events) for o in hook.outcomes] == [1, 1]
    assert the_rig.zoom_user("one@example.com") and the_rig.zoom_user("two@example.com")
