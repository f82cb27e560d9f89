"""The worker's real POST (httpx, tenacity) to a receiver on 127.0.0.1 that verifies each
notification with the recipe of docs/notifications.md: signed with every active secret, retried
on 503, not retried on 4xx, redirects never followed, loopback refused outside the dev stack."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from orgconnect.domain.model import ConnectionStatus
from orgconnect.domain.notifications import (
    Destination,
    Notification,
    SigningSecrets,
    connection_status_changed,
    new_notification_secret,
)
from orgconnect.workers.callbacks import CallbackPolicy, CallbackUndeliverable
from orgconnect.workers.notifications import DestinationRefused, NotificationsWorker, post_signed
from tests.notifications.receiver import NotificationReceiver, documented_verifier
from tests.notifications.test_notifications_units import Ports, SecretBearingConnection

POLICY = CallbackPolicy(attempts=3, backoff_initial=0.01, backoff_max=0.05, timeout=2)


@pytest.fixture(scope="module")
def receiver() -> Iterator[NotificationReceiver]:
    running = NotificationReceiver().start()
    yield running
    running.stop()


def _setup(
    receiver: NotificationReceiver, signing: SigningSecrets, *, loopback: bool = True
) -> tuple[str, Notification, Ports, NotificationsWorker]:
    import time

    path = f"/n/{secrets.token_hex(6)}"
    connection = SecretBearingConnection()
    memory = Ports({connection.client_id: Destination(connection.client_id, receiver.url(path), signing)})
    worker = NotificationsWorker(
        memory,
        memory,
        lambda url, body, headers: post_signed(url, body, headers, policy=POLICY),
        now=lambda: int(time.time()),  # the receiver checks a real clock's window
        allow_loopback=loopback,
    )
    notification = connection_status_changed(
        connection, ConnectionStatus.REVOKED, change_key=path, occurred_at=1_900_000_000
    )
    return path, notification, memory, worker


def test_a_notification_arrives_signed_and_verifies_with_the_documented_recipe(
    receiver: NotificationReceiver,
) -> None:
    secret = new_notification_secret()
    path, notification, memory, worker = _setup(receiver, SigningSecrets(secret))
    receiver.secrets[path] = secret
    assert worker.handle(notification) == "delivered"
    assert receiver.received[path] == [notification.payload()]
    assert notification.notification_id in memory.marked
    assert worker.handle(notification) == "already_delivered"
    assert receiver.attempts[path] == 1


def test_during_a_rotation_a_receiver_with_either_secret_verifies(receiver: NotificationReceiver) -> None:
    old, new = new_notification_secret(), new_notification_secret()
    for receiver_secret in (old, new):
        signing = SigningSecrets(current=new, previous=old, previous_until=4_000_000_000)
        path, notification, _, worker = _setup(receiver, signing)
        receiver.secrets[path] = receiver_secret
        assert worker.handle(notification) == "delivered"
        assert path not in receiver.refused


def test_a_receiver_with_another_secret_refuses_and_the_record_fails(receiver: NotificationReceiver) -> None:
    path, notification, memory, worker = _setup(receiver, SigningSecrets(new_notification_secret()))
    receiver.secrets[path] = new_notification_secret()
    with pytest.raises(CallbackUndeliverable, match="401"):
        worker.handle(notification)
    assert receiver.refused[path] == 1  # a 4xx is not retried within the attempt
    assert not memory.marked


def test_503_is_retried_within_the_attempt(receiver: NotificationReceiver) -> None:
    secret = new_notification_secret()
    path, notification, _, worker = _setup(receiver, SigningSecrets(secret))
    receiver.secrets[path] = secret
    receiver.fail[path] = 2
    assert worker.handle(notification) == "delivered"
    assert receiver.attempts[path] == 3 and len(receiver.received[path]) == 1


def test_a_receiver_that_stays_down_fails_the_record_after_the_attempts(
    receiver: NotificationReceiver,
) -> None:
    path, notification, memory, worker = _setup(receiver, SigningSecrets(new_notification_secret()))
    receiver.fail[path] = 100
    with pytest.raises(CallbackUndeliverable, match="503"):
        worker.handle(notification)
    assert receiver.attempts[path] == POLICY.attempts and not memory.marked


def test_a_redirect_is_not_followed(receiver: NotificationReceiver) -> None:
    secret = new_notification_secret()
    path, notification, _, worker = _setup(receiver, SigningSecrets(secret))
    target = f"/n/{secrets.token_hex(6)}"
    receiver.secrets[target] = secret
    receiver.answer[path] = (307, {"Location": receiver.url(target)})
    with pytest.raises(CallbackUndeliverable, match="307"):
        worker.handle(notification)
    assert target not in receiver.attempts


def test_loopback_is_refused_outside_the_dev_stack(receiver: NotificationReceiver) -> None:
    path, notification, memory, worker = _setup(
        receiver, SigningSecrets(new_notification_secret()), loopback=False
    )
    with pytest.raises(DestinationRefused):
        worker.handle(notification)
    assert path not in receiver.attempts and not memory.marked


def test_the_recipe_refuses_a_stale_timestamp() -> None:
    import time

    from orgconnect.domain.notifications import signature

    verify = documented_verifier()
    body = b'{"notification":{}}'
    fresh = int(time.time())
    assert verify("s", str(fresh), f"v1={signature('s', fresh, body)}", body)
    stale = fresh - 3600
    assert not verify("s", str(stale), f"v1={signature('s', stale, body)}", body)
    assert not verify("s", None, None, body)


def test_no_secret_or_signature_reaches_the_logs(
    receiver: NotificationReceiver, service_logs: list[str]
) -> None:
    secret = new_notification_secret()
    path, notification, _, worker = _setup(receiver, SigningSecrets(secret))
    receiver.fail[path] = 100
    with pytest.raises(CallbackUndeliverable):
        worker.handle(notification)
    del receiver.fail[path]
    receiver.secrets[path] = secret
    memory = Ports()  # the client's URL was cleared since: dropped, with a log line
    dropped = NotificationsWorker(memory, memory, lambda *_: None, now=lambda: 0, allow_loopback=True)
    assert dropped.handle(notification) == "no_destination"
    assert worker.handle(notification) == "delivered"
    assert any(notification.notification_id in line for line in service_logs)
    assert not any(secret in line or "Orgconnect-Signature" in line for line in service_logs)
