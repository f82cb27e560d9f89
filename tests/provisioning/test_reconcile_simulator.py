"""reconcile_connection against the Zoom simulator: a dry run lists what would be created, disabled
and removed and changes nothing at Zoom; the same call without dry_run does it and logs it; a
policy turned off removes, when asked, only the users orgconnect created; a suspended account is
deactivated and logged out only with disable_users."""

from __future__ import annotations

from orgconnect.domain.conferencing import DirectoryUser, UserStatus
from orgconnect.domain.provisioning import CalendarUser, ZoomUser, plan
from orgconnect.domain.provisioning_log import EventResult
from orgconnect.domain.provisioning_policy import ProvisioningPolicy, RemoveAction
from orgconnect.workers.provisioning_reconcile import reconcile_connection
from tests.provisioning.fakes import CNX, Rig, account, connection


def listed(zoom: Rig) -> list[DirectoryUser]:
    return [
        DirectoryUser(u["id"], u["email"], u["email"], UserStatus(u["status"]))
        for u in zoom.sim.control_list_users()
    ]


def test_a_dry_run_lists_and_the_run_does(zoom: Rig) -> None:
    zoom.set_policy(create_users=True, deprovision_users=True, remove_action=RemoveAction.DISASSOCIATE)
    leaver = zoom.sim.control_add_user({"email": "leaver@example.com"})
    accounts = [account("joiner@example.com"), account("leaver@example.com")]
    departed = frozenset({"acc_leaver"})
    dry = reconcile_connection(
        zoom.provisioner, connection(), accounts, listed(zoom), departed=departed, dry_run=True
    )
    assert dry.summary().splitlines() == [
        "create joiner@example.com",
        f"remove leaver@example.com [{leaver['id']}] (disassociate)",
        "provisioning: 1 to create, 1 to remove",
    ]
    assert dry.events == [] and zoom.zoom_user("joiner@example.com") is None
    assert [r for r in zoom.sim.requests() if r["method"] != "GET" and r["path"].startswith("/v2")] == []

    done = reconcile_connection(zoom.provisioner, connection(), accounts, listed(zoom), departed=departed)
    assert [(e.action, e.result) for e in done.events] == [
        ("create", EventResult.OK),
        ("remove", EventResult.OK),
    ]
    assert zoom.zoom_user("joiner@example.com").status == "pending"
    assert zoom.zoom_user("leaver@example.com") is None
    again = reconcile_connection(zoom.provisioner, connection(), accounts, listed(zoom), departed=departed)
    assert again.actions == []  # the joiner's user is matched by email now; the leaver is gone


def test_policy_removal_removes_only_what_orgconnect_created(zoom: Rig) -> None:
    zoom.set_policy(create_users=True)
    zoom.sim.control_add_user({"email": "already@example.com"})
    accounts = [account("made@example.com"), account("already@example.com")]
    reconcile_connection(zoom.provisioner, connection(), accounts, listed(zoom))
    made = zoom.zoom_user("made@example.com").id
    off = ProvisioningPolicy(
        enabled=False, deprovision_on_policy_removal=True, remove_action=RemoveAction.DELETE
    )
    zoom.policies.policies[CNX] = off
    outcome = reconcile_connection(
        zoom.provisioner, connection(), accounts, listed(zoom), policy_removed=True
    )
    assert [(a.provider_user_id, a.remove_action) for a in outcome.actions] == [(made, RemoveAction.DELETE)]
    assert zoom.zoom_user("made@example.com") is None and zoom.zoom_user("already@example.com") is not None
    zoom.policies.policies[CNX] = ProvisioningPolicy(enabled=False)
    assert (
        reconcile_connection(
            zoom.provisioner, connection(), accounts, listed(zoom), policy_removed=True
        ).actions
        == []
    )


def test_a_suspended_account_is_deactivated_and_logged_out_only_with_disable_users(zoom: Rig) -> None:
    user = zoom.sim.control_add_user({"email": "suspended@example.com"})
    suspended = CalendarUser("acc_s", "suspended@example.com", {"active": False})
    zoom_users = [ZoomUser(user["id"], "suspended@example.com", UserStatus.ACTIVE)]
    off = zoom.set_policy(disable_users=False)
    assert plan(off, [suspended], zoom_users) == []
    on = zoom.set_policy(disable_users=True)
    (event,) = zoom.provisioner.apply(connection(), on, plan(on, [suspended], zoom_users))
    assert (event.action, event.result, event.provider_user_id) == ("disable", EventResult.OK, user["id"])
    assert zoom.zoom_user("suspended@example.com").status == "inactive"
    writes = [
        (r["method"], r["path"])
        for r in zoom.sim.requests()
        if r["method"] != "GET" and r["path"].startswith("/v2")
    ]
    assert writes == [("PUT", f"/v2/users/{user['id']}/status"), ("DELETE", f"/v2/users/{user['id']}/token")]
