"""Provisioning at reconcile (issue 11 item 3; docs/provisioning.md, "Triggers"): one connection's
plan over every account of its OU and its listed Zoom directory, carried out, or only listed
(``--dry-run``). The reconcile lists and passes; this module plans and applies.

A listed directory gives each user's status, not its attributes (Zoom lists pending users with
almost nothing): a reconcile creates, disables and removes; attribute updates are made by the
account's next match, which reads the user.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from msgspec import Struct, field

from orgconnect.domain.provisioning import ProvisioningAction, ZoomUser, plan, summarize
from orgconnect.domain.provisioning_log import EventResult, ProvisioningEvent
from orgconnect.domain.provisioning_policy import ProvisioningPolicy
from orgconnect.workers.provisioning import Provisioner, calendar_user

if TYPE_CHECKING:
    from orgconnect.domain.accounts import Account
    from orgconnect.domain.conferencing import DirectoryUser
    from orgconnect.domain.conferencing_connections import ManagedConnection


class ReconcileOutcome(Struct, frozen=True):
    """What was planned and, unless a dry run, what happened (one event per action)."""

    actions: list[ProvisioningAction]
    events: list[ProvisioningEvent] = field(default_factory=list)

    def summary(self) -> str:
        """The printable plan (``orgconnect sync`` shows it; ``--dry-run`` shows only it)."""
        return summarize(self.actions)

    @property
    def to_do(self) -> int:
        """Actions that are to be carried out (a skipped one, e.g. deactivating a pending user,
        is not: no retry would do it)."""
        return sum(1 for a in self.actions if not a.skip_reason)

    @property
    def done(self) -> int:
        """Actions carried out with success."""
        return sum(1 for e in self.events if e.result is EventResult.OK)

    @property
    def left(self) -> int:
        """Actions to be carried out that did not succeed (not tried, or failed)."""
        return self.to_do - self.done


def reconcile_connection(
    provisioner: Provisioner,
    connection: ManagedConnection,
    accounts: Sequence[Account],
    zoom_users: Iterable[DirectoryUser],
    *,
    departed: frozenset[str] = frozenset(),
    suspended: frozenset[str] = frozenset(),
    matched: Mapping[str, str] | None = None,
    policy_removed: bool = False,
    dry_run: bool = False,
    policy: ProvisioningPolicy | None = None,
    max_actions: int | None = None,
) -> ReconcileOutcome:
    """Plan ``connection`` over ``accounts`` (``departed``: account ids gone from the calendar
    directory or erased; ``suspended``: suspended there; ``matched``: account id -> the Zoom
    user id of its profile) and the
    listed ``zoom_users``; carry it out unless ``dry_run``. ``policy_removed``: the stored
    policy was turned off, so only ``deprovision_on_policy_removal`` acts, on the users the
    provisioning log says orgconnect created. ProviderError / TemporarilyUnavailable when no
    token can be had (nothing was done). ``policy``: the one to plan with instead of the stored
    one (a removal acts on the policy that was turned off); ``max_actions``: the plan is cut
    there (the next reconcile plans the rest afresh)."""
    if policy is None:
        subject = provisioner.policies.get(connection.connection_id)
        if subject is None:
            return ReconcileOutcome([])
        policy = subject.stored.policy
    created = (
        provisioner.log.created_user_ids(connection.ou_id, connection.connection_id, now=provisioner.now())
        if policy_removed
        else frozenset()
    )
    ids = matched or {}
    users = [
        calendar_user(
            a,
            departed=a.account_id in departed,
            zoom_user_id=ids.get(a.account_id),
            active=a.account_id not in suspended,
        )
        for a in accounts
    ]
    zoom = [ZoomUser(u.provider_user_id, u.email, u.status) for u in zoom_users]
    actions = plan(policy, users, zoom, created_by_orgconnect=created, policy_removed=policy_removed)
    if max_actions is not None:
        actions = actions[:max_actions]
    if dry_run or not actions:
        return ReconcileOutcome(actions)
    return ReconcileOutcome(actions, provisioner.apply(connection, policy, actions))
