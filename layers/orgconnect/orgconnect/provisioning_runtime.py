"""Wiring of provisioning beyond delegated access (docs/provisioning.md): the hook a sync's
reconcile calls, the read-only ports of a dry run, and the removal of provisioned users when a
policy is turned off or its connection removed. Like :mod:`orgconnect.runtime`, it imports
neither the web layer nor a function; stores and workers are imported when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orgconnect import runtime

if TYPE_CHECKING:
    from orgconnect.domain.conferencing_connections import ManagedConnection
    from orgconnect.domain.provisioning_policy import PendingRemoval, ProvisioningPolicy, StoredPolicy
    from orgconnect.workers.connection_sync_dry_run import (
        ReadOnlyDirectory,
        ReadOnlyProfiles,
        StoredDirectory,
        StoredProfiles,
    )
    from orgconnect.workers.provisioning_removal import RemovalOutcome
    from orgconnect.workers.provisioning_sync import SyncProvisioning


def sync_provisioning(*, dry_run: bool = False) -> SyncProvisioning:
    """``ConnectionSyncJob.on_reconciled``: provisioning after each done reconcile."""
    from orgconnect import delegated_runtime
    from orgconnect.providers.directory import ProviderDirectory
    from orgconnect.store.accounts import DynamoCalendarTenants
    from orgconnect.store.provisioning_departed import DynamoDepartedAccounts
    from orgconnect.store.provisioning_policy import DynamoProvisioningPolicies
    from orgconnect.workers.provisioning_calendar import CalendarDirectoryCheck
    from orgconnect.workers.provisioning_sync import SyncProvisioning

    vault = runtime.get_service_account_vault()
    listing = ProviderDirectory(runtime.get_providers(), read_secret=vault.read, write_secret=vault.replace)
    return SyncProvisioning(
        delegated_runtime.provisioner(),
        DynamoDepartedAccounts(runtime.get_store()),
        calendar=CalendarDirectoryCheck(DynamoCalendarTenants(runtime.get_store()), listing),
        dry_run=dry_run,
        pending_removals=DynamoProvisioningPolicies(runtime.get_store()),
    )


def read_only_directory(directory: StoredDirectory) -> ReadOnlyDirectory:
    """The sync's directory port for a dry run (reads only)."""
    from orgconnect.workers.connection_sync_dry_run import ReadOnlyDirectory

    return ReadOnlyDirectory(directory)


def read_only_profiles(profiles: StoredProfiles) -> ReadOnlyProfiles:
    """The sync's profiles port for a dry run (reads only)."""
    from orgconnect.workers.connection_sync_dry_run import ReadOnlyProfiles

    return ReadOnlyProfiles(profiles)


def remove_provisioned_users(connection: ManagedConnection, policy: ProvisioningPolicy) -> RemovalOutcome:
    """The policy ``policy`` was turned off, or its connection is being removed: remove the users
    orgconnect created through the connection, per its ``remove_action``, as far as a request
    allows (never raises for a provider failure; each action is in the provisioning log)."""
    from orgconnect import delegated_runtime
    from orgconnect.workers.provisioning_removal import remove_on_policy_removal

    return remove_on_policy_removal(
        delegated_runtime.provisioner(), delegated_runtime.conferencing_directory(), connection, policy
    )


def on_policy_turned_off(
    connection_id: str, previous: ProvisioningPolicy, stored: StoredPolicy
) -> PendingRemoval | None:
    """``PolicyManagement.on_policy_removed``: the connection's provisioned users removed per the
    policy that was turned off; what the request leaves is recorded as the policy's pending
    removal (at ``stored``'s version) and a connection sync queued to continue it."""
    from orgconnect import delegated_runtime, sync_runtime
    from orgconnect.domain.provisioning_policy import PendingRemoval
    from orgconnect.observability import logger
    from orgconnect.store.provisioning_policy import DynamoProvisioningPolicies

    connection = delegated_runtime.conferencing_profiles().connection(connection_id)
    if connection is None:
        return None
    if not remove_provisioned_users(connection, previous).unfinished:
        return None
    pending = PendingRemoval(previous, runtime.now())
    policies = DynamoProvisioningPolicies(runtime.get_store())
    if not policies.record_pending_removal(connection_id, pending, version=stored.version):
        return None  # another PUT came first: its policy is what counts
    queued = sync_runtime.request_connection_sync(connection_id)
    logger.warning(
        "provisioned users left: pending removal recorded",
        extra={"connection_id": connection_id, "sync_queued": queued},
    )
    return pending


def before_connection_removed(connection: ManagedConnection) -> None:
    """``ConnectionManagement.before_removal``: a removed connection's provisioned users removed
    per its policy, while its credentials are still in its secret. Bounded by the request; what
    is left stays (its secret is deleted next) and is logged with how many."""
    from orgconnect.observability import logger
    from orgconnect.store.provisioning_policy import DynamoProvisioningPolicies

    subject = DynamoProvisioningPolicies(runtime.get_store()).get(connection.connection_id)
    if subject is None:
        return
    # A pending removal's policy (turned off earlier) still applies; else the one in force.
    pending = subject.stored.pending_removal
    policy = pending.policy if pending is not None else subject.stored.policy
    if not policy.deprovision_on_policy_removal:
        return
    outcome = remove_provisioned_users(connection, policy)
    if outcome.unfinished:
        logger.warning(
            "provisioned users left: the connection is removed",
            extra={
                "connection_id": connection.connection_id,
                "left": outcome.left if outcome.left >= 0 else "unknown",
            },
        )
