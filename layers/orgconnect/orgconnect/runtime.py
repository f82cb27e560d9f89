"""Process-wide dependencies, built once per cold start on first use and shared by every request."""

from __future__ import annotations

import os
import time
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools.utilities import parameters
from botocore.config import Config

from orgconnect import settings
from orgconnect.domain.secrets import SecretHasher
from orgconnect.store.dynamodb import DynamoStore
from orgconnect.store.vault import load_pepper

# What only the browser flow uses is imported by its getters: the API functions never load it.
if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_secretsmanager import SecretsManagerClient

    from orgconnect.domain.conferencing_connections import ConnectionManagement, ManagedConnection
    from orgconnect.domain.connection_credentials import ConnectionCredentials
    from orgconnect.domain.model import Connection, ProviderApp
    from orgconnect.domain.notifications import NotificationPublisher
    from orgconnect.domain.ports import FlowDependencies
    from orgconnect.domain.provisioning_policy import PendingRemoval, ProvisioningPolicy, StoredPolicy
    from orgconnect.domain.provisioning_policy_management import PolicyManagement
    from orgconnect.domain.relink import RelinkStore
    from orgconnect.domain.sealing import Sealer
    from orgconnect.providers.connection_tokens import ProviderConnectionTokens
    from orgconnect.providers.registry import ProviderRegistry
    from orgconnect.store.clients import DynamoClients
    from orgconnect.store.enterprise_connect import DynamoEnterpriseConnect, ServiceAccountDetailsReader
    from orgconnect.store.flow_state import DynamoFlowState
    from orgconnect.store.link_tokens import DynamoLinkTokens
    from orgconnect.store.organization import DynamoConnections
    from orgconnect.store.ou_views import OrganizationalUnitViews
    from orgconnect.store.provisioning_events import DynamoProvisioningEvents
    from orgconnect.store.tokens import TokenStore
    from orgconnect.store.vault import ConnectionVault

# Fail fast inside API Gateway's 29 s budget; botocore's standard mode retries throttling for us.
_AWS_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})


def now() -> int:
    """Seconds since the epoch (the one clock of the service, so tests can replace it)."""
    return int(time.time())


@lru_cache(maxsize=1)
def get_store() -> DynamoStore:
    # The clock is looked up on each call, so tests can move time by replacing ``runtime.now``.
    return DynamoStore(
        settings.load(settings.TableSettings).table_name,
        boto3.client("dynamodb", config=_AWS_CONFIG),
        clock=lambda: now(),
    )


@lru_cache(maxsize=1)
def get_secrets_client() -> SecretsManagerClient:
    # One client of boto3's default session for every secret: it shares botocore's loaded data.
    return boto3.client("secretsmanager", config=_AWS_CONFIG)


