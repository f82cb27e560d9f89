"""User-change subscriptions of Microsoft Teams (Graph ``/subscriptions`` on ``users``) and Google
Meet (Directory ``users.watch`` channels) connections: created when the connection is linked,
renewed before they expire, deleted with the connection, and what a notification does
(docs/webhooks.md, "Microsoft Teams" and "Google Meet").

A notification names a user; the user is read again from the provider with the connection's
credentials and the answer is applied through the same code path as a Zoom user event
(:func:`orgconnect.domain.webhooks_users.apply_user_event`), stamped with the time of the read,
so replays, retries and out-of-order deliveries are harmless.
"""

from __future__ import annotations

from typing import Protocol

from msgspec import Struct, field
from msgspec.structs import replace

from orgconnect.domain.catalogue import CONFERENCING
from orgconnect.domain.conferencing import DirectoryUser
from orgconnect.domain.notifications import NO_NOTIFICATIONS, NotificationPublisher
from orgconnect.domain.webhooks_graph import (
    RENEW_BEFORE_SECONDS,
    new_subscription_secret,
    secret_digest,
)
from orgconnect.domain.webhooks_users import (
    AccountLinks,
    ProfileUpdates,
    UserChange,
    UserDirectory,
    UserEventOutcome,
    apply_user_event,
)

#: The provider keys whose conferencing connections subscribe to user changes, and their path.
SUBSCRIBING_PROVIDERS = {"microsoft": "/webhooks/microsoft", "google": "/webhooks/google"}


def subscribes(provider_name: str) -> bool:
    """Whether connections of this provider name (``ms_teams``, ``google_meet``) subscribe."""
    option = CONFERENCING.get(provider_name)
    return option is not None and option.provider_key in SUBSCRIBING_PROVIDERS


def provider_key_of(provider_name: str) -> str:
    """``microsoft`` or ``google`` for a subscribing connection's provider name."""
    return CONFERENCING[provider_name].provider_key


class WatchedConnection(Struct, frozen=True):
    """What a subscription needs of its connection (fits the credentials' LinkedConnection)."""

    connection_id: str
    provider_name: str
    provider_account_id: str
    secret_arn: str


class Subscription(Struct, frozen=True):
    """A Graph subscription or a Google channel of one connection. ``secret_digest``: SHA-256 of
    its ``clientState`` / channel token; ``resource_id``: Google's, for ``channels.stop``."""

    provider: str
    subscription_id: str
    connection_id: str
    provider_name: str
    account_id: str
    secret_digest: str
    expires_at: int
    resource_id: str | None = None
    notification_url: str = ""  # where the provider delivers: a replacement uses the same

    @property
    def api_url(self) -> str:
        """The API's base URL the subscription was made with."""
        return self.notification_url.removesuffix(SUBSCRIBING_PROVIDERS.get(self.provider, ""))


class CreatedSubscription(Struct, frozen=True):
    """The provider's answer to a create: its id, when it expires, Google's resource id."""

    subscription_id: str
    expires_at: int
    resource_id: str | None = None


class SubscriptionRenewalRefused(Exception):
    """The provider cannot extend it (Google channels; a Graph subscription it no longer knows):
    a new one replaces it."""


class SubscriptionStore(Protocol):
    """The subscriptions (store/webhook_subscriptions.py)."""

    def get(self, provider: str, subscription_id: str) -> Subscription | None: ...

    def of_connection(self, connection_id: str) -> Subscription | None: ...

    def save(self, subscription: Subscription, *, replaces: Subscription | None = None) -> None:
        """Write it (and drop ``replaces`` in the same transaction)."""
        ...

    def delete(self, subscription: Subscription) -> None: ...

    def due(self, before: int) -> list[Subscription]:
        """Every subscription that expires before ``before``."""
        ...


class SubscriptionApi(Protocol):
    """The provider side (providers/user_subscriptions.py), with the connection's credentials."""

    def create(
        self, connection: WatchedConnection, *, notification_url: str, secret: str, now: int
    ) -> CreatedSubscription: ...

    def renew(self, connection: WatchedConnection, subscription: Subscription, *, now: int) -> int:
        """The new expiry (SubscriptionRenewalRefused: create another)."""
        ...

    def delete(self, connection: WatchedConnection, subscription: Subscription) -> None:
        """Delete or stop it; one the provider no longer knows is fine."""
        ...

    def read_user(self, connection: WatchedConnection, user_id: str) -> DirectoryUser | None:
        """The user as the provider shows it now (None: deleted)."""
        ...


