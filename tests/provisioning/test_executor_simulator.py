"""The Provisioner against the Zoom simulator (127.0.0.1, a free port) with the paid account's
Server-to-Server token: create per create_action and user_type, the pending profile, each toggle
off, each remove action with and without logout, the pending and inactive rules, 409 / 1005
adoption, the email-change limit (never retried), IO retries bounded by io_retries, 429 with
Retry-After honoured; every action in the provisioning log."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from devstack.servers import RunningServer
from orgconnect.domain.conferencing import UserStatus
from orgconnect.domain.connection_credentials import CredentialsMissing, LinkedConnection
from orgconnect.domain.matching import ConferencingProfile
from orgconnect.domain.provisioning import ActionKind, ProvisioningAction
from orgconnect.domain.provisioning_log import EventResult
from orgconnect.domain.provisioning_policy import (
    AttributeSource,
    CreateAction,
    DirectoryAttribute,
    ProvisioningPolicy,
    RemoveAction,
    ZoomUserType,
)
from orgconnect.domain.server_to_server import AuthorizationType, ServerToServerCredentials
from orgconnect.providers.connection_tokens import ConnectionAccessTokens
from orgconnect.providers.zoom import ZoomApi
from orgconnect.workers.provisioning import EMAIL_LIMIT, NOT_MANAGED
from tests.provisioning.fakes import CLOCK_START, CNX, OU, Rig, account, connection
from tests.values import replace
from tests.wsgi_slot import Slot


def calls(zoom: Rig, method: str, suffix: str = "") -> list[dict[str, Any]]:
    return [
        r
        for r in zoom.sim.requests()
        if r.get("method") == method
        and str(r.get("path", "")).startswith("/v2/users")
        and str(r["path"]).endswith(suffix)
    ]


def results(zoom: Rig) -> list[tuple[str, str, str | None]]:
    return [(e.action, str(e.result), e.error) for e in zoom.log.events]


NEW = "new.person@example.com"


def test_create_makes_a_pending_user_and_a_pending_profile(zoom: Rig) -> None:
    zoom.set_policy(create_users=True, user_type=ZoomUserType.LICENSED)
    (event,) = zoom.provisioner.provision_account(account(NEW), OU)
    created = zoom.zoom_user(NEW)
    assert created is not None and created.status == "pending" and created.type == 2
    assert (created.first_name, created.last_name) == ("Ada", "Lovelace")
    assert (event.action, event.result, event.provider_user_id) == ("create", EventResult.OK, created.id)
    assert event.ou_id == OU and event.connection_id == CNX and event.expires_at > CLOCK_START
    (profile,) = zoom.profiles.for_account("acc_newperson")
    assert (profile.provider_user_id, profile.status, profile.connected) == (
        created.id,
        UserStatus.PENDING,
        False,
    )
    assert zoom.directory.users[NEW].status is UserStatus.PENDING
    # Redelivered: the profile is there, the user pending: nothing is created twice.
    assert zoom.provisioner.provision_account(account(NEW), OU) == []
    assert len(calls(zoom, "POST")) == 1


def test_the_profile_is_connected_once_the_user_activates(zoom: Rig) -> None:
    zoom.set_policy(create_users=True)
    zoom.provisioner.provision_account(account(NEW), OU)
    zoom.sim.control_update_user(NEW, {"status": "active"})
    zoom.provisioner.provision_account(account(NEW), OU)
    (profile,) = zoom.profiles.for_account("acc_newperson")
    assert profile.connected and zoom.directory.users[NEW].status is UserStatus.ACTIVE


def test_other_create_actions_make_active_users(zoom: Rig) -> None:
    zoom.set_policy(create_users=True, create_action=CreateAction.AUTO_CREATE)
    zoom.provisioner.provision_account(account(NEW), OU)
    assert zoom.zoom_user(NEW).status == "active"
    assert zoom.profiles.for_account("acc_newperson")[0].connected


@pytest.mark.parametrize(
    "policy",
    [
        ProvisioningPolicy(enabled=True, create_users=False),
        ProvisioningPolicy(enabled=False, create_users=True),
    ],
    ids=["create_users off", "enabled off"],
)
def test_no_create_without_its_toggles(zoom: Rig, policy: ProvisioningPolicy) -> None:
    zoom.policies.policies[CNX] = policy
    assert zoom.provisioner.provision_account(account(NEW), OU) == []
    assert zoom.zoom_user(NEW) is None and calls(zoom, "POST") == []


@pytest.mark.parametrize("status", [409, 412])
def test_a_409_adopts_the_existing_user(zoom: Rig, status: int) -> None:
    zoom.sim.apply_options({"duplicate_user_status": status})  # 412: what seed 004 reports
    existing = zoom.sim.control_add_user({"email": NEW, "first_name": "Old"})
    zoom.set_policy(create_users=True)
    # Matching did not see the user (no profile): the create meets Zoom's 409 / 1005.
    (event,) = zoom.provisioner.provision_account(account(NEW), OU)
    assert (event.action, event.result, event.provider_user_id) == ("adopt", EventResult.OK, existing["id"])
    assert [r["status"] for r in calls(zoom, "POST")] == [status]
    (profile,) = zoom.profiles.for_account("acc_newperson")
    assert profile.provider_user_id == existing["id"] and profile.connected


def linked(zoom: Rig, email: str, status: str = "active", **extra: Any) -> str:
    """A Zoom user and the account's profile matched to it; the user id."""
    user = zoom.sim.control_add_user(
        {"email": email, "first_name": "Ada", "last_name": "Lovelace", "status": status, **extra}
    )
    local = email.split("@")[0].replace(".", "")
    zoom.profiles.save(
        ConferencingProfile(
            "pro_" + "2" * 24, f"acc_{local}", CNX, "zoom", user["id"], email, UserStatus(status)
        )
    )
    return str(user["id"])


