"""Wiring of connection syncs (docs/sync.md): the job over DynamoDB, the connections' live
credentials and the provider adapters, and the queue. Like :mod:`orgconnect.runtime`, it imports
neither the web layer nor a function; stores are imported when first used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from orgconnect import runtime, settings
from orgconnect.observability import logger

if TYPE_CHECKING:
    from orgconnect.domain.bulk_matching import ProfileChange
    from orgconnect.domain.conferencing_connections import ManagedConnection
    from orgconnect.domain.directory_sync import SyncState
    from orgconnect.providers.conferencing import ConferencingAdapter
    from orgconnect.store.connection_sync import SqsConnectionSyncQueue
    from orgconnect.workers.connection_sync import ConnectionSyncJob, SyncLimits


def sync_queue() -> SqsConnectionSyncQueue:
    """The connection sync queue (its URL from ORGCONNECT_CONNECTION_SYNC_QUEUE_URL)."""
    from orgconnect.store.connection_sync import SqsConnectionSyncQueue

    return SqsConnectionSyncQueue(
        runtime.get_sqs_client(), settings.load(settings.ConnectionSyncSettings).queue_url
    )


def request_connection_sync(connection_id: str) -> bool:
    """Queue a sync of a newly linked connection (one SendMessage). Never raises: a link does not
    fail for it (the scheduled reconcile, or the first match, syncs the connection instead)."""
    from orgconnect.domain.errors import TemporarilyUnavailable
    from orgconnect.workers.connection_sync import SyncMessage

    if not settings.load(settings.ConnectionSyncSettings).queue_url:
        return False
    try:
        sync_queue().send(SyncMessage(connection_id).to_message())
    except TemporarilyUnavailable:
        logger.warning("connection sync not queued", extra={"connection_id": connection_id})
        return False
    return True


def sync_requester() -> Callable[[str], bool] | None:
    """:func:`request_connection_sync` when this function has a sync queue, else None."""
    return request_connection_sync if settings.load(settings.ConnectionSyncSettings).queue_url else None


def limits() -> SyncLimits:
    """Chunk sizes from the settings."""
    from orgconnect.workers.connection_sync import SyncLimits

    configured = settings.load(settings.ConnectionSyncSettings)
    return SyncLimits(configured.pages_per_chunk, configured.writes_per_chunk)


#: The connection item's attribute with an operator's Zoom plan (``orgconnect admin set-zoom-plan``).
RATE_PLAN_ATTRIBUTE = "zoom_rate_plan"


def rate_plan(connection: ManagedConnection) -> str:
    """The Zoom plan a connection's sync paces at: the operator's per-connection choice, else the
    deployment's ``ORGCONNECT_ZOOM_RATE_PLAN`` (one GetItem of the connection item)."""
    from orgconnect.store import keys

    item = runtime.get_store().read(keys.connection_key(connection.connection_id)) or {}
    chosen = item.get(RATE_PLAN_ATTRIBUTE)
    if isinstance(chosen, str) and chosen:
        return chosen
    return settings.load(settings.ConnectionSyncSettings).zoom_rate_plan


#: The plan last set on each (provider, account) limiter of this process: set again only when it
#: changes, so a quota learnt from ``X-RateLimit-Limit`` outlives the chunk that learnt it.
_PACED_PLANS: dict[tuple[str, str], str] = {}


def pace(adapter: ConferencingAdapter, connection: ManagedConnection) -> None:
    """Pace a sync's adapter with the process's limiter of the connection's provider account at
    its plan: every chunk in a warm Lambda shares one window per account."""
    api, account = adapter.api, connection.provider_account_id
    if api.key != "zoom":
        api.limit_rate(account)
        return
    plan = rate_plan(connection)
    if _PACED_PLANS.get((api.key, account)) == plan:
        api.limit_rate(account)
        return
    api.limit_rate(account, plan)
    _PACED_PLANS[(api.key, account)] = plan


