"""User-change subscriptions' store (store/webhook_subscriptions.py) on moto and DynamoDB Local:
found by provider and id, by connection, replaced in one transaction, the ones about to expire
in one Query, an expired one reads as absent, and only connected Teams/Meet connections watched;
``parse_graph_time`` reads Graph's seven fractional digits."""

from __future__ import annotations

import pytest

from orgconnect import runtime
from orgconnect.domain.webhooks_subscriptions import Subscription
from orgconnect.providers.user_subscriptions import graph_time, parse_graph_time
from orgconnect.store import keys
from orgconnect.store.dynamodb import to_item
from orgconnect.store.webhook_subscriptions import DynamoSubscriptions

pytestmark = pytest.mark.every_dynamodb

NOW = 2_000_000_000


def _store() -> DynamoSubscriptions:
    return DynamoSubscriptions(runtime.get_store(), clock=lambda: NOW)


def _subscription(
    sub_id: str, connection_id: str, expires_at: int, provider: str = "microsoft"
) -> Subscription:
    return Subscription(provider, sub_id, connection_id, "ms_teams", "tenant", "digest", expires_at, None)


def test_saved_subscriptions_are_found_by_id_and_by_connection_and_replaced_at_once(aws: object) -> None:
    store = _store()
    first = _subscription("s-1", "cnx_a", NOW + 100)
    store.save(first)
    assert store.get("microsoft", "s-1") == first and store.get("google", "s-1") is None
    assert store.of_connection("cnx_a") == first
    second = _subscription("s-2", "cnx_a", NOW + 200)
    store.save(second, replaces=first)
    assert store.get("microsoft", "s-1") is None and store.of_connection("cnx_a") == second
    store.delete(first)  # an old one's delete keeps the pointer of its successor
    assert store.of_connection("cnx_a") == second
    store.delete(second)
    assert store.get("microsoft", "s-2") is None and store.of_connection("cnx_a") is None


def test_due_finds_the_ones_about_to_expire_and_expired_ones_read_as_absent(aws: object) -> None:
    store = _store()
    soon, later = _subscription("soon", "cnx_s", NOW + 10), _subscription("later", "cnx_l", NOW + 10_000)
    gone = _subscription("gone", "cnx_g", NOW - 1, provider="google")
    for subscription in (soon, later, gone):
        store.save(subscription)
    assert {s.subscription_id for s in store.due(NOW + 100)} == {"soon", "gone"}
    assert store.get("google", "gone") is None  # expired at the provider: notifications refused
    assert {s.subscription_id for s in store.due(NOW + 100_000)} == {"soon", "later", "gone"}


def test_only_a_connected_teams_or_meet_connection_is_watched(aws: object) -> None:
    db = runtime.get_store()
    for connection_id, provider, status in (
        ("cnx_t", "ms_teams", "connected"),
        ("cnx_r", "ms_teams", "revoked"),
        ("cnx_z", "zoom_enterprise", "connected"),
    ):
        item = {
            **keys.connection_key(connection_id),
            "type": "connection",
            "connection_id": connection_id,
            "provider_name": provider,
            "provider_account_id": "acct",
            "status": status,
            "secret_arn": "arn:secret",
        }
        db.client.put_item(TableName=db.table_name, Item=to_item(item))
    watched = _store().watched("cnx_t")
    assert (
        watched is not None and watched.provider_account_id == "acct" and watched.secret_arn == "arn:secret"
    )
    assert _store().watched("cnx_r") is None and _store().watched("cnx_z") is None
    assert _store().watched("cnx_missing") is None


def test_graph_times_round_trip_with_seven_fractional_digits() -> None:
    assert graph_time(NOW) == "2033-05-18T03:33:20.0000000Z"
    assert parse_graph_time("2033-05-18T03:33:20.0000000Z") == NOW
    assert parse_graph_time("2033-05-18T03:33:20.1234567+00:00") == NOW
