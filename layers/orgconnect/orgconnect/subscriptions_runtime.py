"""The wiring of Teams and Meet user-change subscriptions (domain/webhooks_subscriptions.py):
the store, the provider side with each connection's live credentials, and the entry points the
flow (link time), the connection API (removal), the webhook function and the scheduled
reconcile (renewal) call. Everything loads on first use."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from orgconnect import delegated_runtime, runtime, settings

if TYPE_CHECKING:
    from orgconnect.domain.model import Connection
    from orgconnect.domain.webhooks_subscriptions import (
        RenewalOutcome,
        Subscription,
        WatchedConnection,
    )
    from orgconnect.providers.user_subscriptions import ProviderUserSubscriptions
    from orgconnect.store.webhook_subscriptions import DynamoSubscriptions


def now_ms() -> int:
    """Milliseconds since the epoch: a notified user's read is stamped with it, and two changes
    of one user seconds apart must not share a time (runtime.now() is whole seconds)."""
    return time.time_ns() // 1_000_000


def subscriptions() -> DynamoSubscriptions:
    """The subscriptions and their connections (one table)."""
    from orgconnect.store.webhook_subscriptions import DynamoSubscriptions

    return DynamoSubscriptions(runtime.get_store(), clock=lambda: runtime.now())


def subscription_api() -> ProviderUserSubscriptions:
    """Graph and Google Directory calls with the connection's credentials (refreshed as needed)."""
    from orgconnect.providers.user_subscriptions import ProviderUserSubscriptions

    timeout = settings.load(settings.ProviderSettings).provider_timeout_seconds
    return ProviderUserSubscriptions(
        delegated_runtime.connection_tokens(), runtime.get_providers, timeout=timeout
    )


def subscribe_connection(connection: WatchedConnection, api_url: str) -> Subscription:
    """Create the connection's subscription now (link time); raises on any failure."""
    from orgconnect.domain.webhooks_subscriptions import subscribe

    return subscribe(
        connection, api=subscription_api(), store=subscriptions(), api_url=api_url, now=runtime.now()
    )


def unsubscribe_connection(connection: WatchedConnection) -> Subscription | None:
    """Delete the connection's subscription (its removal); raises on a provider failure."""
    from orgconnect.domain.webhooks_subscriptions import unsubscribe

    return unsubscribe(connection, api=subscription_api(), store=subscriptions())


def renew_subscriptions(now: int, api_url: str | None = None) -> RenewalOutcome:
    """Extend (or replace) every subscription that expires within three days: what the scheduled
    reconcile calls, ``subscriptions_runtime.renew_subscriptions(runtime.now())`` (a replacement
    goes to the URL its predecessor used unless ``api_url`` is given)."""
    from orgconnect.domain.webhooks_subscriptions import renew_subscriptions as renew

    store = subscriptions()
    return renew(now, api=subscription_api(), store=store, connections=store, api_url=api_url)


def subscribe_linked_connection(connection: Connection, api_url: str) -> None:
    """Link time (the flow's consent step): subscribe a Teams or Meet connection to its users'
    changes. Best effort: a failure is logged and the scheduled reconcile covers the gap."""
    from orgconnect.domain.webhooks_subscriptions import WatchedConnection, subscribes
    from orgconnect.observability import logger

    if not subscribes(connection.provider_name):
        return
    watched = WatchedConnection(
        connection.connection_id,
        connection.provider_name,
        connection.provider_account_id,
        connection.secret_arn,
    )
    try:
        subscription = subscribe_connection(watched, api_url)
    except Exception as error:  # best effort: the link stands without notifications
        logger.warning(
            "user-change subscription not created",
            extra={
                "connection_id": connection.connection_id,
                "error": type(error).__name__,
                # The provider's error code and status (never a token or a URL with one).
                "provider_error": getattr(error, "error", None),
                "status": getattr(error, "status", None),
            },
        )
        return
    logger.info(
        "user-change subscription created",
        extra={
            "connection_id": connection.connection_id,
            "subscription_id": subscription.subscription_id,
            "expires_at": subscription.expires_at,
        },
    )


def unsubscribe_removed_connection(connection: WatchedConnection) -> None:
    """Removal: delete the connection's subscription at the provider. Best effort: a failure is
    logged (the subscription expires; its notifications find no connection)."""
    from orgconnect.observability import logger

    try:
        unsubscribe_connection(connection)
    except Exception as error:  # the removal must go on: the credentials are deleted next
        logger.warning(
            "user-change subscription not deleted",
            extra={
                "connection_id": connection.connection_id,
                "error": type(error).__name__,
                "provider_error": getattr(error, "error", None),
                "status": getattr(error, "status", None),
            },
        )
