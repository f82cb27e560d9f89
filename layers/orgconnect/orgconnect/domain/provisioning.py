"""Provisioning plans (issue 11 item 3; seeds 003 and 004): given a connection's provisioning
policy, the calendar accounts of its Organizational Unit and the connection's Zoom users, what
orgconnect would create, update, disable or remove at Zoom. Pure: the same plan is executed by
workers/provisioning.py and listed by a ``--dry-run``.

Rules (docs/provisioning.md, "What happens"): nothing while ``enabled`` is off; each toggle alone
allows its kind of action; a pending Zoom user is not updated (the change is planned again after
activation, since every plan compares the directory with Zoom afresh); an inactive one is not
updated unless the mapping reactivates it; an email change only to a managed domain; a user who
left is removed per ``remove_action``; a pending user cannot be deactivated (a skipped action).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING

from msgspec import Struct, field

from orgconnect.domain.conferencing import UserStatus
from orgconnect.domain.provisioning_policy import (
    DirectoryAttribute,
    ProvisioningPolicy,
    RemoveAction,
    ZoomUserType,
)

if TYPE_CHECKING:
    from orgconnect.domain.accounts import Account
    from orgconnect.domain.conferencing import DirectoryUser
    from orgconnect.domain.conferencing_connections import ManagedConnection
    from orgconnect.domain.matching import ConferencingProfile

#: Mapped attributes orgconnect never writes: the login is the email; roles go through Zoom's
#: Roles API, which orgconnect does not call.
NOT_WRITTEN = frozenset({"user_name", "roles"})
PENDING_NOT_UPDATED = "the Zoom user is pending: updated after activation"
INACTIVE_NOT_UPDATED = "the Zoom user is inactive: inactive users are not updated"
PENDING_NOT_DEACTIVATED = "the Zoom user is pending: Zoom cannot deactivate a pending user"
EMAIL_DOMAIN_NOT_MANAGED = "the new email's domain is not a managed domain of the Zoom account"

AttributeValue = str | int


class ActionKind(StrEnum):
    """What an action does at Zoom."""

    CREATE = "create"  # POST /users (create_action, user_type)
    ADOPT = "adopt"  # a create answered 409 / 1005: the existing user is kept (executor only)
    UPDATE = "update"  # PATCH /users/{id}, PUT …/email, PUT …/status activate
    DISABLE = "disable"  # PUT /users/{id}/status deactivate (+ DELETE …/token)
    REMOVE = "remove"  # per remove_action


class CalendarUser(Struct, frozen=True):
    """A calendar account of the OU as its calendar directory knows it.

    ``attributes``: DirectoryAttribute name -> value (``active`` is a boolean); ``departed``: it
    left (revoked with ``request_pii_erasure``, or gone from the calendar directory);
    ``zoom_user_id``: the Zoom user its profile is matched to (authoritative over the email)."""

    account_id: str
    email: str
    attributes: Mapping[str, str | bool] = field(default_factory=dict)
    departed: bool = False
    zoom_user_id: str | None = None

    @property
    def active(self) -> bool:
        """Not suspended in the calendar directory."""
        return self.attributes.get(DirectoryAttribute.ACTIVE) is not False


class ZoomUser(Struct, frozen=True):
    """A user of the connection's Zoom account. ``attributes``: the mapping's keys (``first_name``,
    ``title``…) with Zoom's current values; None when only listed (pending users' data is minimal),
    then no update is planned."""

    user_id: str
    email: str
    status: UserStatus
    attributes: Mapping[str, AttributeValue] | None = None


class ReconciledDirectory(Struct, frozen=True):
    """A connection sync's finished reconcile, handed to provisioning: the OU's accounts, the
    complete listing, and each account's profile at the connection after the reconcile."""

    connection: ManagedConnection
    accounts: list[Account]
    listed: list[DirectoryUser]
    profiles: dict[str, ConferencingProfile]


