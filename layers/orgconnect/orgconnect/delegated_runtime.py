"""Wiring of delegated access (the API function, the worker, token and userinfo reads): the
DynamoDB and SQS repositories, the provider directory and callback delivery, from the shared
clients of :mod:`orgconnect.runtime`. Like it, it imports neither the web layer nor a function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orgconnect import runtime, settings

if TYPE_CHECKING:
    from orgconnect.domain.accounts import CalendarTenant
    from orgconnect.providers.conferencing import ConferencingAdapter
    from orgconnect.providers.connection_tokens import ConnectionAccessTokens
    from orgconnect.store.accounts import DynamoAccounts, SqsDelegatedAccessQueue
    from orgconnect.store.conferencing_profiles import DynamoConferencingProfiles
    from orgconnect.store.directory import DynamoDirectory
    from orgconnect.store.provisioning_departures import SqsAccountDepartures
    from orgconnect.workers.delegated_access import DelegatedAccessWorker
    from orgconnect.workers.directory_sync import ConferencingMatcher
    from orgconnect.workers.notifications import NotificationsWorker
    from orgconnect.workers.provisioning import Provisioner
    from orgconnect.workers.provisioning_departures import DepartureWorker


def delegated_access_queue() -> SqsDelegatedAccessQueue:
    """The queue the API fills (SendMessageBatch)."""
    from orgconnect.store.accounts import SqsDelegatedAccessQueue

    return SqsDelegatedAccessQueue(
        runtime.get_sqs_client(), settings.load(settings.DelegatedAccessSettings).queue_url
    )


def calendar_tenant(service_account_id: str) -> CalendarTenant | None:
    """The service account behind a service-account token, with its delegated_scope (one GetItem)."""
    from orgconnect.store.accounts import DynamoCalendarTenants

    return DynamoCalendarTenants(runtime.get_store()).get(service_account_id)


def accounts() -> DynamoAccounts:
    """Accounts (token redemption's linking_profile, userinfo)."""
    from orgconnect.store.accounts import DynamoAccounts

    return DynamoAccounts(runtime.get_store(), clock=lambda: runtime.now())


def worker() -> DelegatedAccessWorker:
    """The worker's ports for one batch."""
    from orgconnect.providers.directory import ProviderDirectory
    from orgconnect.store.accounts import DynamoCalendarTenants
    from orgconnect.workers.callbacks import CallbackPolicy, deliver_callback
    from orgconnect.workers.delegated_access import DelegatedAccessWorker

    delegated = settings.load(settings.DelegatedAccessSettings)
    policy = CallbackPolicy(
        attempts=delegated.callback_attempts,
        backoff_initial=delegated.callback_backoff_seconds,
        timeout=delegated.callback_timeout_seconds,
    )
    vault = runtime.get_service_account_vault()
    directory = ProviderDirectory(runtime.get_providers(), read_secret=vault.read, write_secret=vault.replace)
    return DelegatedAccessWorker(
        tenants=DynamoCalendarTenants(runtime.get_store()),
        directory=directory,
        accounts=accounts(),
        hasher=runtime.get_hasher(),
        deliver=lambda url, body: deliver_callback(url, body, policy=policy),
        now=lambda: runtime.now(),
        code_ttl_seconds=settings.load(settings.FlowSettings).authorization_code_ttl_seconds,
        matcher=conferencing_matcher(),
        provisioner=provisioner(),
    )


def conferencing_profiles() -> DynamoConferencingProfiles:
    """Accounts' conferencing profiles and the OU's connections (userinfo, meetings, matching)."""
    from orgconnect.store.conferencing_profiles import DynamoConferencingProfiles

    return DynamoConferencingProfiles(runtime.get_store())


def conferencing_directory() -> DynamoDirectory:
    """The connections' user directories (matching, provider webhooks)."""
    from orgconnect.store.directory import DynamoDirectory

    return DynamoDirectory(runtime.get_store())


def conferencing_adapter(name: str, access_token: str, tenant: str | None) -> ConferencingAdapter:
    """The conferencing adapter of a connection, with one of its access tokens."""
    from orgconnect.domain.provider_model import ProviderTokens

    return runtime.get_providers().conferencing(
        name, ProviderTokens(access_token=access_token), tenant=tenant
    )


def conferencing_matcher() -> ConferencingMatcher:
    """Matching with the connections' directories synced once (the worker)."""
    from orgconnect import sync_runtime
    from orgconnect.store.sync_state import DynamoSyncDirectory
    from orgconnect.workers.directory_sync import ConferencingMatcher

    return ConferencingMatcher(
        profiles=conferencing_profiles(),
        directory=DynamoSyncDirectory(runtime.get_store(), clock=lambda: runtime.now()),
        tokens=connection_tokens(),
        adapters=conferencing_adapter,
        notifications=runtime.get_notification_publisher(),
        first_sync=sync_runtime.first_sync,
    )


def notifications_worker() -> NotificationsWorker:
    """The notifications worker's ports (docs/notifications.md)."""
    from orgconnect.store.notifications import DynamoDeliveryMarkers, DynamoNotificationDestinations
    from orgconnect.workers.callbacks import CallbackPolicy
    from orgconnect.workers.notifications import NotificationsWorker, post_signed

    notifications = settings.load(settings.NotificationSettings)
    policy = CallbackPolicy(
        attempts=notifications.attempts,
        backoff_initial=notifications.backoff_seconds,
        timeout=notifications.timeout_seconds,
    )
    return NotificationsWorker(
        destinations=DynamoNotificationDestinations(runtime.get_store(), runtime.get_sealer),
        markers=DynamoDeliveryMarkers(runtime.get_store(), clock=lambda: runtime.now()),
        post=lambda url, body, headers: post_signed(url, body, headers, policy=policy),
        now=lambda: runtime.now(),
        allow_loopback=notifications.allow_loopback,
    )


def provisioner() -> Provisioner:
    """Zoom provisioning per each connection's policy (the worker; the reconcile)."""
    from orgconnect.domain.provider_model import ProviderTokens
    from orgconnect.providers.zoom_users import ZoomUsers
    from orgconnect.store.provisioning_events import DynamoProvisioningEvents
    from orgconnect.store.provisioning_policy import DynamoProvisioningPolicies
    from orgconnect.workers.provisioning import Provisioner

    def users(access_token: str, io_retries: int) -> ZoomUsers:
        api = runtime.get_providers().api_client("zoom", ProviderTokens(access_token=access_token))
        return ZoomUsers(api, io_retries=io_retries)

    store = runtime.get_store()
    return Provisioner(
        profiles=conferencing_profiles(),
        policies=DynamoProvisioningPolicies(store),
        directory=conferencing_directory(),
        tokens=connection_tokens(),
        users=users,
        log=DynamoProvisioningEvents(store),
        now=lambda: runtime.now(),
    )


def connection_tokens() -> ConnectionAccessTokens:
    """Access tokens of conferencing connections, Server-to-Server ones included (matching and
    provisioning): ``account_credentials`` with the app of the connection's secret, else the refresh."""
    from orgconnect.domain.model import ProviderApp
    from orgconnect.providers.connection_tokens import ConnectionAccessTokens
    from orgconnect.providers.zoom import ZoomApi

    providers = settings.load(settings.ProviderSettings)

    def zoom_api(app: ProviderApp) -> ZoomApi:
        return ZoomApi(app, base_url=providers.provider_url_overrides.get("zoom"))

    return ConnectionAccessTokens(
        runtime.connection_credentials(),
        read_secret=runtime.get_connection_vault().read,
        zoom_api=zoom_api,
        cache=_SERVER_TO_SERVER_TOKENS,
    )


#: Server-to-Server access tokens by connection id, for the life of the process (an hour each).
_SERVER_TO_SERVER_TOKENS: dict[str, tuple[str, float]] = {}


def account_departures() -> SqsAccountDepartures:
    """Where a revocation with ``request_pii_erasure`` queues the account's departure."""
    from orgconnect.store.provisioning_departures import SqsAccountDepartures

    return SqsAccountDepartures(
        runtime.get_sqs_client(), settings.load(settings.DelegatedAccessSettings).queue_url
    )


def departures() -> DepartureWorker:
    """The worker's handler of account departures (Zoom users removed per policy)."""
    from orgconnect.store.accounts import DynamoCalendarTenants
    from orgconnect.store.provisioning_departed import DynamoDepartedAccounts
    from orgconnect.workers.provisioning_departures import DepartureWorker

    return DepartureWorker(
        accounts=accounts(),
        tenants=DynamoCalendarTenants(runtime.get_store()),
        provisioner=provisioner(),
        departed=DynamoDepartedAccounts(runtime.get_store()),
    )
