"""The notification destination on the client item (moto and DynamoDB Local): the URL, the sealed
secret (never in clear), rotation, clear; delivery markers; and the SQS publisher (moto's SQS):
only for clients with a URL, only a status the connection really has."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from devstack.template import Resolver
from orgconnect import runtime
from orgconnect.domain.conferencing import UserStatus
from orgconnect.domain.conferencing_connections import ManagedConnection
from orgconnect.domain.errors import InvalidRequest
from orgconnect.domain.matching import ConferencingProfile
from orgconnect.domain.model import ConnectionStatus
from orgconnect.domain.notifications import Notification, NotificationType, new_notification_secret
from orgconnect.domain.secrets import new_id
from orgconnect.domain.server_to_server import AuthorizationType
from orgconnect.store import keys
from orgconnect.store.conferencing_connections import connection_item
from orgconnect.store.dynamodb import to_item
from orgconnect.store.notifications import DynamoDeliveryMarkers, DynamoNotificationDestinations
from orgconnect.store.notifications_queue import SqsNotificationPublisher
from tests.conftest import Seeded

pytestmark = pytest.mark.every_dynamodb
URL = "https://hooks.example.com/orgconnect"


@pytest.fixture
def keyring(aws_resolver: Resolver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORGCONNECT_ENCRYPTION_KEYS_SECRET_ID", aws_resolver.refs["EncryptionKeysSecret"])
    runtime.reset()


def _destinations() -> DynamoNotificationDestinations:
    return DynamoNotificationDestinations(runtime.get_store(), runtime.get_sealer)


def _client_item(client_id: str) -> dict[str, Any]:
    data = runtime.get_store().read(keys.client_key(client_id))
    assert data is not None
    return data


def test_the_first_url_creates_the_secret_sealed_and_a_new_url_keeps_it(
    seeded: Seeded, keyring: None
) -> None:
    secret = new_notification_secret()
    assert _destinations().set_url(seeded.client_id, URL, secret)
    stored = _client_item(seeded.client_id)
    assert stored["notification_url"] == URL
    assert secret not in json.dumps(stored) and stored["notification_secret"].startswith("v1.")
    found = _destinations().destination(seeded.client_id)
    assert found is not None and found.url == URL and found.secrets.active(0) == [secret]
    assert runtime.get_clients().get_client(seeded.client_id).notification_url == URL  # type: ignore[union-attr]

    assert not _destinations().set_url(seeded.client_id, URL + "/v2", new_notification_secret())
    again = _destinations().destination(seeded.client_id)
    assert again is not None and again.url == URL + "/v2" and again.secrets.current == secret


def test_a_sealed_secret_opens_for_its_own_client_only(seeded: Seeded, keyring: None) -> None:
    from orgconnect.domain.sealing import SealingError

    _destinations().set_url(seeded.client_id, URL, new_notification_secret())
    stored = _client_item(seeded.client_id)["notification_secret"]
    # Copy the sealed value onto another client's item: it does not open there.
    victim = new_id("cli")
    runtime.get_store().client.put_item(
        TableName=runtime.get_store().table_name,
        Item=to_item(
            {
                **keys.client_key(victim),
                "type": "client",
                "client_id": victim,
                "notification_url": URL,
                "notification_secret": stored,
            }
        ),
    )
    with pytest.raises(SealingError):
        _destinations().destination(victim)


def test_rotation_keeps_the_previous_secret_until_the_grace_ends(seeded: Seeded, keyring: None) -> None:
    first, second = new_notification_secret(), new_notification_secret()
    with pytest.raises(InvalidRequest):  # no URL yet: nothing to rotate
        _destinations().rotate(seeded.client_id, second, previous_until=2_000)
    _destinations().set_url(seeded.client_id, URL, first)
    _destinations().rotate(seeded.client_id, second, previous_until=2_000)
    found = _destinations().destination(seeded.client_id)
    assert found is not None
    assert found.secrets.active(1_999) == [second, first] and found.secrets.active(2_000) == [second]
    assert first not in json.dumps(_client_item(seeded.client_id))


def test_clear_removes_the_url_and_every_secret(seeded: Seeded, keyring: None) -> None:
    _destinations().set_url(seeded.client_id, URL, new_notification_secret())
    _destinations().rotate(seeded.client_id, new_notification_secret(), previous_until=2_000)
    _destinations().clear(seeded.client_id)
    assert _destinations().destination(seeded.client_id) is None
    assert not {k for k in _client_item(seeded.client_id) if k.startswith("notification")}


def test_an_unknown_client_is_a_clear_error(aws: dict[str, str], keyring: None) -> None:
    unknown = "cli_000000000000000000000000"
    with pytest.raises(InvalidRequest):
        _destinations().set_url(unknown, URL, new_notification_secret())
    with pytest.raises(InvalidRequest):
        _destinations().clear(unknown)
    assert _destinations().destination(unknown) is None


def test_delivery_markers(aws: dict[str, str]) -> None:
    now = [1_000]
    markers = DynamoDeliveryMarkers(runtime.get_store(), clock=lambda: now[0])
    ident = new_id("ntf")
    assert not markers.delivered(ident)
    markers.mark_delivered(ident)
    assert markers.delivered(ident)
    now[0] += 14 * 24 * 3600  # TTL deletion is lazy: an expired marker reads as absent
    assert not markers.delivered(ident)


def _connection(client_id: str, status: ConnectionStatus) -> ManagedConnection:
    connection = ManagedConnection(
        new_id("cnx"), new_id("ou"), client_id, "zoom_enterprise", "ZA1", "Zoom", status, "arn:secret",
        AuthorizationType.OAUTH,
    )  # fmt: skip
    runtime.get_store().client.put_item(
        TableName=runtime.get_store().table_name,
        Item=to_item({**connection_item(connection), "type": "connection"}),
    )
    return connection


def _queued(aws_resolver: Resolver) -> list[Notification]:
    sqs = boto3.client("sqs")
    got = sqs.receive_message(QueueUrl=aws_resolver.refs["NotificationsQueue"], MaxNumberOfMessages=10)
    return [Notification.from_message(json.loads(m["Body"])) for m in got.get("Messages", [])]


def test_the_publisher_queues_only_for_clients_with_a_url_and_true_statuses(
    seeded: Seeded, keyring: None, aws_resolver: Resolver
) -> None:
    now = [1_000]
    publisher = SqsNotificationPublisher(
        runtime.get_store(),
        boto3.client("sqs"),
        aws_resolver.refs["NotificationsQueue"],
        clock=lambda: now[0],
    )
    revoked = _connection(seeded.client_id, ConnectionStatus.REVOKED)
    publisher.connection_status_changed(revoked.connection_id, ConnectionStatus.REVOKED, change_key="1")
    assert _queued(aws_resolver) == []  # no URL: nothing queued

    _destinations().set_url(seeded.client_id, URL, new_notification_secret())
    publisher.connection_status_changed(revoked.connection_id, ConnectionStatus.REVOKED, change_key="1")
    assert _queued(aws_resolver) == []  # "no URL" is trusted for a minute
    now[0] += 61
    publisher.connection_status_changed(revoked.connection_id, ConnectionStatus.REVOKED, change_key="1")
    # Not its status (a mark that lost to a revocation): nothing; unknown connection: nothing.
    publisher.connection_status_changed(
        revoked.connection_id, ConnectionStatus.NEEDS_REAUTHORIZATION, change_key="1"
    )
    publisher.connection_status_changed(new_id("cnx"), ConnectionStatus.REVOKED, change_key="1")
    (queued,) = _queued(aws_resolver)
    assert queued.type is NotificationType.CONNECTION_STATUS_CHANGED and queued.client_id == seeded.client_id
    assert queued.fields == {
        "organizational_unit_id": revoked.ou_id,
        "connection_id": revoked.connection_id,
        "provider_name": "zoom_enterprise",
        "status": "revoked",
    }

    before = ConferencingProfile(
        new_id("pro"), "acc_1", revoked.connection_id, "zoom", "zu", "a@x", UserStatus.PENDING
    )
    from tests.values import replace

    publisher.profile_changed(before, replace(before, profile_name="b@x"), revoked)  # not a state change
    publisher.profile_changed(before, replace(before, status=UserStatus.ACTIVE), revoked)
    (connected,) = _queued(aws_resolver)
    assert (
        connected.type is NotificationType.PROFILE_CONNECTED
        and connected.fields["profile_id"] == before.profile_id
    )


def test_the_operator_cli(
    seeded: Seeded,
    aws: dict[str, str],
    aws_resolver: Resolver,
    keyring: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from orgconnect.cli import main

    target = [
        "--table", aws["ORGCONNECT_TABLE_NAME"], "--pepper-secret-id", aws["ORGCONNECT_PEPPER_SECRET_ID"],
        "--encryption-keys-secret-id", aws_resolver.refs["EncryptionKeysSecret"],
    ]  # fmt: skip

    def run(*args: str, with_target: bool = True) -> tuple[int, dict[str, Any] | str]:
        capsys.readouterr()
        code = main(["admin", *args, *(target if with_target else [])])
        out, err = capsys.readouterr()
        return code, (json.loads(out) if code == 0 else err)

    client = ["--client-id", seeded.client_id]
    # Outside the dev stack: https and a public host only.
    for url in (
        "http://127.0.0.1:9000/n",
        "https://10.1.2.3/n",
        "https://localhost/n",
        "http://hooks.example.com/n",
    ):
        code, err = run("set-notification-url", *client, "--url", url)
        assert code == 2 and "url" in str(err)
    code, out = run("set-notification-url", *client, "--url", URL)
    assert code == 0 and isinstance(out, dict)
    first = out["notification_secret"]
    assert first.startswith("ntfsec_")
    code, out = run("set-notification-url", *client, "--url", URL + "/v2")
    assert code == 0 and isinstance(out, dict) and "notification_secret" not in out and "note" in out
    code, out = run("rotate-notification-secret", *client, "--grace-hours", "1")
    assert code == 0 and isinstance(out, dict) and out["notification_secret"] not in (first, None)
    found = _destinations().destination(seeded.client_id)
    assert found is not None and found.url == URL + "/v2"
    assert found.secrets.current == out["notification_secret"] and found.secrets.previous == first
    code, out = run("set-notification-url", *client, "--clear")
    assert code == 0 and out == {"client_id": seeded.client_id, "notification_url": None}
    assert _destinations().destination(seeded.client_id) is None
    code, err = run("set-notification-url", "--client-id", "cli_000000000000000000000000", "--url", URL)
    assert code == 2 and "no client" in str(err)
    monkeypatch.delenv("ORGCONNECT_ENCRYPTION_KEYS_SECRET_ID")
    code, err = run("set-notification-url", *client, "--url", URL, with_target=False)
    assert code == 2 and "keyring" in str(err)


def test_a_publisher_that_cannot_read_or_send_says_temporarily_unavailable(
    seeded: Seeded, keyring: None, aws_resolver: Resolver
) -> None:
    from orgconnect.domain.errors import TemporarilyUnavailable
    from orgconnect.store.dynamodb import DynamoStore

    connection = _connection(seeded.client_id, ConnectionStatus.REVOKED)
    _destinations().set_url(seeded.client_id, URL, new_notification_secret())
    missing_table = DynamoStore("no-such-table", runtime.get_store().client, clock=lambda: 0)
    unreadable = SqsNotificationPublisher(missing_table, boto3.client("sqs"), "unused", clock=lambda: 0)
    with pytest.raises(TemporarilyUnavailable):
        unreadable.connection_status_changed(
            connection.connection_id, ConnectionStatus.REVOKED, change_key="1"
        )
    missing_queue = aws_resolver.refs["NotificationsQueue"] + "-missing"
    unsendable = SqsNotificationPublisher(
        runtime.get_store(), boto3.client("sqs"), missing_queue, clock=lambda: 0
    )
    with pytest.raises(TemporarilyUnavailable):
        unsendable.connection_status_changed(
            connection.connection_id, ConnectionStatus.REVOKED, change_key="1"
        )