def test_attribute_changes_update_active_users_only(zoom: Rig) -> None:
    mapping = {
        "email": AttributeSource(directory=DirectoryAttribute.EMAIL),
        "first_name": AttributeSource(directory=DirectoryAttribute.GIVEN_NAME),
        "last_name": AttributeSource(directory=DirectoryAttribute.FAMILY_NAME),
    }
    zoom.set_policy(update_users=True, attribute_mapping=mapping)
    linked(zoom, "a.b@example.com")
    (event,) = zoom.provisioner.provision_account(account("a.b@example.com", "Augusta King"), OU)
    assert (event.action, event.result) == ("update", EventResult.OK)
    assert (zoom.zoom_user("a.b@example.com").first_name, zoom.zoom_user("a.b@example.com").last_name) == (
        "Augusta",
        "King",
    )
    # Pending: nothing read to compare, nothing written (Zoom refuses to update pending users).
    linked(zoom, "c.d@example.com", status="pending")
    assert zoom.provisioner.provision_account(account("c.d@example.com", "Other Name"), OU) == []
    # Inactive: the change is planned and skipped, never sent.
    linked(zoom, "e.f@example.com", status="inactive")
    (skipped,) = zoom.provisioner.provision_account(account("e.f@example.com", "Other Name"), OU)
    assert skipped.result is EventResult.SKIPPED and "inactive" in str(skipped.error)
    assert len(calls(zoom, "PATCH")) == 1
    # update_users off: the same change is not written.
    zoom.set_policy(update_users=False, attribute_mapping=mapping)
    assert zoom.provisioner.provision_account(account("a.b@example.com", "Someone Else"), OU) == []


def email_change(zoom: Rig, user_id: str, old: str, new: str) -> ProvisioningAction:
    return ProvisioningAction(ActionKind.UPDATE, old, "acc_x", user_id, changes={"email": new})


def test_an_email_change_outside_the_managed_domains_is_logged_not_retried(zoom: Rig) -> None:
    policy = zoom.set_policy(update_users=True)
    user_id = linked(zoom, "g.h@example.com")
    (event,) = zoom.provisioner.apply(
        connection(), policy, [email_change(zoom, user_id, "g.h@example.com", "g@elsewhere.test")]
    )
    assert (event.result, event.error) == (EventResult.FAILED, NOT_MANAGED)
    assert len(calls(zoom, "PUT", "/email")) == 1


def test_the_email_change_limit_is_surfaced_and_never_retried_into_a_lockout(zoom: Rig) -> None:
    policy = zoom.set_policy(update_users=True, io_retries=5)
    user_id = linked(zoom, "i.j@example.com")
    addresses = ["i.j@example.com", "i1@example.com", "i2@example.com", "i3@example.com", "i4@example.com"]
    events = [
        zoom.provisioner.apply(connection(), policy, [email_change(zoom, user_id, old, new)])[0]
        for old, new in itertools.pairwise(addresses)
    ]
    assert [e.result for e in events] == [EventResult.OK] * 3 + [EventResult.FAILED]
    assert events[-1].error == EMAIL_LIMIT
    limited = calls(zoom, "PUT", "/email")
    assert [r["status"] for r in limited] == [204, 204, 204, 429]  # one attempt, despite io_retries 5
    assert zoom.sleeps == []


