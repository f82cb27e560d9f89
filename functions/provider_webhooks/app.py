"""POST /webhooks/{provider}: signed events from the providers about orgconnect's app (docs/webhooks.md).

Zoom so far: the ``endpoint.url_validation`` challenge, ``app_deauthorized`` (the account's
connections become ``revoked`` and their credentials are deleted) and user events (the account's
connections' directory items and matched profiles are updated).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from orgconnect import delegated_runtime, runtime, settings, subscriptions_runtime
from orgconnect.observability import observed
from orgconnect.web.api import create_api
from orgconnect.web.errors import documented_errors
from orgconnect.web.provider_notifications import UserNotificationPorts
from orgconnect.web.provider_webhooks import (
    EVENT_BODY,
    WEBHOOK_RESPONSES,
    WebhookDependencies,
    receive,
)

settings.validate(settings.WORKER_FUNCTION)
app = create_api()
PATH = "/webhooks/<provider>"


def _secret_token(provider: str) -> str | None:
    app_at_provider = runtime.get_provider_apps().get(provider)
    return app_at_provider.webhook_secret_token if app_at_provider else None


def _user_notifications() -> UserNotificationPorts:
    """Teams and Meet notifications: subscriptions, the provider read, the user-change path."""
    store = subscriptions_runtime.subscriptions()
    return UserNotificationPorts(
        subscriptions=store,
        connections=store,
        api=subscriptions_runtime.subscription_api(),
        links=runtime.get_account_connections(),
        directory=delegated_runtime.conferencing_directory(),
        profiles=delegated_runtime.conferencing_profiles(),
        notifications=runtime.get_notification_publisher(),
        now_ms=subscriptions_runtime.now_ms(),
    )


@app.post(
    PATH,
    summary="Events from a provider about orgconnect's app",
    description=(
        "Zoom (`provider` = `zoom`) signs each delivery with `x-zm-signature` and "
        "`x-zm-request-timestamp` (HMAC-SHA256 with the app's webhook secret token over "
        "`v0:{timestamp}:{body}`, at most 5 minutes old); anything else is 401. "
        "`endpoint.url_validation` is answered with `{plainToken, encryptedToken}`; "
        "`app_deauthorized` revokes the account's connections and deletes their credentials; "
        "user events update the directory and the matched conferencing profiles (older or "
        "replayed events change nothing). Microsoft (`microsoft`): Graph change notifications "
        "of the Teams connections' `users` subscriptions (`?validationToken=` is echoed as "
        "text/plain; each entry's `clientState` must be the subscription's; 202). Google "
        "(`google`): Directory push notifications (`X-Goog-Channel-ID`, `X-Goog-Channel-Token`, "
        "`X-Goog-Resource-State`). The notified user is read again and applied. Other providers: 404."
    ),
    tags=["Provider webhooks"],
    responses={**WEBHOOK_RESPONSES, **documented_errors(400, 401, 429, 503)},
)
def provider_webhook(provider: str) -> Response[Any]:
    deps = WebhookDependencies(
        load_secret_token=_secret_token,
        load_connections=runtime.get_account_connections,
        load_vault=runtime.get_connection_vault,
        load_directory=delegated_runtime.conferencing_directory,
        load_profiles=delegated_runtime.conferencing_profiles,
        now=runtime.now(),
        load_notifications=runtime.get_notification_publisher,
        load_user_notifications=_user_notifications,
    )
    return receive(deps, app.current_event, provider)


app.document_body("post", "/webhooks/{provider}", EVENT_BODY)
app.document_security("post", "/webhooks/{provider}", "zoomWebhookSignature")


@observed(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
