"""Wiring of delegated access (the API function, the worker, token and userinfo reads): the
DynamoDB and SQS repositories, the provider directory and callback delivery, from the shared
clients of :mod:`orgconnect.runtime`. Like it, it imports neither the web layer nor a function.
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any

from orgconnect import runtime, settings

if TYPE_CHECKING:
    from orgconnect.domain.accounts import CalendarTenant
    from orgconnect.providers.conferencing import ConferencingAdapter
    from orgconnect.store.accounts import DynamoAccounts, SqsDelegatedAccessQueue
    from orgconnect.store.conferencing_profiles import DynamoConferencingProfiles
    from orgconnect.workers.delegated_access import DelegatedAccessWorker
    from orgconnect.workers.directory_sync import ConferencingMatcher


@cache
def _sqs_client(endpoint: str | None, region: str | None) -> Any:
    # Keyed by the endpoint and region so that a test or dev stack that moves them gets a new client.
    import boto3

    make: Any = boto3.client
    return make("sqs", config=runtime._AWS_CONFIG)


def delegated_access_queue() -> SqsDelegatedAccessQueue:
    """The queue the API fills (SendMessageBatch)."""
    from orgconnect.store.accounts import SqsDelegatedAccessQueue

    client = _sqs_client(os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_REGION"))
    return SqsDelegatedAccessQueue(client, settings.load(settings.DelegatedAccessSettings).queue_url)


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
    )


def conferencing_profiles() -> DynamoConferencingProfiles:
    """Accounts' conferencing profiles and the OU's connections (userinfo, meetings, matching)."""
    from orgconnect.store.conferencing_profiles import DynamoConferencingProfiles

    return DynamoConferencingProfiles(runtime.get_store())


def conferencing_adapter(name: str, access_token: str, tenant: str | None) -> ConferencingAdapter:
    """The conferencing adapter of a connection, with one of its access tokens."""
    from orgconnect.domain.provider_model import ProviderTokens

    return runtime.get_providers().conferencing(
        name, ProviderTokens(access_token=access_token), tenant=tenant
    )


def conferencing_matcher() -> ConferencingMatcher:
    """Matching with the connections' directories synced once (the worker)."""
    from orgconnect import sync_runtime
    from orgconnect.store.directory import DynamoDirectory
    from orgconnect.workers.directory_sync import ConferencingMatcher

    return ConferencingMatcher(
        profiles=conferencing_profiles(),
        directory=DynamoDirectory(runtime.get_store(), clock=lambda: runtime.now()),
        tokens=runtime.connection_credentials(),
        adapters=conferencing_adapter,
        first_sync=sync_runtime.first_sync,
    )
