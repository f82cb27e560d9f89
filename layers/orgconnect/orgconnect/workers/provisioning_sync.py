"""Provisioning at the end of a connection's sync (issue 11 item 3; docs/provisioning.md): once a
sync's reconcile is done and the connection's policy is ``enabled``, the OU's accounts are planned
against the complete listing (``reconcile_connection``) and the plan carried out, or only listed
in a dry run. Departed accounts (their users removed per ``remove_action``, none created for
them again) are those revoked with ``request_pii_erasure`` and, with ``calendar``, those gone from
their calendar directory; accounts suspended there are disabled (``disable_users``).

While the stored policy is disabled, a pending removal (the PUT that turned it off left users,
docs/provisioning.md "Policy removal") is continued instead: planned with the policy turned off
over the complete listing, carried out, and cleared once nothing orgconnect created is left
(the whole plan done, or an empty one).

Bounded: at most ``max_actions`` actions a sync (the rest are planned again by the next one, as
every plan compares afresh), each call retried up to the policy's ``io_retries``. A provider
failure never fails the sync: it is in the worker's log and, per action, in the provisioning log.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from msgspec import Struct, field

from orgconnect.domain.model import ConnectionStatus
from orgconnect.domain.provisioning_policy import PROVISIONING_PROVIDERS
from orgconnect.observability import logger
from orgconnect.workers.connection_calls import CONNECTION_SKIPPED, log_connection_skipped
from orgconnect.workers.provisioning_reconcile import ReconcileOutcome, reconcile_connection

if TYPE_CHECKING:
    from orgconnect.domain.accounts import Account
    from orgconnect.domain.conferencing_connections import ManagedConnection
    from orgconnect.domain.provisioning import ReconciledDirectory
    from orgconnect.domain.provisioning_policy import PendingRemoval
    from orgconnect.workers.provisioning import Provisioner
    from orgconnect.workers.provisioning_calendar import CalendarStanding
    from orgconnect.workers.provisioning_departures import DepartedAccounts

#: Actions one sync carries out (each a Zoom call or three): far under the worker's timeout.
MAX_ACTIONS_PER_SYNC = 500


class CalendarCheck(Protocol):
    """``CalendarDirectoryCheck``: who left the calendar directory, or is suspended there."""

    def standing(self, accounts: Sequence[Account]) -> CalendarStanding: ...


class PendingRemovals(Protocol):
    """``DynamoProvisioningPolicies.clear_pending_removal``: one conditional write."""

    def clear_pending_removal(self, connection_id: str, *, version: int, since: int) -> bool: ...


class SyncProvisioning(Struct):
    """``ConnectionSyncJob.on_reconciled``: provisioning after a done reconcile."""

    provisioner: Provisioner
    departed: DepartedAccounts
    #: The calendar directories' listing (None: only erasure departures deprovision).
    calendar: CalendarCheck | None = None
    dry_run: bool = False
    max_actions: int = MAX_ACTIONS_PER_SYNC
    #: Where a finished pending removal is cleared (None: it is continued, never cleared).
    pending_removals: PendingRemovals | None = None
    #: What each reconcile planned and did (the CLI's summary reads it).
    outcomes: list[ReconcileOutcome] = field(default_factory=list)

    def __call__(self, reconciled: ReconciledDirectory) -> None:
        """Plan and apply (or only plan) the connection's provisioning; never raises for a
        provider or credentials failure."""
        connection = reconciled.connection
        if connection.provider_name not in PROVISIONING_PROVIDERS:
            return
        if connection.status is not ConnectionStatus.CONNECTED:
            return
        subject = self.provisioner.policies.get(connection.connection_id)
        if subject is None:
            return
        if not subject.stored.policy.enabled:
            pending = subject.stored.pending_removal
            if pending is not None:
                self._continue_removal(reconciled, pending, subject.stored.version)
            return
        account_ids = {a.account_id for a in reconciled.accounts}
        matched = {a: p.provider_user_id for a, p in reconciled.profiles.items()}
        try:
            departed = set(self.departed.account_ids(connection.ou_id))
            suspended: frozenset[str] = frozenset()
            if self.calendar is not None:
                standing = self.calendar.standing(reconciled.accounts)
                departed |= standing.gone
                suspended = standing.suspended
            outcome = reconcile_connection(
                self.provisioner,
                connection,
                reconciled.accounts,
                reconciled.listed,
                departed=frozenset(departed & account_ids),
                suspended=suspended,
                matched=matched,
                dry_run=self.dry_run,
                max_actions=self.max_actions,
            )
        except CONNECTION_SKIPPED as problem:
            log_connection_skipped("provisioning at reconcile skipped", connection.connection_id, problem)
            return
        self.outcomes.append(outcome)
        logger.info(
            "provisioning at reconcile",
            extra={
                "connection_id": connection.connection_id,
                "dry_run": self.dry_run,
                "planned": len(outcome.actions),
                "done": len(outcome.events),
            },
        )

    def _continue_removal(
        self, reconciled: ReconciledDirectory, pending: PendingRemoval, version: int
    ) -> None:
        """The pending removal's next ``max_actions``; cleared (at ``version``) when none is left."""
        connection: ManagedConnection = reconciled.connection
        try:
            outcome = reconcile_connection(
                self.provisioner,
                connection,
                [],
                reconciled.listed,
                policy_removed=True,
                policy=pending.policy,
                dry_run=self.dry_run,
                max_actions=self.max_actions,
            )
        except CONNECTION_SKIPPED as problem:
            log_connection_skipped("pending removal skipped", connection.connection_id, problem)
            return
        self.outcomes.append(outcome)
        # Finished: the whole plan (not cut at max_actions) done, or nothing left to plan.
        finished = outcome.to_do == 0 or (len(outcome.actions) < self.max_actions and outcome.left == 0)
        cleared = False
        if finished and not self.dry_run and self.pending_removals is not None:
            cleared = self.pending_removals.clear_pending_removal(
                connection.connection_id, version=version, since=pending.since
            )
        logger.info(
            "pending removal at reconcile",
            extra={
                "connection_id": connection.connection_id,
                "dry_run": self.dry_run,
                "planned": len(outcome.actions),
                "done": len(outcome.events),
                "cleared": cleared,
            },
        )
