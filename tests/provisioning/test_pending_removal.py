"""A policy-off removal the request could not finish (docs/provisioning.md "Policy removal")
against the Zoom simulator: the request's removal says how many users it left (its limit reached,
or Zoom failing); each sync of the connection then continues it with the policy turned off,
carries out at most its bound, and clears it once nothing orgconnect created is left; a dry run
only lists it; a policy enabled again is provisioned as usual, the pending removal not continued."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from devstack.servers import RunningServer
from orgconnect.domain.model import OrganizationalUnit
from orgconnect.domain.provisioning_log import EventResult
from orgconnect.domain.provisioning_policy import (
    PendingRemoval,
    ProvisioningPolicy,
    RemoveAction,
    StoredPolicy,
)
from orgconnect.domain.provisioning_policy_management import PolicyManagement, PolicySubject, replace_policy
from orgconnect.domain.secrets import new_id
from orgconnect.web.provisioning_policy import provisioning_body
from orgconnect.workers.provisioning_reconcile import reconcile_connection
from orgconnect.workers.provisioning_removal import remove_on_policy_removal
from orgconnect.workers.provisioning_sync import SyncProvisioning
from tests.provisioning.fakes import CLIENT, CLOCK_START, CNX, OU, Rig, account, connection
from tests.provisioning.test_policy_removal import StoredDirectory
from tests.provisioning.test_sync_provisioning import Departed, sync, writes
from tests.provisioning_fakes import MemoryPolicies
from tests.values import replace
from tests.wsgi_slot import Slot

TURNED_OFF = ProvisioningPolicy(
    enabled=True, create_users=True, deprovision_on_policy_removal=True, remove_action=RemoveAction.DELETE
)
TURNED_OFF_VIA_API = ProvisioningPolicy(
    enabled=True, deprovision_on_policy_removal=True, remove_action=RemoveAction.DELETE
)
MADE = [account(f"made{n}@example.com") for n in range(5)]


@pytest.fixture(name="zoom")
def zoom_and_url(zoom: Rig, served: tuple[RunningServer, Slot]) -> tuple[Rig, str]:
    """The package's Zoom rig (conftest.py) and its server's base URL."""
    return zoom, served[0].url


@dataclass
class PendingPolicies:
    """The connection's policy as stored after the PUT turned it off (version 2), with a pending
    removal, cleared like the store does (only at its version and since)."""

    stored: ProvisioningPolicy
    pending: PendingRemoval | None
    version: int = 2
    clears: list[tuple[int, int]] = field(default_factory=list)

    def get(self, connection_id: str) -> PolicySubject | None:
        stored = StoredPolicy(self.stored, self.version, CLOCK_START, pending_removal=self.pending)
        return PolicySubject(connection_id, OU, CLIENT, "zoom_enterprise", stored)

    def clear_pending_removal(self, connection_id: str, *, version: int, since: int) -> bool:
        self.clears.append((version, since))
        if self.pending is None or (version, since) != (self.version, self.pending.since):
            return False
        self.pending = None
        return True


def created_then_turned_off(the_rig: Rig) -> PendingPolicies:
    """Five users made by provisioning; the policy then turned off with a pending removal."""
    the_rig.policies.policies[CNX] = TURNED_OFF
    reconcile_connection(the_rig.provisioner, connection(), MADE, [])
    assert all(the_rig.zoom_user(a.email) is not None for a in MADE)
    pending = PendingPolicies(ProvisioningPolicy(), PendingRemoval(TURNED_OFF, CLOCK_START + 1))
    the_rig.provisioner = replace(the_rig.provisioner, policies=pending)
    return pending


def left(the_rig: Rig) -> list[str]:
    return [a.email for a in MADE if the_rig.zoom_user(a.email) is not None]


def test_the_request_leaves_what_is_over_its_limit_and_syncs_finish_it(zoom: tuple[Rig, str]) -> None:
    the_rig = zoom[0]
    policies = created_then_turned_off(the_rig)
    outcome = remove_on_policy_removal(
        the_rig.provisioner, StoredDirectory(the_rig), connection(), TURNED_OFF, max_removals=2
    )
    assert (len(outcome.events), outcome.left, outcome.unfinished) == (2, 3, True)
    assert len(left(the_rig)) == 3
    # The next sync: bounded (2 a sync here), the rest by the one after; then nothing is left.
    hook = SyncProvisioning(the_rig.provisioner, Departed(), max_actions=2, pending_removals=policies)
    sync(zoom, [], hook)
    assert len(left(the_rig)) == 1 and policies.pending is not None and policies.clears == []
    sync(zoom, [], hook)  # the whole plan (under the bound) done: cleared at the policy's version
    assert left(the_rig) == [] and policies.pending is None and policies.clears == [(2, CLOCK_START + 1)]
    removals = [e for e in the_rig.log.events if e.action == "remove"]
    assert [str(e.result) for e in removals] == ["ok"] * 5
    sync(zoom, [], hook)  # no pending removal: nothing
    assert [len(o.actions) for o in hook.outcomes] == [2, 1]


def test_a_removal_that_fails_again_stays_pending_until_one_succeeds(zoom: tuple[Rig, str]) -> None:
    the_rig = zoom[0]
    policies = created_then_turned_off(the_rig)
    the_rig.sim.add_fault("api", "503", count=100, path_prefix="/v2/users/")
    hook = SyncProvisioning(the_rig.provisioner, Departed(), pending_removals=policies)
    sync(zoom, [], hook)
    assert len(left(the_rig)) == len(MADE) and policies.pending is not None and policies.clears == []
    the_rig.sim.clear_faults()
    sync(zoom, [], hook)
    assert left(the_rig) == [] and policies.pending is None


def test_zoom_failing_in_the_request_leaves_every_user_to_the_next_sync(zoom: tuple[Rig, str]) -> None:
    the_rig = zoom[0]
    policies = created_then_turned_off(the_rig)
    the_rig.sim.add_fault("api", "503", count=100, path_prefix="/v2/users")
    outcome = remove_on_policy_removal(
        the_rig.provisioner, StoredDirectory(the_rig), connection(), TURNED_OFF
    )
    assert outcome.unfinished and outcome.left == len(MADE)
    assert {e.result for e in outcome.events} == {EventResult.FAILED}
    assert len(left(the_rig)) == len(MADE)
    the_rig.sim.clear_faults()  # Zoom is back
    hook = SyncProvisioning(the_rig.provisioner, Departed(), pending_removals=policies)
    sync(zoom, [], hook)
    assert left(the_rig) == [] and policies.pending is None


def test_a_dry_run_lists_the_pending_removal_and_writes_nothing(zoom: tuple[Rig, str]) -> None:
    the_rig = zoom[0]
    policies = created_then_turned_off(the_rig)
    before = writes(the_rig)
    logged = len(the_rig.log.events)
    hook = SyncProvisioning(the_rig.provisioner, Departed(), dry_run=True, pending_removals=policies)
    sync(zoom, [], hook)
    assert hook.outcomes[0].summary().splitlines()[-1] == "provisioning: 5 to remove"
    assert writes(the_rig) == before and len(the_rig.log.events) == logged
    assert len(left(the_rig)) == len(MADE) and policies.pending is not None and policies.clears == []


def test_a_policy_enabled_again_is_provisioned_the_pending_removal_not_continued(
    zoom: tuple[Rig, str],
) -> None:
    the_rig = zoom[0]
    policies = created_then_turned_off(the_rig)
    # A stale read of an enabled policy still carrying a pending removal: the policy counts.
    policies.stored = TURNED_OFF
    hook = SyncProvisioning(the_rig.provisioner, Departed(), pending_removals=policies)
    sync(zoom, MADE, hook)
    assert len(left(the_rig)) == len(MADE) and policies.clears == []


def test_the_put_answers_the_pending_removal_the_callback_recorded() -> None:
    ou = OrganizationalUnit(new_id("ou"), new_id("cli"), "Acme", 1)
    policies = MemoryPolicies()
    policies.add_organizational_unit(ou)
    seen: list[int] = []

    def removal(
        connection_id: str, before: ProvisioningPolicy, stored: StoredPolicy
    ) -> PendingRemoval | None:
        seen.append(stored.version)  # the version the PUT wrote: the record's condition
        return PendingRemoval(before, 1_900_000_001) if stored.version == 2 else None

    deps = PolicyManagement(policies, now=1_900_000_000, on_policy_removed=removal)
    cnx = policies.add(ou)
    on = {"enabled": True, "deprovision_on_policy_removal": True, "remove_action": "delete"}
    assert replace_policy(ou, cnx, {"provisioning": on}, deps).pending_removal is None
    answer = replace_policy(ou, cnx, {"provisioning": {"enabled": False}}, deps)
    assert answer.pending_removal == PendingRemoval(TURNED_OFF_VIA_API, 1_900_000_001) and seen == [2]
    body = provisioning_body(answer)
    assert body["pending_removal"] == {"since": "2030-03-17T17:46:41Z", "remove_action": "delete"}
    # What GET answered can be sent back: pending_removal is read-only, ignored.
    again = replace_policy(ou, cnx, {"provisioning": body}, deps)
    assert again.pending_removal is None and provisioning_body(again)["pending_removal"] is None