@pytest.mark.parametrize("how", list(RemoveAction))
def test_a_departed_account_is_removed_per_remove_action(zoom: Rig, how: RemoveAction) -> None:
    zoom.set_policy(deprovision_users=True, remove_action=how)
    user_id = linked(zoom, "k.l@example.com")
    (event,) = zoom.provisioner.deprovision_account(account("k.l@example.com"), OU)
    assert (event.action, event.result, event.provider_user_id) == ("remove", EventResult.OK, user_id)
    user = zoom.zoom_user("k.l@example.com")
    if how is RemoveAction.DEACTIVATE:
        assert user.status == "inactive"
        assert [r["path"] for r in calls(zoom, "DELETE")] == [f"/v2/users/{user_id}/token"]
    else:
        assert user is None
        (delete,) = calls(zoom, "DELETE")
        assert delete["params"].get("action") == str(how)
    assert not zoom.profiles.for_account("acc_kl")[0].connected
    # Redelivered: deactivated already (nothing to do), or gone at Zoom (nothing to remove).
    assert zoom.provisioner.deprovision_account(account("k.l@example.com"), OU) == []


def test_deprovision_users_off_and_no_logout(zoom: Rig) -> None:
    zoom.set_policy(deprovision_users=False)
    linked(zoom, "m.n@example.com")
    assert zoom.provisioner.deprovision_account(account("m.n@example.com"), OU) == []
    zoom.set_policy(deprovision_users=True, logout_on_deactivate=False)
    (event,) = zoom.provisioner.deprovision_account(account("m.n@example.com"), OU)
    assert event.result is EventResult.OK and calls(zoom, "DELETE") == []
    assert zoom.zoom_user("m.n@example.com").status == "inactive"


def test_a_pending_user_cannot_be_deactivated_and_the_log_says_so(zoom: Rig) -> None:
    zoom.set_policy(deprovision_users=True)
    linked(zoom, "o.p@example.com", status="pending")
    (event,) = zoom.provisioner.deprovision_account(account("o.p@example.com"), OU)
    assert event.result is EventResult.SKIPPED and "pending" in str(event.error)
    assert calls(zoom, "PUT", "/status") == []


def test_io_errors_are_retried_up_to_io_retries(zoom: Rig) -> None:
    zoom.set_policy(create_users=True, io_retries=2)
    zoom.sim.add_fault("api", "503", count=3, path_prefix="/v2/users")
    (event,) = zoom.provisioner.provision_account(account(NEW), OU)
    assert (event.action, event.result) == ("create", EventResult.FAILED)
    assert event.error == "Zoom answered 503 after the retries (io_retries)"
    assert [r["status"] for r in calls(zoom, "POST")] == [503, 503, 503]  # 1 + io_retries
    # The next run creates it (the fault is spent).
    (again,) = zoom.provisioner.provision_account(account(NEW), OU)
    assert again.result is EventResult.OK and zoom.zoom_user(NEW) is not None


def test_a_429_waits_the_retry_after_then_succeeds(zoom: Rig) -> None:
    zoom.set_policy(create_users=True)
    zoom.sim.apply_options({"retry_after": "seconds"})
    zoom.sim.add_fault("api", "429", count=1, path_prefix="/v2/users")
    (event,) = zoom.provisioner.provision_account(account(NEW), OU)
    assert event.result is EventResult.OK
    assert [r["status"] for r in calls(zoom, "POST")] == [429, 201]
    assert len(zoom.sleeps) == 1 and 0 < zoom.sleeps[0] <= 30  # the Retry-After, not a backoff guess


class NeverLinked:
    def __init__(self) -> None:
        self.calls = 0

    def access_token(self, connection: LinkedConnection, *, rejected: str | None = None) -> str:
        self.calls += 1
        return "linked-token"


def test_server_to_server_connections_get_account_credentials_tokens(
    zoom: Rig, served: tuple[RunningServer, Slot]
) -> None:
    info = zoom.sim.dev_info(served[0].url)
    secret = ServerToServerCredentials(
        info["account_id"], info["client_id"], info["client_secret"]
    ).to_secret()
    linked = NeverLinked()
    tokens = ConnectionAccessTokens(
        linked,
        read_secret=lambda arn: secret if arn == "arn:secret" else None,
        zoom_api=lambda app: ZoomApi(app, base_url=served[0].url),
        clock=lambda: float(CLOCK_START),
    )
    zoom.sim.clear_requests()
    first = tokens.access_token(connection())
    assert tokens.access_token(connection()) == first  # kept until near its expiry
    renewed = tokens.access_token(connection(), rejected=first)
    assert renewed != first and linked.calls == 0
    assert [r["params"].get("grant_type") for r in zoom.sim.requests() if r["path"] == "/oauth/token"] == [
        "account_credentials",
        "account_credentials",
    ]
    browser = replace(
        connection(), connection_id="cnx_" + "9" * 24, authorization_type=AuthorizationType.OAUTH
    )
    assert tokens.access_token(browser) == "linked-token" and linked.calls == 1
    with pytest.raises(CredentialsMissing):
        tokens.access_token(replace(connection(), connection_id="cnx_" + "8" * 24, secret_arn="arn:gone"))
