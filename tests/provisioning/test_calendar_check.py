"""Who left the calendar directory or is suspended there (workers/provisioning_calendar.py): gone
only when neither the directory id nor the address is listed, a renamed user is not gone, a
suspended one is; a listing that fails, is empty or would make most accounts gone is not trusted.
Then, at a sync's end against the Zoom simulator, a suspended account's Zoom user is deactivated
with disable_users and a gone one removed with deprovision_users."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from orgconnect.domain.accounts import Account, CalendarTenant
from orgconnect.domain.conferencing import DirectoryUser, UserStatus
from orgconnect.domain.provider_model import ProviderUnavailable
from orgconnect.domain.provisioning import ReconciledDirectory
from orgconnect.domain.provisioning_log import EventResult
from orgconnect.domain.provisioning_policy import RemoveAction
from orgconnect.providers.directory import TenantUnusable, TenantUser
from orgconnect.workers.provisioning_calendar import CalendarDirectoryCheck
from orgconnect.workers.provisioning_sync import SyncProvisioning
from tests.provisioning.fakes import Rig, account, connection
from tests.provisioning.test_sync_provisioning import Departed
from tests.unit.test_delegated_access_units import tenant
from tests.values import replace


@dataclass
class Listing:
    users: list[TenantUser] | Exception

    def list_users(self, tenant: CalendarTenant) -> list[TenantUser]:
        if isinstance(self.users, Exception):
            raise self.users
        return self.users


class Tenants:
    def get(self, service_account_id: str) -> CalendarTenant | None:
        return tenant(service_account_id, "example.com") if service_account_id == "ser_1" else None


def listed(a: Account, *, active: bool = True, email: str | None = None) -> TenantUser:
    return TenantUser(a.provider_user_id, email or a.email, active)


def test_gone_renamed_and_suspended() -> None:
    kept, renamed, suspended, gone = (account(f"{n}@example.com") for n in ("kept", "renamed", "off", "gone"))
    by_address = replace(account("moved@example.com"), provider_user_id="g-old-id")
    users = [
        listed(kept),
        listed(renamed, email="new.name@example.com"),  # the id keeps it
        listed(suspended, active=False),
        TenantUser("g-new-id", "moved@example.com", True),  # the address keeps it
    ]
    check = CalendarDirectoryCheck(Tenants(), Listing(users))
    standing = check.standing([kept, renamed, suspended, gone, by_address])
    assert standing.gone == {gone.account_id} and standing.suspended == {suspended.account_id}


@pytest.mark.parametrize(
    "answer",
    [[], TenantUnusable("consent again"), ProviderUnavailable("Google answered 503", status=503)],
)
def test_a_listing_that_cannot_be_trusted_makes_nobody_gone(answer: Any) -> None:
    accounts = [account("a@example.com"), account("b@example.com")]
    assert CalendarDirectoryCheck(Tenants(), Listing(answer)).standing(accounts).gone == frozenset()


def test_most_accounts_gone_at_once_is_not_believed() -> None:
    accounts = [account(f"u{n}@example.com") for n in range(4)]
    check = CalendarDirectoryCheck(Tenants(), Listing([listed(accounts[0])]))
    assert check.standing(accounts).gone == frozenset()  # 3 of 4 gone: a broken listing, rather
    check = CalendarDirectoryCheck(Tenants(), Listing([listed(a) for a in accounts[:3]]))
    assert check.standing(accounts).gone == {accounts[3].account_id}


def test_at_the_sync_a_suspended_user_is_deactivated_and_a_gone_one_removed(zoom: Rig) -> None:
    zoom.set_policy(disable_users=True, deprovision_users=True, remove_action=RemoveAction.DELETE)
    people = [account(f"{n}@example.com") for n in ("kept", "off", "gone")]
    made = {a.email: zoom.sim.control_add_user({"email": a.email}) for a in people}
    listing = Listing([listed(people[0]), listed(people[1], active=False)])
    hook = SyncProvisioning(zoom.provisioner, Departed(), calendar=CalendarDirectoryCheck(Tenants(), listing))
    zoom_users = [DirectoryUser(u["id"], e, e, UserStatus.ACTIVE) for e, u in made.items()]
    hook(ReconciledDirectory(connection(), people, zoom_users, {}))
    assert [(e.action, e.result, e.account_id) for e in hook.outcomes[0].events] == [
        ("disable", EventResult.OK, "acc_off"),
        ("remove", EventResult.OK, "acc_gone"),
    ]
    assert zoom.zoom_user("kept@example.com").status == "active"
    assert zoom.zoom_user("off@example.com").status == "inactive"
    assert zoom.zoom_user("gone@example.com") is None
