"""Microsoft Graph change notifications and Google Directory push notifications for users: the
wire shapes, the validation handshake and the secret checks (docs/webhooks.md).

Neither provider signs a delivery. Each subscription (Graph) or channel (Google) carries a
secret orgconnect chose when it subscribed, echoed in every delivery: Graph's ``clientState``
in each ``value[]`` entry, Google's channel token in ``X-Goog-Channel-Token``. Only its SHA-256
digest is stored; a delivery is accepted when the digest of what it carries matches, compared
in constant time. Both notifications only say *which* user changed: orgconnect reads the user
again from the provider (the truth at that moment) before changing anything, so a forged,
replayed or out-of-order notification can at worst cause one extra read.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

from msgspec import Struct

from orgconnect.domain.secrets import new_secret

#: Graph: users subscriptions last at most 41,760 minutes (29 days); we ask for a little less.
GRAPH_USERS_MAX_MINUTES = 41760
GRAPH_SUBSCRIPTION_SECONDS = GRAPH_USERS_MAX_MINUTES * 60 - 3600
GRAPH_CHANGE_TYPES = "updated,deleted"
#: Google: the channel lifetime we ask for (``params.ttl``); Google answers the one it grants.
GOOGLE_CHANNEL_SECONDS = 7 * 24 * 3600
GOOGLE_WATCH_EVENTS = ("update", "delete", "add", "undelete")
#: Renew when less than this is left (the scheduled reconcile runs at least daily).
RENEW_BEFORE_SECONDS = 3 * 24 * 3600
#: Graph's validation token is opaque text; bounded so an echo cannot be abused.
_MAX_VALIDATION_TOKEN = 1024
_MAX_NOTIFICATIONS = 1000
_ID = re.compile(r"[A-Za-z0-9._:@-]{1,128}")
GOOGLE_SYNC = "sync"
GOOGLE_DELETE = "delete"


class NotificationRefused(Exception):
    """Not a delivery of one of our subscriptions (the reason is for the log, never the caller)."""


class MalformedNotification(Exception):
    """A body or header set that is not a notification we can read."""


def new_subscription_secret() -> str:
    """A fresh ``clientState`` / channel token (256 bits, URL-safe; Graph allows 128 characters)."""
    return new_secret(32)


def secret_digest(secret: str) -> str:
    """What is stored of a subscription secret: hex SHA-256 (the secret is random, so unsalted)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(stored_digest: str | None, received: str | None) -> bool:
    """Whether ``received`` is the subscription's secret (constant time)."""
    if not stored_digest or not received:
        return False
    return hmac.compare_digest(stored_digest.encode(), secret_digest(received).encode())


def validation_token(query: Mapping[str, str] | None) -> str | None:
    """Graph's handshake: the ``validationToken`` to echo as text/plain (None: not a handshake)."""
    token = (query or {}).get("validationToken")
    if token is None:
        return None
    if not token or len(token) > _MAX_VALIDATION_TOKEN:
        raise MalformedNotification("the validationToken is empty or too long")
    return token


class GraphNotification(Struct, frozen=True):
    """One ``value[]`` entry: which subscription, its secret, the change and the user's id."""

    subscription_id: str
    client_state: str | None
    change_type: str
    user_id: str


def parse_graph_notifications(body: bytes) -> list[GraphNotification]:
    """``{"value": [{subscriptionId, clientState, changeType, resourceData: {id}}]}``; entries
    without a subscription or a user id are skipped (nothing to apply)."""
    try:
        data = json.loads(body)
    except ValueError as error:
        raise MalformedNotification("the body is not JSON") from error
    entries = data.get("value") if isinstance(data, dict) else None
    if not isinstance(entries, list) or len(entries) > _MAX_NOTIFICATIONS:
        raise MalformedNotification("the body has no value list")
    found: list[GraphNotification] = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        subscription = entry.get("subscriptionId")
        resource = entry.get("resourceData")
        user_id = resource.get("id") if isinstance(resource, dict) else None
        if not isinstance(user_id, str) or not user_id:
            user_id = _user_id_from_resource(entry.get("resource"))
        if not isinstance(subscription, str) or not _ID.fullmatch(subscription) or user_id is None:
            continue
        state = entry.get("clientState")
        change = entry.get("changeType")
        found.append(
            GraphNotification(
                subscription,
                state if isinstance(state, str) else None,
                change if isinstance(change, str) else "updated",
                user_id,
            )
        )
    return found


def _user_id_from_resource(resource: Any) -> str | None:
    """``Users/{id}`` (Graph's ``resource`` of a user notification) -> the id."""
    if not isinstance(resource, str):
        return None
    head, _, tail = resource.partition("/")
    return tail if head.lower() == "users" and _ID.fullmatch(tail) else None


class GoogleNotification(Struct, frozen=True):
    """A Directory push notification: the channel, its token, the state and (not for ``sync``)
    the user's id from the body (the user resource)."""

    channel_id: str
    token: str | None
    resource_state: str
    user_id: str | None

    @property
    def is_sync(self) -> bool:
        """Google's first message on a new channel: acknowledged, nothing to apply."""
        return self.resource_state == GOOGLE_SYNC


def parse_google_notification(headers: Mapping[str, str], body: bytes) -> GoogleNotification:
    """The ``X-Goog-*`` headers (case-insensitive) and the body's user ``id``."""
    lowered = {k.lower(): v for k, v in headers.items()}
    channel = lowered.get("x-goog-channel-id", "")
    state = lowered.get("x-goog-resource-state", "")
    if not _ID.fullmatch(channel) or not state:
        raise NotificationRefused("no channel id or resource state")
    user_id: str | None = None
    if state != GOOGLE_SYNC:
        try:
            data = json.loads(body) if body else {}
        except ValueError as error:
            raise MalformedNotification("the body is not JSON") from error
        value = data.get("id") if isinstance(data, dict) else None
        if not isinstance(value, str) or not _ID.fullmatch(value):
            raise MalformedNotification("the body names no user id")
        user_id = value
    return GoogleNotification(channel, lowered.get("x-goog-channel-token"), state, user_id)
