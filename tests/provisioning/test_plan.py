"""The provisioning planner (domain/provisioning.py), pure: each toggle, each remove action, the
pending and inactive rules, managed domains, policy removal; and, with hypothesis, that a plan
only holds what its toggles allow and that carrying it out leaves nothing to do."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from orgconnect.domain.conferencing import UserStatus
from orgconnect.domain.provisioning import (
    EMAIL_DOMAIN_NOT_MANAGED,
    INACTIVE_NOT_UPDATED,
    PENDING_NOT_DEACTIVATED,
    PENDING_NOT_UPDATED,
    ActionKind,
    CalendarUser,
    ProvisioningAction,
    ZoomUser,
    desired_attributes,
    plan,
    summarize,
)
from orgconnect.domain.provisioning_policy import (
    AttributeSource,
    CreateAction,
    DirectoryAttribute,
    ProvisioningPolicy,
    RemoveAction,
    ZoomUserType,
)
from tests.values import replace

ALL_ON = ProvisioningPolicy(
    enabled=True, create_users=True, update_users=True, disable_users=True, deprovision_users=True
)


def account(email: str = "ada@example.com", **attributes: Any) -> CalendarUser:
    departed = attributes.pop("departed", False)
    base: dict[str, str | bool] = {"given_name": "Ada", "family_name": "Lovelace"}
    return CalendarUser(f"acc_{email.split('@')[0]}", email, {**base, **attributes}, departed)


def zoom(
    email: str = "ada@example.com", status: UserStatus = UserStatus.ACTIVE, **attributes: Any
) -> ZoomUser:
    current = (
        None if status is UserStatus.PENDING else {"first_name": "Ada", "last_name": "Lovelace", **attributes}
    )
    return ZoomUser(f"z-{email.split('@')[0]}", email, status, current)


def kinds(actions: list[ProvisioningAction]) -> list[tuple[str, str | None]]:
    return [(str(a.kind), a.skip_reason) for a in actions]


def test_nothing_happens_while_the_policy_is_off() -> None:
    policy = replace(ALL_ON, enabled=False)
    assert (
        plan(policy, [account(), account("gone@example.com", departed=True)], [zoom("gone@example.com")])
        == []
    )


def test_a_user_without_zoom_is_created_per_create_action_and_user_type() -> None:
    policy = replace(ALL_ON, create_action=CreateAction.AUTO_CREATE, user_type=ZoomUserType.LICENSED)
    (action,) = plan(policy, [account("Ada@Example.com")], [])
    assert action.kind is ActionKind.CREATE and action.email == "ada@example.com"
    assert action.account_id == "acc_Ada"
    assert action.changes == {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}
    assert "create ada@example.com" in summarize([action])


def test_create_users_off_creates_nobody_and_a_suspended_user_is_not_created() -> None:
    assert plan(replace(ALL_ON, create_users=False), [account()], []) == []
    assert plan(ALL_ON, [account(active=False)], []) == []


def test_attribute_changes_are_updates_per_mapping() -> None:
    mapping = {
        "email": AttributeSource(directory=DirectoryAttribute.EMAIL),
        "first_name": AttributeSource(directory=DirectoryAttribute.GIVEN_NAME),
        "title": AttributeSource(directory=DirectoryAttribute.JOB_TITLE),
        "organization": AttributeSource(constant="Example Corp"),
    }
    policy = replace(ALL_ON, attribute_mapping=mapping)
    (action,) = plan(
        policy, [account(given_name="Augusta", job_title="Analyst")], [zoom(title="", organization="X")]
    )
    assert action.kind is ActionKind.UPDATE and action.provider_user_id == "z-ada"
    assert action.changes == {"first_name": "Augusta", "title": "Analyst", "organization": "Example Corp"}
    assert plan(replace(policy, update_users=False), [account(given_name="Augusta")], [zoom()]) == []


def test_an_unchanged_user_and_an_empty_directory_value_plan_nothing() -> None:
    assert plan(ALL_ON, [account()], [zoom()]) == []
    assert plan(ALL_ON, [account(given_name="")], [zoom(first_name="Ada")]) == []


def test_a_pending_user_is_not_updated_and_an_inactive_one_neither() -> None:
    pending = zoom(status=UserStatus.PENDING)
    pending = replace(pending, attributes={"first_name": "", "last_name": ""})
    assert kinds(plan(ALL_ON, [account()], [pending])) == [("update", PENDING_NOT_UPDATED)]
    # Pending users' data is minimal: with no attributes read, nothing is compared at all.
    assert plan(ALL_ON, [account()], [zoom(status=UserStatus.PENDING)]) == []
    inactive = zoom(status=UserStatus.INACTIVE, first_name="Old")
    assert kinds(plan(ALL_ON, [account()], [inactive])) == [("update", INACTIVE_NOT_UPDATED)]


def test_a_mapped_status_reactivates_an_inactive_user_with_the_update() -> None:
    mapping = {**ALL_ON.attribute_mapping, "status": AttributeSource(directory=DirectoryAttribute.ACTIVE)}
    policy = replace(ALL_ON, attribute_mapping=mapping, disable_users=False)
    (action,) = plan(policy, [account(active=True)], [zoom(status=UserStatus.INACTIVE, first_name="Old")])
    assert action.skip_reason is None and action.changes == {"status": "active", "first_name": "Ada"}


def test_email_changes_only_to_a_managed_domain() -> None:
    user = replace(zoom(), email="ada@old.example")
    actions = plan(
        ALL_ON, [account(given_name="Augusta")], [replace(user, user_id="z1")], managed_domains=None
    )
    assert [a.kind for a in actions] == [ActionKind.CREATE]  # by email, another address is another user
    moved = CalendarUser("acc_1", "ada@new.example", {"given_name": "Augusta"}, zoom_user_id="z1")
    allowed = plan(ALL_ON, [moved], [replace(user, user_id="z1")], managed_domains=frozenset({"new.example"}))
    assert [dict(a.changes) for a in allowed] == [{"email": "ada@new.example", "first_name": "Augusta"}]
    refused = plan(
        ALL_ON, [moved], [replace(user, user_id="z1")], managed_domains=frozenset({"other.example"})
    )
    assert kinds(refused) == [("update", None), ("update", EMAIL_DOMAIN_NOT_MANAGED)]
    assert refused[0].changes == {"first_name": "Augusta"} and refused[1].changes == {
        "email": "ada@new.example"
    }


def test_a_suspended_user_is_disabled_with_logout_and_only_with_disable_users() -> None:
    (action,) = plan(ALL_ON, [account(active=False)], [zoom()])
    assert action.kind is ActionKind.DISABLE and action.logout is True
    assert (
        plan(replace(ALL_ON, logout_on_deactivate=False), [account(active=False)], [zoom()])[0].logout
        is False
    )
    assert plan(replace(ALL_ON, disable_users=False), [account(active=False)], [zoom()]) == []
    assert plan(ALL_ON, [account(active=False)], [zoom(status=UserStatus.INACTIVE)]) == []
    assert kinds(plan(ALL_ON, [account(active=False)], [zoom(status=UserStatus.PENDING)])) == [
        ("disable", PENDING_NOT_DEACTIVATED)
    ]


def test_a_departed_user_is_removed_per_remove_action() -> None:
    gone = account(departed=True)
    for how in RemoveAction:
        (action,) = plan(replace(ALL_ON, remove_action=how), [gone], [zoom()])
        assert action.kind is ActionKind.REMOVE and action.remove_action is how
        assert action.logout is (how is RemoveAction.DEACTIVATE)
    assert plan(replace(ALL_ON, deprovision_users=False), [gone], [zoom()]) == []
    assert plan(ALL_ON, [gone], []) == []  # nobody at Zoom: nothing to remove
    # Deactivation is done already, or impossible while pending; disassociate works on both.
    assert plan(ALL_ON, [gone], [zoom(status=UserStatus.INACTIVE)]) == []
    assert kinds(plan(ALL_ON, [gone], [zoom(status=UserStatus.PENDING)])) == [
        ("remove", PENDING_NOT_DEACTIVATED)
    ]
    disassociate = replace(ALL_ON, remove_action=RemoveAction.DISASSOCIATE)
    assert kinds(plan(disassociate, [gone], [zoom(status=UserStatus.PENDING)])) == [("remove", None)]


def test_policy_removal_removes_only_what_orgconnect_created_and_only_when_asked() -> None:
    users = [zoom("a@example.com"), zoom("b@example.com")]
    created = frozenset({"z-a"})
    assert plan(ALL_ON, [], users, created_by_orgconnect=created, policy_removed=True) == []
    policy = replace(
        ALL_ON, enabled=False, deprovision_on_policy_removal=True, remove_action=RemoveAction.DELETE
    )
    (action,) = plan(policy, [], users, created_by_orgconnect=created, policy_removed=True)
    assert (action.kind, action.provider_user_id, action.remove_action) == (
        ActionKind.REMOVE,
        "z-a",
        RemoveAction.DELETE,
    )


def test_the_profile_id_wins_over_the_email_and_one_address_is_planned_once() -> None:
    old = zoom("old@example.com")  # user id z-old
    unknown = CalendarUser("acc_1", "new@example.com", {"given_name": "Ada"}, zoom_user_id="z-gone")
    assert [a.kind for a in plan(ALL_ON, [unknown], [old])] == [ActionKind.CREATE]
    matched = plan(ALL_ON, [replace(unknown, zoom_user_id="z-old")], [old])
    assert [(a.kind, dict(a.changes)) for a in matched] == [(ActionKind.UPDATE, {"email": "new@example.com"})]
    assert len(plan(ALL_ON, [account(), account("ADA@example.com")], [])) == 1


def test_type_constant_maps_to_zoom_numbers_and_roles_are_never_written() -> None:
    mapping = {
        **ALL_ON.attribute_mapping,
        "type": AttributeSource(constant="Licensed"),
        "roles": AttributeSource(constant="Admin"),
    }
    desired = desired_attributes(replace(ALL_ON, attribute_mapping=mapping), account())
    assert desired["type"] == 2 and "roles" not in desired and "user_name" not in desired


def test_summary_counts_each_kind() -> None:
    actions = plan(ALL_ON, [account(), account("b@example.com", active=False)], [zoom("b@example.com")])
    text = summarize(actions)
    assert text.splitlines()[-1] == "provisioning: 1 to create, 1 to disable"
    assert summarize([]) == "provisioning: nothing to do"


# -- properties -----------------------------------------------------------------------------------

STATUSES = st.sampled_from(list(UserStatus)[:3])
NAMES = st.sampled_from(["Ada", "Grace", ""])


@st.composite
def worlds(draw: st.DrawFn) -> tuple[ProvisioningPolicy, list[CalendarUser], list[ZoomUser]]:
    policy = ProvisioningPolicy(
        enabled=draw(st.booleans()),
        create_users=draw(st.booleans()),
        update_users=draw(st.booleans()),
        disable_users=draw(st.booleans()),
        deprovision_users=draw(st.booleans()),
        logout_on_deactivate=draw(st.booleans()),
        remove_action=draw(st.sampled_from(list(RemoveAction))),
    )
    people = draw(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), unique=True, max_size=5))
    accounts, users = [], []
    for name in people:
        email = f"{name}@example.com"
        accounts.append(
            CalendarUser(
                f"acc_{name}",
                email,
                {"given_name": draw(NAMES), "active": draw(st.booleans())},
                departed=draw(st.booleans()),
            )
        )
        if draw(st.booleans()):
            status = draw(STATUSES)
            attributes = (
                None if status is UserStatus.PENDING else {"first_name": draw(NAMES), "last_name": ""}
            )
            users.append(ZoomUser(f"z-{name}", email, status, attributes))
    return policy, accounts, users


TOGGLE = {
    ActionKind.CREATE: "create_users",
    ActionKind.UPDATE: "update_users",
    ActionKind.DISABLE: "disable_users",
    ActionKind.REMOVE: "deprovision_users",
}


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_every_action_is_allowed_by_its_toggle(
    world: tuple[ProvisioningPolicy, list[CalendarUser], list[ZoomUser]],
) -> None:
    policy, accounts, users = world
    actions = plan(policy, accounts, users)
    if not policy.enabled:
        assert actions == []
    for action in actions:
        assert getattr(policy, TOGGLE[action.kind]) is True
    assert len({a.account_id for a in actions if a.skip_reason is None}) == len(
        [a for a in actions if not a.skip_reason]
    )


def carry_out(actions: list[ProvisioningAction], users: list[ZoomUser]) -> list[ZoomUser]:
    """What Zoom holds once the actions are done (a model of the executor)."""
    by_email = {u.email: u for u in users}
    for action in actions:
        if action.skip_reason:
            continue
        if action.kind is ActionKind.CREATE:
            by_email[action.email] = ZoomUser(f"z-{action.email}", action.email, UserStatus.PENDING)
        elif action.kind is ActionKind.UPDATE:
            user = by_email[action.email]
            merged = {**(user.attributes or {}), **{k: v for k, v in action.changes.items() if k != "status"}}
            by_email[action.email] = replace(user, attributes=merged)
        elif action.kind is ActionKind.DISABLE or action.remove_action is RemoveAction.DEACTIVATE:
            by_email[action.email] = replace(by_email[action.email], status=UserStatus.INACTIVE)
        else:
            del by_email[action.email]
    return list(by_email.values())


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_a_carried_out_plan_leaves_only_skipped_actions(
    world: tuple[ProvisioningPolicy, list[CalendarUser], list[ZoomUser]],
) -> None:
    policy, accounts, users = world
    first = plan(policy, accounts, users)
    again = plan(policy, accounts, carry_out(first, users))
    assert all(a.skip_reason for a in again), summarize(again)
