"""Graph change notifications and Google Directory push notifications: the handshake, the secret
checks, parsing (domain/webhooks_graph.py), the subscription lifecycle and what a notification
applies (domain/webhooks_subscriptions.py), and the endpoint (web/provider_notifications.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from orgconnect.domain.conferencing import DirectoryUser, UserStatus
from orgconnect.domain.connection_credentials import ConnectionNeedsReauthorization
from orgconnect.domain.errors import MalformedRequest, TemporarilyUnavailable
from orgconnect.domain.model import ProviderAccountLink
from orgconnect.domain.notifications import NO_NOTIFICATIONS
from orgconnect.domain.provider_model import ProviderRefused, ProviderUnavailable
from orgconnect.domain.webhooks_graph import (
    MalformedNotification,
    NotificationRefused,
    parse_google_notification,
    parse_graph_notifications,
    secret_digest,
    secret_matches,
    validation_token,
)
from orgconnect.domain.webhooks_subscriptions import (
    CreatedSubscription,
    Subscription,
    SubscriptionRenewalRefused,
    WatchedConnection,
    apply_notified_user,
    renew_subscriptions,
    subscribe,
    subscribes,
    unsubscribe,
)
from orgconnect.domain.webhooks_users import UserChange
from orgconnect.web.provider_notifications import UserNotificationPorts, receive_user_notifications

TEAMS = WatchedConnection("cnx_teams", "ms_teams", "tenant-1", "arn:teams")
MEET = WatchedConnection("cnx_meet", "google_meet", "C0123", "arn:meet")


# -- the wire ---------------------------------------------------------------------------------


def test_the_validation_token_is_echoed_only_when_present_and_bounded() -> None:
    assert validation_token({"validationToken": "Validation: Testing client application"}) == (
        "Validation: Testing client application"
    )
    assert validation_token({}) is None and validation_token(None) is None
    with pytest.raises(MalformedNotification):
        validation_token({"validationToken": "x" * 2000})


def test_a_secret_matches_its_digest_only() -> None:
    digest = secret_digest("s3cret")
    assert digest != "s3cret" and len(digest) == 64
    assert secret_matches(digest, "s3cret")
    assert not secret_matches(digest, "s3cre")
    assert not secret_matches(digest, None) and not secret_matches(None, "s3cret")


def test_graph_entries_are_read_and_junk_entries_skipped() -> None:
    body = {
        "value": [
            {
                "subscriptionId": "sub-1",
                "clientState": "cs",
                "changeType": "updated",
                "resource": "Users/u-1",
                "resourceData": {"@odata.type": "#Microsoft.Graph.User", "id": "u-1"},
            },
            {"subscriptionId": "sub-1", "changeType": "deleted", "resource": "Users/u-2"},
            {"subscriptionId": "sub-1"},  # no user
            "junk",
            {"subscriptionId": "bad id with spaces", "resourceData": {"id": "u-3"}},
        ]
    }
    found = parse_graph_notifications(json.dumps(body).encode())
    assert [(n.subscription_id, n.client_state, n.change_type, n.user_id) for n in found] == [
        ("sub-1", "cs", "updated", "u-1"),
        ("sub-1", None, "deleted", "u-2"),
    ]


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"value": 3}'])
def test_a_graph_body_without_a_value_list_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedNotification):
        parse_graph_notifications(body)


def test_google_headers_are_read_case_insensitively() -> None:
    sync = parse_google_notification(
        {"x-goog-channel-id": "chn_1", "X-Goog-Channel-Token": "t", "X-Goog-Resource-State": "sync"}, b""
    )
    assert sync.is_sync and sync.user_id is None and sync.token == "t"
    update = parse_google_notification(
        {"X-Goog-Channel-ID": "chn_1", "X-Goog-Resource-State": "update"},
        json.dumps({"kind": "admin#directory#user", "id": "1077", "primaryEmail": "a@example.com"}).encode(),
    )
    assert not update.is_sync and update.user_id == "1077" and update.token is None


def test_google_notifications_without_a_channel_or_a_user_are_refused_or_malformed() -> None:
    with pytest.raises(NotificationRefused):
        parse_google_notification({"X-Goog-Resource-State": "update"}, b"{}")
    with pytest.raises(MalformedNotification):
        parse_google_notification({"X-Goog-Channel-ID": "c", "X-Goog-Resource-State": "update"}, b"{}")


def test_only_teams_and_meet_connections_subscribe() -> None:
    assert subscribes("ms_teams") and subscribes("google_meet")
    assert not subscribes("zoom_enterprise") and not subscribes("webex_enterprise") and not subscribes("x")


# -- fakes ------------------------------------------------------------------------------------


@dataclass
class FakeStore:
    items: dict[tuple[str, str], Subscription] = field(default_factory=dict)
    connections: dict[str, WatchedConnection] = field(default_factory=dict)

    def get(self, provider: str, subscription_id: str) -> Subscription | None:
        return self.items.get((provider, subscription_id))

    def of_connection(self, connection_id: str) -> Subscription | None:
        return next((s for s in self.items.values() if s.connection_id == connection_id), None)

    def save(self, subscription: Subscription, *, replaces: Subscription | None = None) -> None:
        if replaces is not None:
            self.items.pop((replaces.provider, replaces.subscription_id), None)
        self.items[(subscription.provider, subscription.subscription_id)] = subscription

    def delete(self, subscription: Subscription) -> None:
        self.items.pop((subscription.provider, subscription.subscription_id), None)

    def due(self, before: int) -> list[Subscription]:
        return [s for s in self.items.values() if s.expires_at < before]

    def watched(self, connection_id: str) -> WatchedConnection | None:
        return self.connections.get(connection_id)


@dataclass
class FakeApi:
    users: dict[str, DirectoryUser] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failing: bool = False
    created: int = 0
    reads: int = 0

    def create(
        self, connection: WatchedConnection, *, notification_url: str, secret: str, now: int
    ) -> CreatedSubscription:
        self.created += 1
        self.secrets.append(secret)
        assert notification_url.endswith("/webhooks/microsoft" if connection is TEAMS else "/webhooks/google")
        return CreatedSubscription(f"sub-{self.created}", now + 1000, "res" if connection is MEET else None)

    def renew(self, connection: WatchedConnection, subscription: Subscription, *, now: int) -> int:
        if self.failing:
            raise RuntimeError("provider down")
        if subscription.provider == "google":
            raise SubscriptionRenewalRefused("channels cannot be extended")
        return now + 5000

    def delete(self, connection: WatchedConnection, subscription: Subscription) -> None:
        self.deleted.append(subscription.subscription_id)

    def read_user(self, connection: WatchedConnection, user_id: str) -> DirectoryUser | None:
        self.reads += 1
        return self.users.get(user_id)


def _stores() -> tuple[FakeStore, FakeApi]:
    return FakeStore(connections={"cnx_teams": TEAMS, "cnx_meet": MEET}), FakeApi()


# -- lifecycle --------------------------------------------------------------------------------


def test_subscribe_keeps_only_the_secret_digest_and_a_relink_replaces_the_old_one() -> None:
    store, api = _stores()
    first = subscribe(TEAMS, api=api, store=store, api_url="https://api.example/", now=100)
    assert first.provider == "microsoft" and first.account_id == "tenant-1" and first.expires_at == 1100
    assert first.secret_digest == secret_digest(api.secrets[0]) and api.secrets[0] not in repr(first)
    second = subscribe(TEAMS, api=api, store=store, api_url="https://api.example", now=200)
    assert list(store.items.values()) == [second] and api.deleted == [first.subscription_id]
    assert unsubscribe(TEAMS, api=api, store=store) == second and store.items == {}
    assert unsubscribe(TEAMS, api=api, store=store) is None


def test_renewal_extends_graph_replaces_google_drops_gone_connections_and_reports_failures() -> None:
    store, api = _stores()
    teams = subscribe(TEAMS, api=api, store=store, api_url="https://a", now=0)
    meet = subscribe(MEET, api=api, store=store, api_url="https://a", now=0)
    orphan = Subscription("microsoft", "sub-x", "cnx_gone", "ms_teams", "t", "d", 10)
    store.save(orphan)
    outcome = renew_subscriptions(500, api=api, store=store, connections=store)  # the URL kept
    assert outcome.renewed == [teams.subscription_id] and outcome.replaced == [meet.subscription_id]
    assert outcome.dropped == ["sub-x"] and outcome.failed == []
    assert store.get("microsoft", teams.subscription_id).expires_at == 5500  # type: ignore[union-attr]
    replacement = store.of_connection("cnx_meet")
    assert store.get("google", meet.subscription_id) is None and replacement is not None
    assert replacement.notification_url == "https://a/webhooks/google" == meet.notification_url
    api.failing = True
    later = renew_subscriptions(10**6, api=api, store=store, connections=store, api_url="https://a")
    assert teams.subscription_id in later.failed


# -- applying ---------------------------------------------------------------------------------


@dataclass
class Recorder:
    changes: list[UserChange] = field(default_factory=list)

    def links_of_account(self, provider_name: str, account_id: str) -> list[ProviderAccountLink]:
        return [ProviderAccountLink("cli", provider_name, account_id, "ou", connection_id="cnx_teams")]

    def apply_user_change(self, connection_id: str, change: UserChange) -> Any:
        self.changes.append(change)
        return []


def _apply(api: FakeApi, store: FakeStore, user_id: str) -> Recorder:
    recorder = Recorder()
    subscription = subscribe(TEAMS, api=api, store=store, api_url="https://a", now=0)
    apply_notified_user(
        subscription,
        user_id,
        api=api,
        connections=store,
        now_ms=42_000,
        links=recorder,
        directory=recorder,
        profiles=recorder,
    )
    return recorder


def test_a_notified_user_is_read_again_and_applied_as_the_provider_shows_it() -> None:
    store, api = _stores()
    api.users["u-1"] = DirectoryUser("u-1", "Ada@Sub.example", "Ada", UserStatus.INACTIVE)
    recorder = _apply(api, store, "u-1")
    expected = UserChange(
        "u-1", 42_000, email="ada@sub.example", status=UserStatus.INACTIVE, display_name="Ada"
    )
    assert recorder.changes == [expected, expected]  # the directory and the profiles


def test_a_user_the_provider_no_longer_has_is_removed() -> None:
    store, api = _stores()
    assert _apply(api, store, "u-gone").changes[0] == UserChange("u-gone", 42_000, removed=True)


def test_a_notification_for_a_connection_no_longer_connected_reads_nothing() -> None:
    store, api = _stores()
    subscription = subscribe(TEAMS, api=api, store=store, api_url="https://a", now=0)
    store.connections.clear()
    recorder = Recorder()
    outcome = apply_notified_user(
        subscription, "u-1", api=api, connections=store, now_ms=1, links=recorder, directory=recorder,
        profiles=recorder,
    )  # fmt: skip
    assert outcome is None and api.reads == 0 and recorder.changes == []


# -- the endpoint -----------------------------------------------------------------------------


def _event(body: str = "", query: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Any:
    return APIGatewayProxyEvent(
        {"body": body, "queryStringParameters": query, "headers": headers or {}, "isBase64Encoded": False}
    )


def _ports(store: FakeStore, api: FakeApi, recorder: Recorder) -> UserNotificationPorts:
    return UserNotificationPorts(store, store, api, recorder, recorder, recorder, NO_NOTIFICATIONS, 7_000)


def _subscribed(connection: WatchedConnection) -> tuple[FakeStore, FakeApi, Subscription, str]:
    """The connection subscribed: the store, the provider, the subscription and its secret."""
    store, api = _stores()
    subscription = subscribe(connection, api=api, store=store, api_url="https://a", now=10**10)
    return store, api, subscription, api.secrets[-1]


def _status(
    ports: UserNotificationPorts, provider: str, body: str, headers: dict[str, str] | None = None
) -> int:
    """A POST of ``body`` to the provider's endpoint: the answer's status."""
    event = _event(body, headers=headers)
    return receive_user_notifications(lambda: ports, event, provider, body.encode()).status_code


def test_graph_handshake_is_answered_in_plain_text_without_touching_anything() -> None:
    def never() -> UserNotificationPorts:
        raise AssertionError("the handshake needs no dependency")

    answer = receive_user_notifications(never, _event(query={"validationToken": "abc"}), "microsoft", b"")
    assert (answer.status_code, answer.content_type, answer.body) == (200, "text/plain", "abc")


def test_graph_notifications_apply_only_with_the_subscription_and_its_client_state() -> None:
    store, api, subscription, secret = _subscribed(TEAMS)
    api.users["u-1"] = DirectoryUser("u-1", "a@sub.example", "A", UserStatus.ACTIVE)
    recorder = Recorder()

    def deliver(*entries: dict[str, Any]) -> int:
        return _status(_ports(store, api, recorder), "microsoft", json.dumps({"value": list(entries)}))

    entry = {"subscriptionId": subscription.subscription_id, "resourceData": {"id": "u-1"}}
    assert deliver({**entry, "clientState": "wrong"}) == 202 and api.reads == 0
    assert deliver({**entry, "subscriptionId": "unknown", "clientState": secret}) == 202 and api.reads == 0
    assert deliver({**entry, "clientState": secret}, {**entry, "clientState": secret}) == 202
    assert api.reads == 1 and len(recorder.changes) == 2  # one read per user and batch


def test_google_sync_is_acknowledged_and_a_wrong_token_refused() -> None:
    store, api, subscription, secret = _subscribed(MEET)
    api.users["77"] = DirectoryUser("77", "b@example.com", "B", UserStatus.INACTIVE)
    recorder = Recorder()

    def deliver(token: str, state: str, body: str = "") -> int:
        headers = {
            "X-Goog-Channel-ID": subscription.subscription_id,
            "X-Goog-Channel-Token": token,
            "X-Goog-Resource-State": state,
        }
        return _status(_ports(store, api, recorder), "google", body, headers)

    assert deliver(secret, "sync") == 200 and api.reads == 0
    assert deliver("wrong", "update", '{"id": "77"}') == 401 and api.reads == 0
    assert deliver(secret, "update", '{"id": "77"}') == 200 and api.reads == 1
    assert recorder.changes[0].status is UserStatus.INACTIVE
    with pytest.raises(MalformedRequest):
        deliver(secret, "update", "not json")


@pytest.mark.parametrize(
    ("failure", "outcome"),
    [
        (ProviderUnavailable("Graph: 503", status=503), TemporarilyUnavailable),  # Graph delivers again
        (ProviderRefused("Graph: 403", error="Authorization_RequestDenied", status=403), 202),
        (ConnectionNeedsReauthorization("cnx_teams"), 202),  # skipped: the reconcile covers it
    ],
)
def test_a_read_that_fails_is_retried_by_the_provider_or_skipped(failure: Exception, outcome: Any) -> None:
    store, api, subscription, secret = _subscribed(TEAMS)

    def read_user(connection: WatchedConnection, user_id: str) -> DirectoryUser | None:
        raise failure

    api.read_user = read_user  # type: ignore[method-assign]
    body = json.dumps({"value": [{"subscriptionId": subscription.subscription_id, "clientState": secret,
                                  "resourceData": {"id": "u-1"}}]})  # fmt: skip
    recorder = Recorder()

    def deliver() -> int:
        return _status(_ports(store, api, recorder), "microsoft", body)

    if outcome is TemporarilyUnavailable:
        with pytest.raises(TemporarilyUnavailable):
            deliver()
    else:
        assert deliver() == outcome
    assert recorder.changes == []
