"""``deprovision_on_policy_removal``: a PUT that turns ``enabled`` off, or a DELETE of the
connection, removes the users orgconnect created through it per the ``remove_action`` of the
policy that was in force, and only those; the DELETE does it before the tokens are revoked and the
secret deleted. The rules with in-memory ports, the removal against the Zoom simulator."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from orgconnect.domain.conferencing import DirectoryUser, UserStatus
from orgconnect.domain.conferencing_connections import ManagedConnection, remove_connection
from orgconnect.domain.model import OrganizationalUnit
from orgconnect.domain.provisioning_log import EventResult
from orgconnect.domain.provisioning_policy import ProvisioningPolicy, RemoveAction, StoredPolicy
from orgconnect.domain.provisioning_policy_management import PolicyManagement, replace_policy
from orgconnect.domain.secrets import new_id
from orgconnect.workers.provisioning_reconcile import reconcile_connection
from orgconnect.workers.provisioning_removal import BATCH, BUDGET_SECONDS, remove_on_policy_removal
from tests.provisioning.fakes import Rig, account, connection
from tests.provisioning_fakes import MemoryPolicies
from tests.unit.test_domain_conferencing_connections import OU, browser_linked, deps


@dataclass
class Removals:
    calls: list[tuple[str, ProvisioningPolicy]] = field(default_factory=list)

    def __call__(self, connection_id: str, policy: ProvisioningPolicy, stored: StoredPolicy) -> None:
        self.calls.append((connection_id, policy))


def test_only_turning_enabled_off_with_the_setting_triggers_the_removal() -> None:
    ou = OrganizationalUnit(new_id("ou"), new_id("cli"), "Acme", 1)
    policies, removals = MemoryPolicies(), Removals()
    policies.add_organizational_unit(ou)
    deps_ = PolicyManagement(policies, now=1_900_000_000, on_policy_removed=removals)
    cnx = policies.add(ou)
    on = {"enabled": True, "deprovision_on_policy_removal": True, "remove_action": "delete"}
    replace_policy(ou, cnx, {"provisioning": on}, deps_)
    replace_policy(ou, cnx, {"provisioning": {**on, "create_users": True}}, deps_)  # still on
    assert removals.calls == []
    replace_policy(ou, cnx, {"provisioning": {"enabled": False}}, deps_)
    (called,) = removals.calls  # with the policy that was turned off, not the new one
    assert called[0] == cnx and called[1].remove_action is RemoveAction.DELETE
    replace_policy(ou, cnx, {"provisioning": {"enabled": False}}, deps_)  # off already: nothing
    replace_policy(ou, cnx, {"provisioning": {"enabled": True}}, deps_)
    replace_policy(ou, cnx, {"provisioning": {"enabled": False}}, deps_)  # had no setting
    assert len(removals.calls) == 1


def test_a_delete_removes_before_the_tokens_are_revoked_and_the_secret_deleted() -> None:
    d = deps()
    linked = browser_linked(d)
    arn = linked.secret_arn
    seen: list[tuple[str, bool, bool]] = []

    def before(connection: ManagedConnection) -> None:
        revoked = bool(d.revoker.revoked)  # type: ignore[attr-defined]
        seen.append((connection.connection_id, revoked, d.secrets.read(arn) is not None))

    d.before_removal = before
    assert remove_connection(OU, linked.connection_id, d) is True
    assert seen == [(linked.connection_id, False, True)]  # not revoked yet, the secret still there
    assert d.secrets.read(arn) is None
    assert remove_connection(OU, linked.connection_id, d) is False  # a repeat: nothing to remove
    assert len(seen) == 1


@dataclass
class StoredDirectory:
    rig: Rig

    def users(self, connection_id: str) -> list[DirectoryUser]:
        return list(self.rig.directory.users.values())


@pytest.mark.parametrize(
    ("how", "after"),
    [(RemoveAction.DEACTIVATE, "inactive"), (RemoveAction.DISASSOCIATE, None), (RemoveAction.DELETE, None)],
)
def test_the_removal_acts_on_what_orgconnect_created_only(
    zoom: Rig, how: RemoveAction, after: str | None
) -> None:
    zoom.set_policy(create_users=True)
    already = zoom.sim.control_add_user({"email": "already@example.com"})
    listed = DirectoryUser(already["id"], "already@example.com", "already@example.com", UserStatus.ACTIVE)
    zoom.directory.store("cnx", [listed])
    accounts = [account("made@example.com"), account("already@example.com")]
    reconcile_connection(zoom.provisioner, connection(), accounts, [])
    made = zoom.zoom_user("made@example.com")
    # The user accepted Zoom's invitation and a sync listed it active (Zoom deactivates active users).
    accepted = zoom.sim.directory.by_email("made@example.com")
    assert accepted is not None
    accepted.status = "active"
    zoom.directory.store("cnx", [DirectoryUser(made.id, made.email, made.email, UserStatus.ACTIVE)])
    turned_off = ProvisioningPolicy(deprovision_on_policy_removal=True, remove_action=how)
    outcome = remove_on_policy_removal(zoom.provisioner, StoredDirectory(zoom), connection(), turned_off)
    assert [(e.action, e.result, e.provider_user_id, e.account_id) for e in outcome.events] == [
        ("remove", EventResult.OK, made.id, None)
    ]
    user = zoom.zoom_user("made@example.com")
    assert (user.status if user else None) == after
    assert zoom.zoom_user("already@example.com").status == "active"  # not orgconnect's: kept


def test_without_the_setting_nothing_is_removed(zoom: Rig) -> None:
    zoom.set_policy(create_users=True)
    reconcile_connection(zoom.provisioner, connection(), [account("made@example.com")], [])
    outcome = remove_on_policy_removal(
        zoom.provisioner,
        StoredDirectory(zoom),
        connection(),
        ProvisioningPolicy(remove_action=RemoveAction.DELETE),
    )
    assert outcome.actions == [] and zoom.zoom_user("made@example.com") is not None


def test_batches_start_only_within_the_time_budget(zoom: Rig) -> None:
    zoom.set_policy(create_users=True)
    accounts = [account(f"made{n}@example.com") for n in range(BATCH + 2)]
    reconcile_connection(zoom.provisioner, connection(), accounts, [])
    ticks = iter([0.0, 1.0, 1.0 + BUDGET_SECONDS])  # the start, before batch 1, before batch 2
    turned_off = ProvisioningPolicy(deprovision_on_policy_removal=True, remove_action=RemoveAction.DELETE)
    outcome = remove_on_policy_removal(
        zoom.provisioner, StoredDirectory(zoom), connection(), turned_off, clock=lambda: next(ticks)
    )
    assert len(outcome.actions) == BATCH + 2 and len(outcome.events) == BATCH
    left = [a for a in accounts if zoom.zoom_user(a.email) is not None]
    assert len(left) == 2  # the second batch was not started
