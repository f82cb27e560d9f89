"""The provider side of user-change subscriptions (domain/webhooks_subscriptions.py's
SubscriptionApi), with each connection's own credentials through its conferencing adapter:

- Microsoft Graph: ``POST /v1.0/subscriptions`` (``changeType`` ``updated,deleted`` on
  ``users``, our ``clientState``), ``PATCH`` to extend it, ``DELETE`` to end it, and
  ``GET /v1.0/users/{id}?$select=…`` to read a notified user (Graph sends only the id).
- Google Directory: ``POST /admin/directory/v1/users/watch?customer=my_customer`` (a
  ``web_hook`` channel with our token), ``POST /admin/directory_v1/channels/stop``, and
  ``users.get`` by id. A channel cannot be extended: renewal makes a new one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from orgconnect.domain.catalogue import CONFERENCING
from orgconnect.domain.conferencing import DirectoryUser
from orgconnect.domain.matching import AccessTokens, with_connection_token
from orgconnect.domain.provider_model import ProviderAnswerMalformed, ProviderRefused, ProviderTokens
from orgconnect.domain.secrets import new_id
from orgconnect.domain.webhooks_graph import (
    GOOGLE_CHANNEL_SECONDS,
    GRAPH_CHANGE_TYPES,
    GRAPH_SUBSCRIPTION_SECONDS,
)
from orgconnect.domain.webhooks_subscriptions import (
    CreatedSubscription,
    Subscription,
    SubscriptionRenewalRefused,
    WatchedConnection,
    provider_key_of,
)

if TYPE_CHECKING:
    from orgconnect.providers.conferencing import ConferencingAdapter
    from orgconnect.providers.registry import ProviderRegistry

GOOGLE_USERS = "/admin/directory/v1/users"
GOOGLE_CHANNELS_STOP = "/admin/directory_v1/channels/stop"


def graph_time(seconds: int) -> str:
    """``2026-12-28T19:00:00.0000000Z``: Graph's expirationDateTime."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def parse_graph_time(value: Any) -> int:
    """Epoch seconds of an ISO 8601 date-time Graph answered."""
    if not isinstance(value, str) or not value:
        raise ProviderAnswerMalformed("Graph subscription: expirationDateTime missing")
    text = value.replace("Z", "+00:00")
    text = re.sub(r"\.[0-9]+", "", text, count=1)  # Graph sends 7 fractional digits; Python reads 6
    try:
        return int(datetime.fromisoformat(text).timestamp())
    except ValueError as error:
        raise ProviderAnswerMalformed("Graph subscription: expirationDateTime unreadable") from error


