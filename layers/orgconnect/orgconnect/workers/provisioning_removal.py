"""``deprovision_on_policy_removal`` (docs/provisioning.md): when a policy is turned off
(``enabled`` true -> false) or its connection removed, the Zoom users orgconnect created through
the connection (the provisioning log's ``create`` ``ok`` events, 90 days) are removed per the
``remove_action`` of the policy that was in force. Run in the API request, before a removed
connection's secret is deleted (the credentials are still there), and bounded: at most
``MAX_REMOVALS`` users, in batches started within ``BUDGET_SECONDS``, each call retried at
most ``REQUEST_IO_RETRIES`` time. What a PUT leaves (the limit, the time budget, a failure) the
caller records as the policy's pending removal, which each sync continues
(workers/provisioning_sync.py); a DELETE cannot be continued (its secret goes right after).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from msgspec import Struct, field
from msgspec.structs import replace

from orgconnect.observability import logger
from orgconnect.workers.connection_calls import CONNECTION_SKIPPED, log_connection_skipped
from orgconnect.workers.provisioning_reconcile import ReconcileOutcome, reconcile_connection

if TYPE_CHECKING:
    from orgconnect.domain.conferencing import DirectoryUser
    from orgconnect.domain.conferencing_connections import ManagedConnection
    from orgconnect.domain.provisioning import ProvisioningAction
    from orgconnect.domain.provisioning_log import ProvisioningEvent
    from orgconnect.domain.provisioning_policy import ProvisioningPolicy
    from orgconnect.workers.provisioning import Provisioner

#: Users removed in one request (API Gateway's 29 s: a removal is one or two Zoom calls).
MAX_REMOVALS = 50
#: Users removed per token and batch; a new batch starts only within the time budget.
BATCH = 10
#: Seconds of the request the removal may start batches in (the function times out at 28).
BUDGET_SECONDS = 12.0
#: Retries per Zoom call in a request (the policy's io_retries may be up to 10).
REQUEST_IO_RETRIES = 1


class StoredDirectory(Protocol):
    """``DynamoDirectory.users``: the connection's users as last listed or provisioned."""

    def users(self, connection_id: str) -> list[DirectoryUser]: ...


class RemovalOutcome(Struct, frozen=True):
    """What the removal planned (all of it), did, and how many users it left."""

    actions: list[ProvisioningAction]
    events: list[ProvisioningEvent] = field(default_factory=list)
    #: Users still to remove (not tried, or failed); -1: unknown (no plan could be made).
    left: int = 0

    @property
    def unfinished(self) -> bool:
        """Something may be left: a sync should continue the removal."""
        return self.left != 0


def remove_on_policy_removal(
    provisioner: Provisioner,
    directory: StoredDirectory,
    connection: ManagedConnection,
    policy: ProvisioningPolicy,
    *,
    clock: Callable[[], float] = time.monotonic,
    budget_seconds: float = BUDGET_SECONDS,
    max_removals: int | None = None,
) -> RemovalOutcome:
    """Remove what orgconnect created through ``connection`` when ``policy`` (the one turned off)
    has ``deprovision_on_policy_removal``; nothing otherwise. At most ``max_removals`` users
    (``MAX_REMOVALS``), in batches of ``BATCH`` while ``budget_seconds`` last; the outcome says
    how many are left. Never raises for a provider or credentials failure (logged)."""
    if not policy.deprovision_on_policy_removal:
        return RemovalOutcome([])
    limit = MAX_REMOVALS if max_removals is None else max_removals
    started = clock()
    # In a request: fewer retries per call, so one slow user cannot hold the answer.
    in_request = replace(policy, io_retries=min(policy.io_retries, REQUEST_IO_RETRIES))
    actions: list[ProvisioningAction] = []
    events: list[ProvisioningEvent] = []
    planned = False
    try:
        actions = reconcile_connection(
            provisioner,
            connection,
            [],
            directory.users(connection.connection_id),
            policy_removed=True,
            policy=policy,
            dry_run=True,
        ).actions
        planned = True
        for first in range(0, min(len(actions), limit), BATCH):
            if clock() - started > budget_seconds:
                logger.warning(
                    "provisioned users left: no time left in the request",
                    extra={"connection_id": connection.connection_id},
                )
                break
            batch = actions[first : min(first + BATCH, limit)]
            events.extend(provisioner.apply(connection, in_request, batch))
    except CONNECTION_SKIPPED as problem:
        log_connection_skipped("provisioned users not removed", connection.connection_id, problem)
    tried = ReconcileOutcome(actions, events)
    left = tried.left if planned else -1
    logger.info(
        "provisioned users removed on policy removal",
        extra={
            "connection_id": connection.connection_id,
            "planned": len(actions),
            "done": tried.done,
            "left": left,
        },
    )
    return RemovalOutcome(actions, events, left)