def notify_profile_changes(connection: ManagedConnection, changes: list[ProfileChange]) -> None:
    """Queue ``profile_connected``/``profile_disconnected`` for the changes that flip a profile's
    connected state, batched. A failure is logged (by the publisher) and does not fail the chunk:
    its profiles are written, a redelivery would find no change to tell (docs/notifications.md)."""
    from orgconnect.domain.errors import TemporarilyUnavailable
    from orgconnect.store.notifications_queue import SqsNotificationPublisher

    publisher = runtime.get_notification_publisher()
    flips = [(c.before, c.after) for c in changes if c.connected_changed]
    if not flips or not isinstance(publisher, SqsNotificationPublisher):
        return
    try:
        publisher.profiles_changed(flips, connection)
    except TemporarilyUnavailable:
        logger.error(
            "sync profile notifications lost",
            extra={"connection_id": connection.connection_id, "count": len(flips)},
        )


def connection_sync_job(
    *,
    on_progress: Callable[[SyncState], None] | None = None,
    limits_: SyncLimits | None = None,
    dry_run: bool = False,
) -> ConnectionSyncJob:
    """The sync job's ports for one invocation (or one CLI run). ``dry_run``: read-only write
    ports and provisioning that only plans (``orgconnect sync --dry-run``)."""
    from orgconnect import delegated_runtime, provisioning_runtime
    from orgconnect.domain.secrets import new_id
    from orgconnect.providers.directory_pages import listing_pages
    from orgconnect.store.bulk_profiles import DynamoBulkProfiles
    from orgconnect.store.conferencing_profiles import DynamoConferencingProfiles
    from orgconnect.store.sync_state import DynamoSyncDirectory
    from orgconnect.workers.connection_sync import ConnectionSyncJob

    store = runtime.get_store()
    directory, profiles = DynamoSyncDirectory(store, clock=lambda: runtime.now()), DynamoBulkProfiles(store)
    return ConnectionSyncJob(
        directory=provisioning_runtime.read_only_directory(directory) if dry_run else directory,
        profiles=provisioning_runtime.read_only_profiles(profiles) if dry_run else profiles,
        connections=DynamoConferencingProfiles(store),
        # OAuth refresh for browser-linked connections, account_credentials for Server-to-Server.
        tokens=delegated_runtime.connection_tokens(),
        adapters=delegated_runtime.conferencing_adapter,
        pages=listing_pages,
        new_id=new_id,
        limits=limits_ or limits(),
        on_progress=on_progress,
        on_profiles_changed=notify_profile_changes,
        pace=pace,
        on_reconciled=provisioning_runtime.sync_provisioning(dry_run=dry_run),
        renew_refresh_token=None if dry_run else renew_refresh_token,
    )


def renew_refresh_token(connection: ManagedConnection) -> None:
    """Refresh a browser-linked connection whose refresh token expires within the renewal margin
    (docs/connections.md); nothing when it is further or unknown. Raises
    ConnectionNeedsReauthorization (expired, or refused) or CredentialsMissing; an outage or a busy
    lease is logged and left to the next sync, well inside the margin."""
    from orgconnect.domain.errors import TemporarilyUnavailable
    from orgconnect.domain.provider_model import ProviderError
    from orgconnect.domain.server_to_server import AuthorizationType

    if connection.authorization_type is AuthorizationType.SERVER_TO_SERVER:
        return  # no refresh token: account_credentials mints each token
    try:
        runtime.connection_credentials().renew_refresh_token(connection)
    except (ProviderError, TemporarilyUnavailable) as error:
        logger.warning(
            "refresh token not renewed",
            extra={"connection_id": connection.connection_id, "why": type(error).__name__},
        )


def first_sync(connection: ManagedConnection) -> bool:
    """A never-listed connection's sync, run here by a first match; False when one runs already."""
    from orgconnect.workers.connection_sync_driver import SyncBusy, run_in_process

    try:
        return run_in_process(connection_sync_job(), connection.connection_id).done
    except SyncBusy:
        return False


def linked_connections() -> list[str]:
    """Every linked connection's id (the scheduled reconcile's fan-out)."""
    from orgconnect.store.connection_sync import DynamoLinkedConnections

    return DynamoLinkedConnections(runtime.get_store()).linked()