class ProvisioningAction(Struct, frozen=True):
    """One thing to do at Zoom. ``changes``: for CREATE the attributes to create with, for UPDATE
    the attributes to write; ``skip_reason``: planned but not done (recorded as ``skipped``)."""

    kind: ActionKind
    email: str
    account_id: str | None = None
    provider_user_id: str | None = None
    changes: Mapping[str, AttributeValue] = field(default_factory=dict)
    remove_action: RemoveAction | None = None
    logout: bool = False
    skip_reason: str | None = None

    def summary(self) -> str:
        """One printable line: ``create alice@example.com (create, Basic)``."""
        what = f"{self.kind} {self.email}"
        if self.provider_user_id:
            what += f" [{self.provider_user_id}]"
        details = (
            [f"{k}={v}" for k, v in sorted(self.changes.items())] if self.kind is ActionKind.UPDATE else []
        )
        if self.remove_action is not None:
            details.append(str(self.remove_action))
        if self.logout:
            details.append("logout")
        if details:
            what += " (" + ", ".join(details) + ")"
        return what + (f": skipped, {self.skip_reason}" if self.skip_reason else "")


def summarize(actions: Sequence[ProvisioningAction]) -> str:
    """A printable plan: one line per action, then the count of each kind."""
    if not actions:
        return "provisioning: nothing to do"
    counts = {kind: sum(1 for a in actions if a.kind is kind and not a.skip_reason) for kind in ActionKind}
    skipped = sum(1 for a in actions if a.skip_reason)
    totals = ", ".join(f"{n} to {kind}" for kind, n in counts.items() if n)
    lines = [a.summary() for a in actions]
    lines.append("provisioning: " + (totals or "nothing to do") + (f", {skipped} skipped" if skipped else ""))
    return "\n".join(lines)


def desired_attributes(policy: ProvisioningPolicy, user: CalendarUser) -> dict[str, AttributeValue]:
    """The Zoom attributes the mapping gives ``user`` (an empty directory value writes nothing)."""
    out: dict[str, AttributeValue] = {}
    for key, source in policy.attribute_mapping.items():
        if key in NOT_WRITTEN:
            continue
        value: str | bool | None
        if source.directory is not None:
            value = user.attributes.get(source.directory)
            if source.directory is DirectoryAttribute.EMAIL:
                value = user.email
        else:
            value = source.constant
        if key == "status" and isinstance(value, bool):
            value = "active" if value else "inactive"
        if key == "type" and isinstance(value, str):
            out[key] = ZoomUserType(value).zoom_type
        elif isinstance(value, str) and value.strip():
            out[key] = value.strip().lower() if key == "email" else value.strip()
    return out


def plan(
    policy: ProvisioningPolicy,
    accounts: Iterable[CalendarUser],
    zoom_users: Iterable[ZoomUser],
    *,
    managed_domains: frozenset[str] | None = None,
    created_by_orgconnect: frozenset[str] = frozenset(),
    policy_removed: bool = False,
) -> list[ProvisioningAction]:
    """What to do at Zoom for ``accounts``, one action at most per account (two when an email
    change is skipped beside other changes).

    ``managed_domains``: the Zoom account's managed domains (None: unknown, so Zoom decides and
    its refusal is logged); ``created_by_orgconnect``: Zoom user ids orgconnect created through
    this connection; ``policy_removed``: the policy was turned off or the connection removed,
    when only ``deprovision_on_policy_removal`` acts (on the users orgconnect created)."""
    users = list(zoom_users)
    if policy_removed:
        if not policy.deprovision_on_policy_removal:
            return []
        out = []
        for user in users:
            if user.user_id in created_by_orgconnect:
                out.extend(_removal(policy, None, user))
        return out
    if not policy.enabled:
        return []
    by_id = {u.user_id: u for u in users}
    by_email = {u.email.strip().lower(): u for u in users}
    actions: list[ProvisioningAction] = []
    seen: set[str] = set()
    for account in accounts:
        email = account.email.strip().lower()
        if email in seen:
            continue  # one calendar address, one Zoom user
        seen.add(email)
        found = by_id.get(account.zoom_user_id or "") or by_email.get(email)
        actions.extend(_for_account(policy, account, found, managed_domains))
    return actions


