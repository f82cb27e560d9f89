"""``POST /webhooks/microsoft`` and ``POST /webhooks/google``: user-change notifications of the
subscriptions Teams and Meet connections hold (docs/webhooks.md).

Microsoft: a ``?validationToken=`` request is Graph's handshake, answered 200 text/plain with the
token; otherwise each ``value[]`` entry must name one of our subscriptions and carry its
``clientState``. Google: ``X-Goog-Channel-ID`` must name one of our channels and
``X-Goog-Channel-Token`` be its token; ``sync`` is acknowledged. An accepted notification makes
orgconnect read the user again and apply it (domain/webhooks_subscriptions.py). Graph is answered
202 whatever each entry held (an unknown subscription or a wrong clientState changes nothing and
is logged), so Graph does not retry forged or stale entries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit
from msgspec import Struct

from orgconnect.domain.connection_credentials import ConnectionNeedsReauthorization, CredentialsMissing
from orgconnect.domain.errors import MalformedRequest, TemporarilyUnavailable
from orgconnect.domain.notifications import NotificationPublisher
from orgconnect.domain.provider_model import ProviderError, ProviderUnavailable
from orgconnect.domain.webhooks_graph import (
    MalformedNotification,
    NotificationRefused,
    parse_google_notification,
    parse_graph_notifications,
    secret_matches,
    validation_token,
)
from orgconnect.domain.webhooks_subscriptions import (
    Subscription,
    SubscriptionApi,
    SubscriptionStore,
    WatchedConnections,
    apply_notified_user,
)
from orgconnect.domain.webhooks_users import AccountLinks, ProfileUpdates, UserDirectory
from orgconnect.observability import logger, metrics
from orgconnect.web.errors import json_response

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent


class UserNotificationPorts(Struct, frozen=True):
    """What a notification uses (built by ``orgconnect.runtime``; fakes in unit tests)."""

    subscriptions: SubscriptionStore
    connections: WatchedConnections
    api: SubscriptionApi
    links: AccountLinks
    directory: UserDirectory
    profiles: ProfileUpdates
    notifications: NotificationPublisher
    now_ms: int


def receive_user_notifications(
    load_ports: Callable[[], UserNotificationPorts], event: APIGatewayProxyEvent, provider: str, body: bytes
) -> Response[Any]:
    """Handle one delivery to ``/webhooks/microsoft`` or ``/webhooks/google``."""
    try:
        if provider == "microsoft":
            token = validation_token(event.query_string_parameters)
            if token is not None:
                logger.info("graph subscription validation answered")
                return Response(200, "text/plain", token)
            return _graph(load_ports(), body)
        return _google(load_ports(), event, body)
    except MalformedNotification as malformed:
        logger.warning("notification unreadable", extra={"provider": provider, "reason": str(malformed)})
        raise MalformedRequest(str(malformed)) from None


def _graph(ports: UserNotificationPorts, body: bytes) -> Response[Any]:
    applied: set[tuple[str, str]] = set()
    for note in parse_graph_notifications(body):
        subscription = ports.subscriptions.get("microsoft", note.subscription_id)
        if subscription is None:
            logger.info("graph notification for an unknown subscription", extra={"id": note.subscription_id})
            continue
        if not secret_matches(subscription.secret_digest, note.client_state):
            _refused("microsoft", "the clientState does not match")
            continue
        if (subscription.subscription_id, note.user_id) not in applied:  # one read per user and batch
            applied.add((subscription.subscription_id, note.user_id))
            _apply(ports, subscription, note.user_id, note.change_type)
    return Response(202, "text/plain", "")


def _google(ports: UserNotificationPorts, event: APIGatewayProxyEvent, body: bytes) -> Response[Any]:
    try:
        note = parse_google_notification(dict(event.headers or {}), body)
    except NotificationRefused as refused:
        return _refused("google", str(refused), status=401)
    subscription = ports.subscriptions.get("google", note.channel_id)
    if subscription is None:
        logger.info("google notification for an unknown channel", extra={"id": note.channel_id})
        return json_response(200, {"received": True})
    if not secret_matches(subscription.secret_digest, note.token):
        return _refused("google", "the channel token does not match", status=401)
    if note.is_sync:
        logger.info("google channel sync acknowledged", extra={"id": note.channel_id})
    elif note.user_id is not None:
        _apply(ports, subscription, note.user_id, note.resource_state)
    return json_response(200, {"received": True})


def _refused(provider: str, reason: str, *, status: int | None = None) -> Response[Any]:
    logger.warning("notification refused", extra={"provider": provider, "reason": reason})
    metrics.add_metric(name="WebhooksRefused", unit=MetricUnit.Count, value=1)
    if status is None:
        return Response(202, "text/plain", "")
    return json_response(
        status, {"error": "unauthorized", "error_description": "The notification was not recognized."}
    )


def _apply(ports: UserNotificationPorts, subscription: Subscription, user_id: str, change: str) -> None:
    """Read the user again and apply it. An unreachable provider is a 503 (the provider delivers
    again; a replay is harmless); a refusal or unusable credentials are logged and skipped (the
    scheduled reconcile covers that user)."""
    try:
        outcome = apply_notified_user(
            subscription,
            user_id,
            api=ports.api,
            connections=ports.connections,
            now_ms=ports.now_ms,
            links=ports.links,
            directory=ports.directory,
            profiles=ports.profiles,
            notifications=ports.notifications,
        )
    except ProviderUnavailable as unavailable:
        raise TemporarilyUnavailable(f"{subscription.provider} did not answer") from unavailable
    except (ProviderError, ConnectionNeedsReauthorization, CredentialsMissing) as error:
        logger.warning(
            "notified user not read",
            extra={
                "provider": subscription.provider,
                "connection_id": subscription.connection_id,
                "provider_user_id": user_id,
                "error": type(error).__name__,
                "provider_error": getattr(error, "error", None),
                "status": getattr(error, "status", None),
            },
        )
        return
    # The user's id only: never an email or a name in the log.
    logger.info(
        "user notification applied",
        extra={
            "provider": subscription.provider,
            "change": change,
            "connection_id": subscription.connection_id,
            "provider_user_id": user_id,
            "connections": outcome.connections if outcome else [],
            "profiles_changed": [p.after.profile_id for p in outcome.profiles_changed] if outcome else [],
        },
    )
    metrics.add_metric(name="WebhookEvents", unit=MetricUnit.Count, value=1)