def get_sqs_client() -> Any:
    """The SQS client of the current endpoint and region (the sync, delegated-access and departure queues)."""
    return _sqs_client(os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_REGION"))


@cache
def _sqs_client(endpoint: str | None, region: str | None) -> Any:
    # Keyed by the endpoint and region so that a test or dev stack that moves them gets a new client.
    make: Any = boto3.client
    return make("sqs", config=_AWS_CONFIG)


@lru_cache(maxsize=1)
def get_hasher() -> SecretHasher:
    pepper_secret_id = settings.load(settings.PepperSettings).pepper_secret_id
    return SecretHasher(load_pepper(pepper_secret_id, client=get_secrets_client()))


def get_clients() -> DynamoClients:
    """Integrator applications and their API keys (ClientStore)."""
    from orgconnect.store.clients import DynamoClients

    return DynamoClients(get_store())


def get_link_tokens() -> DynamoLinkTokens:
    """OU link tokens by digest (LinkTokenStore)."""
    from orgconnect.store.link_tokens import DynamoLinkTokens

    return DynamoLinkTokens(get_store())


@lru_cache(maxsize=1)
def get_flow_state() -> DynamoFlowState:
    from orgconnect.store.flow_state import DynamoFlowState

    return DynamoFlowState(get_store(), clock=lambda: now())


@lru_cache(maxsize=1)
def get_token_store() -> TokenStore:
    """Codes, grants and tokens (the token and userinfo functions)."""
    from orgconnect.store.tokens import TokenStore

    return TokenStore.sharing(get_store())


@lru_cache(maxsize=1)
def get_organizational_unit_views() -> OrganizationalUnitViews:
    """The OU read model of userinfo and ``GET /v1/organizational_unit``."""
    from orgconnect.store.ou_views import OrganizationalUnitViews

    return OrganizationalUnitViews.sharing(get_store())


@lru_cache(maxsize=1)
def get_sealer() -> Sealer:
    from orgconnect.store.vault import load_sealer

    return load_sealer(
        settings.load(settings.VaultSettings).encryption_keys_secret_id, client=get_secrets_client()
    )


@lru_cache(maxsize=1)
def get_providers() -> ProviderRegistry:
    from orgconnect.providers.registry import ProviderRegistry
    from orgconnect.store.vault import load_provider_apps

    providers = settings.load(settings.ProviderSettings)
    return ProviderRegistry(
        load_provider_apps(providers.provider_apps_secret_id, client=get_secrets_client()),
        overrides=providers.provider_url_overrides,
        timeout=providers.provider_timeout_seconds,
    )


@lru_cache(maxsize=1)
def get_connection_vault() -> ConnectionVault:
    from orgconnect.store.vault import ConnectionVault

    return ConnectionVault(
        get_secrets_client(),
        prefix=settings.load(settings.VaultSettings).connection_secret_prefix,
    )


@lru_cache(maxsize=1)
def get_service_account_vault() -> ConnectionVault:
    """Enterprise Connect's admin credentials: one secret per service account."""
    from orgconnect.store.vault import ConnectionVault

    return ConnectionVault(
        get_secrets_client(),
        prefix=settings.load(settings.VaultSettings).service_account_secret_prefix,
    )


def get_enterprise_connect() -> DynamoEnterpriseConnect:
    from orgconnect.store.enterprise_connect import DynamoEnterpriseConnect

    return DynamoEnterpriseConnect(get_store(), clock=lambda: now())


@lru_cache(maxsize=1)
def get_service_account_details() -> ServiceAccountDetailsReader:
    """The service account behind a service-account token (userinfo)."""
    from orgconnect.store.enterprise_connect import ServiceAccountDetailsReader

    return ServiceAccountDetailsReader.sharing(get_store())


@lru_cache(maxsize=1)
def get_provider_apps() -> dict[str, ProviderApp]:
    """orgconnect's apps at the providers (the webhook function reads their webhook secret tokens)."""
    from orgconnect.store.vault import load_provider_apps

    secret_id = settings.load(settings.ProviderSettings).provider_apps_secret_id
    return load_provider_apps(secret_id, client=get_secrets_client())


@lru_cache(maxsize=1)
def get_account_connections() -> DynamoConnections:
    """Connections by provider account (provider webhooks)."""
    from orgconnect.store.organization import DynamoConnections

    return DynamoConnections(get_store())


@lru_cache(maxsize=1)
def get_connection_tokens() -> ProviderConnectionTokens:
    """The refresh grant and the linked-connection test, with orgconnect's provider apps."""
    from orgconnect.providers.connection_tokens import ProviderConnectionTokens

    return ProviderConnectionTokens(
        get_providers, timeout=settings.load(settings.ProviderSettings).provider_timeout_seconds
    )


@lru_cache(maxsize=1)
def get_notification_publisher() -> NotificationPublisher:
    """Queues integrator notifications (docs/notifications.md); a no-op without a queue."""
    from orgconnect.domain.notifications import NO_NOTIFICATIONS

    queue_url = settings.load(settings.NotificationSettings).queue_url
    if not queue_url:
        return NO_NOTIFICATIONS
    from orgconnect.store.notifications_queue import SqsNotificationPublisher

    sqs = boto3.client("sqs", config=_AWS_CONFIG)
    return SqsNotificationPublisher(get_store(), sqs, queue_url, clock=lambda: now())


def connection_credentials() -> ConnectionCredentials:
    """Valid access tokens for conferencing connections, refreshed once per connection at a time
    (the lease outlives the longest refresh the provider client can make)."""
    from orgconnect.domain.connection_credentials import ConnectionCredentials, CredentialPolicy
    from orgconnect.providers.connection_tokens import refresh_seconds
    from orgconnect.store.conferencing_connections import DynamoConferencingConnections
    from orgconnect.store.connection_leases import DynamoConnectionLeases

    timeout = settings.load(settings.ProviderSettings).provider_timeout_seconds
    return ConnectionCredentials(
        vault=get_connection_vault(),
        leases=DynamoConnectionLeases(get_store()),
        statuses=DynamoConferencingConnections(get_store(), clock=lambda: now()),
        refresher=get_connection_tokens(),
        clock=lambda: float(now()),
        policy=CredentialPolicy(lease_seconds=max(30, int(refresh_seconds(timeout)) + 5)),
        notifications=get_notification_publisher(),
    )


def reset() -> None:
    """Forget every cached dependency (tests, and the dev stack after it reseeds)."""
    for cached in (
        get_store,
        get_secrets_client,
        get_hasher,
        get_flow_state,
        get_token_store,
        get_organizational_unit_views,
        get_sealer,
        get_providers,
        get_connection_vault,
        get_service_account_vault,
        get_service_account_details,
        get_provider_apps,
        get_account_connections,
        get_connection_tokens,
        get_notification_publisher,
    ):
        cached.cache_clear()
    settings.reset()
    # Secrets are read through Powertools, whose default providers keep a boto3 client (bound to
    # the endpoint and credentials of the moment) and the values it read.
    parameters.clear_caches()  # type: ignore[no-untyped-call]


def flow_dependencies() -> FlowDependencies:
    """The browser flow's dependencies for one request (``now`` is read per request)."""
    from orgconnect.domain.ports import FlowDependencies
    from orgconnect.store.approvals import DynamoApprovals
    from orgconnect.store.organization import DynamoConnections, DynamoOrganizationalUnits
    from orgconnect.store.service_accounts import DynamoServiceAccounts

    flow = settings.load(settings.FlowSettings)
    store = get_store()
    return FlowDependencies(
        flow_state=get_flow_state(),
        service_accounts=DynamoServiceAccounts(store),
        organizational_units=DynamoOrganizationalUnits(store),
        connections=DynamoConnections(store),
        approvals=DynamoApprovals(store, clock=lambda: now()),
        hasher=get_hasher(),
        app_url=flow.app_url,
        code_ttl_seconds=flow.authorization_code_ttl_seconds,
        now=now(),
        load_sealer=get_sealer,
        load_providers=get_providers,
        load_vault=get_connection_vault,
        load_enterprise_connect=get_enterprise_connect,
        load_service_account_vault=get_service_account_vault,
        load_relink=lambda: _relink(store),
        load_notifications=get_notification_publisher,
        request_connection_sync=_sync_requester(),
        subscribe_user_changes=_subscribe_user_changes,
    )


def _subscribe_user_changes(connection: Connection, api_url: str) -> None:
    from orgconnect.subscriptions_runtime import subscribe_linked_connection

    subscribe_linked_connection(connection, api_url)


def _relink(store: DynamoStore) -> RelinkStore:
    from orgconnect.store.relink import DynamoRelink

    return DynamoRelink(store)


def _sync_requester() -> Callable[[str], bool] | None:
    """Queues a linked connection's sync (docs/sync.md), when this function has the sync queue."""
    from orgconnect import sync_runtime

    return sync_runtime.sync_requester()


def connection_management() -> ConnectionManagement:
    """The OU-token connection API's ports for one request (``now`` is read per request)."""
    from orgconnect.domain.conferencing_connections import ConnectionManagement
    from orgconnect.providers.connection_clients import ProviderConnectionClients
    from orgconnect.store.conferencing_connections import DynamoConferencingConnections

    providers = settings.load(settings.ProviderSettings)

    def apps() -> dict[str, ProviderApp]:
        # Only removing a browser-linked connection reads orgconnect's provider apps (to revoke).
        from orgconnect.store.vault import load_provider_apps

        return load_provider_apps(providers.provider_apps_secret_id, client=get_secrets_client())

    clients = ProviderConnectionClients(
        overrides=providers.provider_url_overrides, timeout=providers.provider_timeout_seconds, load_apps=apps
    )
    return ConnectionManagement(
        connections=DynamoConferencingConnections(get_store(), clock=lambda: now()),
        secrets=get_connection_vault(),
        checker=clients,
        revoker=clients,
        now=now(),
        credentials=connection_credentials(),
        linked_checker=get_connection_tokens(),
        unsubscribe=_unsubscribe_user_changes,
        request_sync=_sync_requester(),
        before_removal=_before_connection_removed,
    )


def _unsubscribe_user_changes(connection: ManagedConnection) -> None:
    from orgconnect.domain.webhooks_subscriptions import WatchedConnection, subscribes
    from orgconnect.subscriptions_runtime import unsubscribe_removed_connection

    if subscribes(connection.provider_name):
        unsubscribe_removed_connection(
            WatchedConnection(
                connection.connection_id,
                connection.provider_name,
                connection.provider_account_id,
                connection.secret_arn,
            )
        )


def _before_connection_removed(connection: ManagedConnection) -> None:
    from orgconnect import provisioning_runtime

    provisioning_runtime.before_connection_removed(connection)


def _on_policy_turned_off(
    connection_id: str, previous: ProvisioningPolicy, stored: StoredPolicy
) -> PendingRemoval | None:
    from orgconnect import provisioning_runtime

    return provisioning_runtime.on_policy_turned_off(connection_id, previous, stored)


def policy_management() -> PolicyManagement:
    """The provisioning-policy routes' ports for one request (``now`` is read per request)."""
    from orgconnect.domain.provisioning_policy_management import PolicyManagement
    from orgconnect.store.provisioning_policy import DynamoProvisioningPolicies

    return PolicyManagement(
        policies=DynamoProvisioningPolicies(get_store()), now=now(), on_policy_removed=_on_policy_turned_off
    )


def provisioning_event_log() -> DynamoProvisioningEvents:
    """The provisioning log (``GET /v1/organizational_unit/provisioning_events``)."""
    from orgconnect.store.provisioning_events import DynamoProvisioningEvents

    return DynamoProvisioningEvents(get_store())