class ProviderUserSubscriptions:
    """SubscriptionApi over Graph and the Google Directory."""

    def __init__(
        self, tokens: AccessTokens, load_registry: Callable[[], ProviderRegistry], *, timeout: float = 10.0
    ) -> None:
        self._tokens = tokens
        self._load_registry = load_registry
        self._timeout = timeout

    def _call[T](self, connection: WatchedConnection, call: Callable[[ConferencingAdapter], T]) -> T:
        option = CONFERENCING[connection.provider_name]
        tenant = connection.provider_account_id if option.provider_key == "microsoft" else None

        def with_token(token: str) -> T:
            from orgconnect.providers.api import Timeouts
            from orgconnect.providers.retry import RetryPolicy

            adapter = self._load_registry().conferencing(
                option.profile_provider_name, ProviderTokens(access_token=token), tenant=tenant
            )
            # Inside a request (the consent page, a notification Graph wants answered in 3 s):
            # two short attempts, a long Retry-After passed on rather than waited.
            adapter.api.timeouts = Timeouts(connect=min(3.0, self._timeout), read=self._timeout)
            adapter.api.retry_policy = RetryPolicy(
                attempts=2, backoff_initial=0.2, backoff_max=1.0, max_retry_after=2.0, max_elapsed=10.0
            )
            return call(adapter)

        return with_connection_token(self._tokens, connection, with_token)

    def create(
        self, connection: WatchedConnection, *, notification_url: str, secret: str, now: int
    ) -> CreatedSubscription:
        """Subscribe to the connection's users (Graph: the validation handshake happens inside)."""
        if provider_key_of(connection.provider_name) == "microsoft":
            body = {
                "changeType": GRAPH_CHANGE_TYPES,
                "notificationUrl": notification_url,
                "resource": "users",
                "expirationDateTime": graph_time(now + GRAPH_SUBSCRIPTION_SECONDS),
                "clientState": secret,
            }
            answer = self._call(connection, lambda a: a.api.post("/v1.0/subscriptions", body))
            if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
                raise ProviderAnswerMalformed("Graph subscription: id missing")
            return CreatedSubscription(answer["id"], parse_graph_time(answer.get("expirationDateTime")))
        channel = {
            "id": new_id("chn"),
            "type": "web_hook",
            "address": notification_url,
            "token": secret,
            "params": {"ttl": str(GOOGLE_CHANNEL_SECONDS)},
        }
        answer = self._call(
            connection,
            lambda a: a.api.post(f"{GOOGLE_USERS}/watch", channel, params={"customer": "my_customer"}),
        )
        if not isinstance(answer, dict) or not isinstance(answer.get("resourceId"), str):
            raise ProviderAnswerMalformed("Google users.watch: resourceId missing")
        expiration = str(answer.get("expiration") or "")
        expires_at = int(expiration) // 1000 if expiration.isdigit() else now + GOOGLE_CHANNEL_SECONDS
        return CreatedSubscription(str(answer.get("id") or channel["id"]), expires_at, answer["resourceId"])

    def renew(self, connection: WatchedConnection, subscription: Subscription, *, now: int) -> int:
        """Graph: PATCH the expiry; Google (or a subscription Graph no longer knows): refused."""
        if subscription.provider != "microsoft":
            raise SubscriptionRenewalRefused("a Google channel cannot be extended")
        body = {"expirationDateTime": graph_time(now + GRAPH_SUBSCRIPTION_SECONDS)}
        path = f"/v1.0/subscriptions/{quote(subscription.subscription_id, safe='')}"
        try:
            answer = self._call(connection, lambda a: a.api.patch(path, body))
        except ProviderRefused as refused:
            if refused.status == 404:
                raise SubscriptionRenewalRefused("Graph no longer knows the subscription") from None
            raise
        return parse_graph_time(answer.get("expirationDateTime") if isinstance(answer, dict) else None)

    def delete(self, connection: WatchedConnection, subscription: Subscription) -> None:
        """Graph DELETE; Google channels.stop. Already gone (404) is fine."""
        try:
            if subscription.provider == "microsoft":
                path = f"/v1.0/subscriptions/{quote(subscription.subscription_id, safe='')}"
                self._call(connection, lambda a: a.api.delete(path))
            else:
                body = {"id": subscription.subscription_id, "resourceId": subscription.resource_id}
                self._call(connection, lambda a: a.api.post(GOOGLE_CHANNELS_STOP, body))
        except ProviderRefused as refused:
            if refused.status != 404:
                raise

    def read_user(self, connection: WatchedConnection, user_id: str) -> DirectoryUser | None:
        """The user now (Teams: status from accountEnabled and the Teams plan; Google: suspended
        or archived is inactive); None when the provider no longer has it."""
        quoted = quote(user_id, safe="")
        if provider_key_of(connection.provider_name) == "microsoft":
            from orgconnect.providers.teams_conferencing import SELECT, TeamsConferencing

            def graph(adapter: ConferencingAdapter) -> DirectoryUser | None:
                item = adapter.get(f"/v1.0/users/{quoted}", params={"$select": SELECT})
                return TeamsConferencing.user(item) if isinstance(item, dict) else None

            return self._missing_is_none(connection, graph)
        from orgconnect.providers.meet_conferencing import MeetConferencing

        def google(adapter: ConferencingAdapter) -> DirectoryUser | None:
            item = adapter.get(f"{GOOGLE_USERS}/{quoted}")
            return MeetConferencing.user(item) if isinstance(item, dict) else None

        return self._missing_is_none(connection, google)

    def _missing_is_none(
        self, connection: WatchedConnection, read: Callable[[ConferencingAdapter], DirectoryUser | None]
    ) -> DirectoryUser | None:
        try:
            return self._call(connection, read)
        except ProviderRefused as refused:
            if refused.status == 404:
                return None
            raise
