"""``POST /webhooks/{provider}``: events a provider sends about orgconnect's app (docs/webhooks.md).

Microsoft and Google user-change notifications go to web/provider_notifications.py. Zoom:
every request is verified first (signature over the raw body, a bounded
timestamp window) and refused with 401 otherwise, before its body is even parsed. Then:
``endpoint.url_validation`` is answered, ``app_deauthorized`` revokes the account's connections,
user events update the account's connections' directories and profiles, others are ignored.
Nothing of the body, the headers or the secret is logged.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit
from msgspec import Struct

from orgconnect.domain.catalogue import CONFERENCING
from orgconnect.domain.errors import MalformedRequest
from orgconnect.domain.notifications import NO_NOTIFICATIONS, NotificationPublisher
from orgconnect.domain.ports import CredentialVault
from orgconnect.domain.webhooks import (
    APP_DEAUTHORIZED,
    URL_VALIDATION,
    USER_EVENTS,
    MalformedEvent,
    WebhookRefused,
    ZoomEvent,
    parse_zoom_event,
    url_validation_answer,
    verify_zoom_request,
)
from orgconnect.domain.webhooks_deauthorization import AccountConnections, deauthorize_account
from orgconnect.domain.webhooks_subscriptions import SUBSCRIBING_PROVIDERS
from orgconnect.domain.webhooks_users import ProfileUpdates, UserDirectory, apply_user_event, user_change
from orgconnect.observability import logger, metrics
from orgconnect.web.api import BodySchema
from orgconnect.web.errors import json_response
from orgconnect.web.openapi import json_body
from orgconnect.web.provider_notifications import UserNotificationPorts, receive_user_notifications

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

# The providers that send webhooks, and the connection provider names each one's events concern.
WEBHOOK_PROVIDERS: dict[str, tuple[str, ...]] = {
    "zoom": tuple(o.name for o in CONFERENCING.values() if o.provider_key == "zoom"),
}
RECEIVED = {"received": True}

# The OpenAPI entries of the route (functions/provider_webhooks/app.py).
EVENT_BODY = BodySchema(
    "ZoomWebhookEvent",
    {
        "type": "object",
        "required": ["event"],
        "properties": {
            "event": {"type": "string", "examples": ["app_deauthorized", "endpoint.url_validation"]},
            "event_ts": {"type": "integer", "description": "When it happened, epoch milliseconds"},
            "payload": {
                "type": "object",
                "description": "`account_id` (app_deauthorized, user events); `plainToken` (url_validation)",
            },
        },
    },
)
WEBHOOK_RESPONSES: dict[int, Any] = {
    200: {
        "description": "Received; for `endpoint.url_validation`, the challenge's answer",
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {
                            "type": "object",
                            "required": ["received"],
                            "properties": {"received": {"type": "boolean", "const": True}},
                        },
                        {
                            "type": "object",
                            "required": ["plainToken", "encryptedToken"],
                            "properties": {
                                "plainToken": {"type": "string"},
                                "encryptedToken": {"type": "string", "description": "hex HMAC-SHA256"},
                            },
                        },
                    ]
                }
            },
            "text/plain": {
                "schema": {"type": "string", "description": "Graph's validationToken, echoed (microsoft)"}
            },
        },
    },
    202: {"description": "Graph change notifications received (microsoft): each entry applied or skipped"},
    404: json_body("No webhooks for this provider", "ErrorResponse"),
}


class WebhookDependencies(Struct):
    """What the webhook function uses, built by ``orgconnect.runtime`` (fakes in unit tests).

    Each is loaded on first use: a request for an unknown provider needs none, only a
    deauthorization needs the vault, and only user events the directory and the profiles.
    """

    load_secret_token: Callable[[str], str | None]  # provider -> its app's webhook secret token
    load_connections: Callable[[], AccountConnections]
    load_vault: Callable[[], CredentialVault]
    load_directory: Callable[[], UserDirectory]
    load_profiles: Callable[[], ProfileUpdates]
    now: int
    load_notifications: Callable[[], NotificationPublisher] = lambda: NO_NOTIFICATIONS
    # Teams and Meet user-change notifications (web/provider_notifications.py); None: not offered.
    load_user_notifications: Callable[[], UserNotificationPorts] | None = None


def receive(deps: WebhookDependencies, event: APIGatewayProxyEvent, provider: str) -> Response[Any]:
    """Verify and handle one delivery from ``provider``."""
    if provider in SUBSCRIBING_PROVIDERS and deps.load_user_notifications is not None:
        body = _raw_body(event)
        if body is None:
            raise MalformedRequest("the body could not be decoded")
        return receive_user_notifications(deps.load_user_notifications, event, provider, body)
    if provider not in WEBHOOK_PROVIDERS:
        return json_response(
            404, {"error": "not_found", "error_description": "No webhooks for this provider."}
        )
    secret_token = deps.load_secret_token(provider)
    if not secret_token:
        # The operator's to fix (docs/webhooks.md): every event is refused until then.
        logger.error("webhook refused: no webhook secret token is configured", extra={"provider": provider})
        return _refused()
    try:
        body = _verified_body(secret_token, event, deps.now)
    except WebhookRefused as refused:
        logger.warning("webhook refused", extra={"provider": provider, "reason": str(refused)})
        return _refused()
    try:
        return _handle(secret_token, deps, provider, parse_zoom_event(body))
    except MalformedEvent as malformed:
        logger.warning("webhook unreadable", extra={"provider": provider, "reason": str(malformed)})
        raise MalformedRequest(str(malformed)) from None


def _refused() -> Response[Any]:
    metrics.add_metric(name="WebhooksRefused", unit=MetricUnit.Count, value=1)
    return json_response(
        401, {"error": "unauthorized", "error_description": "The request signature was not recognized."}
    )


def _verified_body(secret_token: str, event: APIGatewayProxyEvent, now: int) -> bytes:
    """The raw body, once its signature and timestamp check out (else WebhookRefused)."""
    body = _raw_body(event)
    verify_zoom_request(
        secret_token=secret_token,
        timestamp=event.headers.get("x-zm-request-timestamp"),
        signature=event.headers.get("x-zm-signature"),
        body=body if body is not None else b"",
        now=now,
    )
    if body is None:
        raise WebhookRefused("the body could not be decoded")
    return body


def _raw_body(event: APIGatewayProxyEvent) -> bytes | None:
    """The exact bytes the provider signed (None when a base64 body does not decode)."""
    if not event.is_base64_encoded:
        return (event.body or "").encode()
    try:
        return base64.b64decode(event.body or "", validate=True)
    except (binascii.Error, ValueError):
        return None


def _handle(secret_token: str, deps: WebhookDependencies, provider: str, event: ZoomEvent) -> Response[Any]:
    metrics.add_metric(name="WebhookEvents", unit=MetricUnit.Count, value=1)
    if event.name == URL_VALIDATION:
        logger.info("webhook url validation answered", extra={"provider": provider})
        return json_response(200, url_validation_answer(secret_token, event))
    if event.name == APP_DEAUTHORIZED:
        return _deauthorized(deps, provider, event)
    if event.name in USER_EVENTS:
        return _user_event(deps, provider, event)
    logger.info("webhook event ignored", extra={"provider": provider, "event": event.name})
    return json_response(200, RECEIVED)


def _deauthorized(deps: WebhookDependencies, provider: str, event: ZoomEvent) -> Response[Any]:
    account_id = event.account_id
    if account_id is None:
        raise MalformedEvent("app_deauthorized has no account_id")
    outcome = deauthorize_account(
        provider_names=WEBHOOK_PROVIDERS[provider],
        account_id=account_id,
        event_time=event.happened_at(default=deps.now),
        connections=deps.load_connections(),
        vault=deps.load_vault(),
        now=deps.now,
        notifications=deps.load_notifications(),
    )
    if not outcome.found:
        logger.info(
            "app deauthorized for an account with no connection",
            extra={"provider": provider, "account_id": account_id},
        )
    else:
        logger.info(
            "app deauthorized: connections revoked",
            extra={
                "provider": provider,
                "account_id": account_id,
                "revoked": outcome.revoked,
                "already_revoked": outcome.already_revoked,
                "relinked_since": outcome.relinked,
                "secrets_deleted": outcome.secrets_deleted,
            },
        )
    metrics.add_metric(name="ConnectionsRevoked", unit=MetricUnit.Count, value=len(outcome.revoked))
    return json_response(200, RECEIVED)


def _user_event(deps: WebhookDependencies, provider: str, event: ZoomEvent) -> Response[Any]:
    """Apply a user event to every connection of its account (domain/webhooks_users.py)."""
    account_id = event.account_id
    change = user_change(event, default_ts=deps.now * 1000)
    if account_id is None or change is None:
        raise MalformedEvent(f"{event.name} has no account_id or user")
    outcome = apply_user_event(
        provider_names=WEBHOOK_PROVIDERS[provider],
        account_id=account_id,
        change=change,
        links=deps.load_connections(),
        directory=deps.load_directory(),
        profiles=deps.load_profiles(),
        notifications=deps.load_notifications(),
    )
    # The user's id only: never an email or a name in the log.
    logger.info(
        "webhook user event applied",
        extra={
            "provider": provider,
            "event": event.name,
            "provider_user_id": change.provider_user_id,
            "connections": outcome.connections,
            "directory_items_changed": outcome.directory_items_changed,
            "profiles_changed": [p.after.profile_id for p in outcome.profiles_changed],
        },
    )
    metrics.add_metric(
        name="ProfilesChangedByWebhooks", unit=MetricUnit.Count, value=len(outcome.profiles_changed)
    )
    return json_response(200, RECEIVED)