def _for_account(
    policy: ProvisioningPolicy,
    account: CalendarUser,
    user: ZoomUser | None,
    managed_domains: frozenset[str] | None,
) -> list[ProvisioningAction]:
    if account.departed:
        return _removal(policy, account.account_id, user) if policy.deprovision_users and user else []
    if user is None:
        if policy.create_users and account.active:
            return [
                ProvisioningAction(
                    ActionKind.CREATE,
                    account.email.strip().lower(),
                    account.account_id,
                    changes=desired_attributes(policy, account),
                )
            ]
        return []
    if not account.active:
        if not policy.disable_users or user.status is UserStatus.INACTIVE:
            return []
        skip = PENDING_NOT_DEACTIVATED if user.status is UserStatus.PENDING else None
        return [
            ProvisioningAction(
                ActionKind.DISABLE,
                user.email,
                account.account_id,
                user.user_id,
                logout=policy.logout_on_deactivate,
                skip_reason=skip,
            )
        ]
    if not policy.update_users or user.attributes is None:
        return []
    return _updates(policy, account, user, user.attributes, managed_domains)


def _updates(
    policy: ProvisioningPolicy,
    account: CalendarUser,
    user: ZoomUser,
    current: Mapping[str, AttributeValue],
    managed_domains: frozenset[str] | None,
) -> list[ProvisioningAction]:
    changes: dict[str, AttributeValue] = {}
    for key, value in desired_attributes(policy, account).items():
        if key == "status":
            now = "active" if user.status is UserStatus.ACTIVE else str(user.status)
            if user.status is not UserStatus.PENDING and value != now:
                changes[key] = value
        elif key == "email":
            if value != user.email.strip().lower():
                changes[key] = value
        elif key in current and current[key] != value:
            changes[key] = value  # an attribute Zoom does not report is never compared
    if not changes:
        return []
    out: list[ProvisioningAction] = []

    def action(found: Mapping[str, AttributeValue], skip: str | None) -> ProvisioningAction:
        return ProvisioningAction(
            ActionKind.UPDATE, user.email, account.account_id, user.user_id, changes=found, skip_reason=skip
        )

    if user.status is UserStatus.PENDING:
        return [action(changes, PENDING_NOT_UPDATED)]
    if user.status is not UserStatus.ACTIVE and changes.get("status") != "active":
        return [action(changes, INACTIVE_NOT_UPDATED)]
    new_email = changes.get("email")
    if (
        isinstance(new_email, str)
        and managed_domains is not None
        and new_email.rpartition("@")[2] not in managed_domains
    ):
        out.append(action({"email": new_email}, EMAIL_DOMAIN_NOT_MANAGED))
        del changes["email"]
    if changes:
        out.insert(0, action(changes, None))
    return out


def _removal(
    policy: ProvisioningPolicy, account_id: str | None, user: ZoomUser | None
) -> list[ProvisioningAction]:
    if user is None:
        return []
    how = policy.remove_action
    logout = policy.logout_on_deactivate and how is RemoveAction.DEACTIVATE
    if how is RemoveAction.DEACTIVATE:
        if user.status is UserStatus.INACTIVE:
            return []  # already done: idempotent
        if user.status is UserStatus.PENDING:
            return [
                ProvisioningAction(
                    ActionKind.REMOVE,
                    user.email,
                    account_id,
                    user.user_id,
                    remove_action=how,
                    skip_reason=PENDING_NOT_DEACTIVATED,
                )
            ]
    return [
        ProvisioningAction(
            ActionKind.REMOVE, user.email, account_id, user.user_id, remove_action=how, logout=logout
        )
    ]