class WatchedConnections(Protocol):
    """The connections (store): a connected one by id, None when removed or not connected."""

    def watched(self, connection_id: str) -> WatchedConnection | None: ...


def subscribe(
    connection: WatchedConnection,
    *,
    api: SubscriptionApi,
    store: SubscriptionStore,
    api_url: str,
    now: int,
) -> Subscription:
    """Create the connection's subscription (replacing one it had: a relink) and store it."""
    key = provider_key_of(connection.provider_name)
    secret = new_subscription_secret()
    notification_url = api_url.rstrip("/") + SUBSCRIBING_PROVIDERS[key]
    created = api.create(connection, notification_url=notification_url, secret=secret, now=now)
    subscription = Subscription(
        key,
        created.subscription_id,
        connection.connection_id,
        connection.provider_name,
        connection.provider_account_id,
        secret_digest(secret),
        created.expires_at,
        created.resource_id,
        notification_url,
    )
    previous = store.of_connection(connection.connection_id)
    store.save(subscription, replaces=previous)
    if previous is not None and previous.subscription_id != subscription.subscription_id:
        api.delete(connection, previous)  # after the save: we never lose the one that works
    return subscription


class RenewalOutcome(Struct):
    """What :func:`renew_subscriptions` did, by subscription id."""

    renewed: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # the connection is gone or not connected
    failed: list[str] = field(default_factory=list)


def renew_subscriptions(
    now: int,
    *,
    api: SubscriptionApi,
    store: SubscriptionStore,
    connections: WatchedConnections,
    api_url: str | None = None,
) -> RenewalOutcome:
    """Extend every subscription that expires within RENEW_BEFORE_SECONDS (Graph: PATCH its
    expiry; Google, or a Graph subscription Graph lost: a new one, to ``api_url`` or else the URL
    the old one used). A failure is reported and left for the next run (the subscription still
    works until it expires; the scheduled reconcile covers any gap)."""
    outcome = RenewalOutcome()
    for subscription in store.due(now + RENEW_BEFORE_SECONDS):
        connection = connections.watched(subscription.connection_id)
        if connection is None:
            store.delete(subscription)
            outcome.dropped.append(subscription.subscription_id)
            continue
        try:
            try:
                expires_at = api.renew(connection, subscription, now=now)
            except SubscriptionRenewalRefused:
                base = api_url or subscription.api_url
                subscribe(connection, api=api, store=store, api_url=base, now=now)
                outcome.replaced.append(subscription.subscription_id)
                continue
            store.save(replace(subscription, expires_at=expires_at))
            outcome.renewed.append(subscription.subscription_id)
        except Exception:  # one connection's provider must not stop the others' renewals
            outcome.failed.append(subscription.subscription_id)
    return outcome


def unsubscribe(
    connection: WatchedConnection, *, api: SubscriptionApi, store: SubscriptionStore
) -> Subscription | None:
    """Delete the connection's subscription at the provider, then ours (its removal)."""
    subscription = store.of_connection(connection.connection_id)
    if subscription is None:
        return None
    api.delete(connection, subscription)
    store.delete(subscription)
    return subscription


def apply_notified_user(
    subscription: Subscription,
    user_id: str,
    *,
    api: SubscriptionApi,
    connections: WatchedConnections,
    now_ms: int,
    links: AccountLinks,
    directory: UserDirectory,
    profiles: ProfileUpdates,
    notifications: NotificationPublisher = NO_NOTIFICATIONS,
) -> UserEventOutcome | None:
    """Read the notified user again and apply what the provider says now to every connection
    linked to the subscription's account; None when the connection is no longer connected."""
    connection = connections.watched(subscription.connection_id)
    if connection is None:
        return None
    user = api.read_user(connection, user_id)
    if user is None:
        change = UserChange(user_id, now_ms, removed=True)
    else:
        change = UserChange(
            user.provider_user_id,
            now_ms,
            email=user.email,
            status=user.status,
            display_name=user.display_name,
        )
    return apply_user_event(
        provider_names=(subscription.provider_name,),
        account_id=subscription.account_id,
        change=change,
        links=links,
        directory=directory,
        profiles=profiles,
        notifications=notifications,
    )
