"""``deprovision_on_policy_removal`` (docs/provisioning.md): when a policy is turned off
(``enabled`` true -> false) or its connection removed, the Zoom users orgconnect created through
the connection (the provisioning log's ``create`` ``ok`` events, 90 days) are removed per the
``remove_action`` of the policy that was in force. Run in the API request, before a removed
connection's secret is deleted (the credentials are still there), and bounded: at most
``MAX_REMOVALS`` users, each call retried up to the policy's ``io_retries``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from orgconnect.domain.connection_credentials import ConnectionNeedsReauthorization, CredentialsMissing
from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.domain.provider_model import ProviderError
from orgconnect.observability import logger
from orgconnect.workers.provisioning_reconcile import ReconcileOutcome, reconcile_connection

if TYPE_CHECKING:
    from orgconnect.domain.conferencing import DirectoryUser
    from orgconnect.domain.conferencing_connections import ManagedConnection
    from orgconnect.domain.provisioning_policy import ProvisioningPolicy
    from orgconnect.workers.provisioning import Provisioner

#: Users removed in one request (API Gateway's 29 s: a removal is one or two Zoom calls).
MAX_REMOVALS = 50


class StoredDirectory(Protocol):
    """``DynamoDirectory.users``: the connection's users as last listed or provisioned."""

    def users(self, connection_id: str) -> list[DirectoryUser]: ...


def remove_on_policy_removal(
    provisioner: Provisioner,
    directory: StoredDirectory,
    connection: ManagedConnection,
    policy: ProvisioningPolicy,
) -> ReconcileOutcome:
    """Remove what orgconnect created through ``connection`` when ``policy`` (the one turned off)
    has ``deprovision_on_policy_removal``; nothing otherwise. Never raises for a provider or
    credentials failure (logged; the removal is not tried again)."""
    if not policy.deprovision_on_policy_removal:
        return ReconcileOutcome([])
    try:
        outcome = reconcile_connection(
            provisioner,
            connection,
            [],
            directory.users(connection.connection_id),
            policy_removed=True,
            policy=policy,
            max_actions=MAX_REMOVALS,
        )
    except (
        ProviderError,
        TemporarilyUnavailable,
        ConnectionNeedsReauthorization,
        CredentialsMissing,
    ) as problem:
        logger.warning(
            "provisioned users not removed",
            extra={"connection_id": connection.connection_id, "why": type(problem).__name__},
        )
        return ReconcileOutcome([])
    logger.info(
        "provisioned users removed on policy removal",
        extra={"connection_id": connection.connection_id, "removed": len(outcome.events)},
    )
    return outcome
