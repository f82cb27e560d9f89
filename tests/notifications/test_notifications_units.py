"""Integrator notifications, pure parts and ports: the signature and its verification recipe, the
payloads (ids and states only), destination rules, which changes notify, the worker with
in-memory ports, and the publisher calls at revocation, needs_reauthorization and matching."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest

from orgconnect.domain.conferencing import DirectoryUser, UserStatus
from orgconnect.domain.connection_credentials import ConnectionNeedsReauthorization
from orgconnect.domain.errors import InvalidRequest, TemporarilyUnavailable
from orgconnect.domain.matching import ConferencingProfile
from orgconnect.domain.model import ConnectionStatus
from orgconnect.domain.notifications import (
    Destination,
    Notification,
    NotificationType,
    SigningSecrets,
    address_allowed,
    connection_status_changed,
    new_notification_secret,
    notification_url_problem,
    profile_changed,
    signature,
    signature_header,
    validate_notification_url,
    verify,
)
from orgconnect.domain.provider_model import RefreshTokenRejected
from orgconnect.domain.webhooks_deauthorization import deauthorize_account
from orgconnect.workers.directory_sync import ConferencingMatcher
from orgconnect.workers.notifications import DestinationRefused, NotificationsWorker
from tests.unit import test_connection_credentials as credentials_tests
from tests.unit import test_webhooks_deauthorization as deauthorization_tests
from tests.unit.test_matching import CONNECTION, FakeAdapter, Memory, Tokens, account

NOW = 1_900_000_000
SECRET = "ntfsec_test-secret"


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = b'{"notification":{}}'
    expected = hmac.new(SECRET.encode(), b"1900000000." + body, hashlib.sha256).hexdigest()
    assert signature(SECRET, NOW, body) == expected
    assert signature_header([SECRET], NOW, body) == f"v1={expected}"


def test_verification_accepts_a_fresh_signature_and_refuses_everything_else() -> None:
    body = b'{"notification":{"id":"ntf_1"}}'
    header = signature_header([SECRET], NOW, body)
    ok: dict[str, Any] = {"timestamp": str(NOW), "signature_value": header, "body": body, "now": NOW + 299}
    assert verify(SECRET, **ok)
    assert not verify("another-secret", **ok)
    assert not verify(SECRET, **{**ok, "body": body + b" "})
    assert not verify(SECRET, **{**ok, "now": NOW + 301})  # outside the 5-minute window
    assert not verify(SECRET, **{**ok, "now": NOW - 301})
    assert not verify(SECRET, **{**ok, "timestamp": str(NOW + 1)})
    assert not verify(SECRET, **{**ok, "timestamp": None})
    assert not verify(SECRET, **{**ok, "signature_value": header.replace("v1=", "v0=")})
    assert not verify(SECRET, **{**ok, "timestamp": "-1"})


def test_during_a_rotation_both_secrets_sign_until_the_grace_ends() -> None:
    secrets = SigningSecrets(current="new", previous="old", previous_until=NOW + 10)
    assert secrets.active(NOW) == ["new", "old"]
    assert secrets.active(NOW + 10) == ["new"]
    body = b"{}"
    header = signature_header(secrets.active(NOW), NOW, body)
    assert len(header.split()) == 2
    for secret in ("new", "old"):
        assert verify(secret, timestamp=str(NOW), signature_value=header, body=body, now=NOW)
    assert "old" not in repr(secrets) and "new" not in repr(secrets)


@dataclass(frozen=True)
class SecretBearingConnection:
    """A connection object with a secret ARN and tokens beside the fields a notification uses."""

    connection_id: str = "cnx_0123456789abcdef01234567"
    ou_id: str = "ou_0123456789abcdef01234567"
    client_id: str = "cli_0123456789abcdef01234567"
    provider_name: str = "zoom_enterprise"
    secret_arn: str = "arn:aws:secretsmanager:us-east-1:1:secret:orgconnect/x/connections/cnx"
    access_token: str = "live-access-token"


def _profile(status: UserStatus, profile_id: str = "pro_1") -> ConferencingProfile:
    return ConferencingProfile(
        profile_id, "acc_1", CONNECTION.connection_id, "zoom", "zu_1", "a@x.com", status
    )


def test_payloads_carry_ids_and_states_only() -> None:
    connection = SecretBearingConnection()
    status = connection_status_changed(
        connection, ConnectionStatus.REVOKED, change_key="1000", occurred_at=NOW
    )
    assert status.payload() == {
        "notification": {
            "type": "connection_status_changed",
            "id": status.notification_id,
            "occurred_at": "2030-03-17T17:46:40Z",
            "organizational_unit_id": connection.ou_id,
            "connection_id": connection.connection_id,
            "provider_name": "zoom_enterprise",
            "status": "revoked",
        }
    }
    connected = profile_changed(None, _profile(UserStatus.ACTIVE), connection, occurred_at=NOW)
    assert connected is not None and connected.type is NotificationType.PROFILE_CONNECTED
    assert set(connected.payload()["notification"]) == {
        "type", "id", "occurred_at", "organizational_unit_id", "connection_id",
        "account_id", "profile_id", "provider_name", "profile_connected",
    }  # fmt: skip
    for notification in (status, connected):
        text = notification.body().decode() + json.dumps(notification.to_message())
        assert connection.secret_arn not in text and connection.access_token not in text
        assert "token" not in text and "secret" not in text
        assert Notification.from_message(json.loads(json.dumps(notification.to_message()))) == notification


def test_the_same_status_change_has_the_same_id_and_another_change_another() -> None:
    connection = SecretBearingConnection()

    def ident(status: ConnectionStatus, key: str) -> str:
        return connection_status_changed(connection, status, change_key=key, occurred_at=NOW).notification_id

    assert ident(ConnectionStatus.REVOKED, "1000") == ident(ConnectionStatus.REVOKED, "1000")
    assert len({ident(ConnectionStatus.REVOKED, "1000"), ident(ConnectionStatus.REVOKED, "2000"),
                ident(ConnectionStatus.NEEDS_REAUTHORIZATION, "1000")}) == 3  # fmt: skip


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (None, UserStatus.ACTIVE, NotificationType.PROFILE_CONNECTED),
        (None, UserStatus.PENDING, None),  # a new profile that cannot host yet
        (UserStatus.PENDING, UserStatus.ACTIVE, NotificationType.PROFILE_CONNECTED),
        (UserStatus.ACTIVE, UserStatus.INACTIVE, NotificationType.PROFILE_DISCONNECTED),
        (UserStatus.INACTIVE, UserStatus.PENDING, None),  # still not connected
        (UserStatus.ACTIVE, UserStatus.ACTIVE, None),  # a rename
    ],
)
def test_which_profile_changes_notify(
    before: UserStatus | None, after: UserStatus, expected: NotificationType | None
) -> None:
    old = _profile(before) if before else None
    made = profile_changed(old, _profile(after), CONNECTION, occurred_at=NOW)
    assert (made.type if made else None) is expected


def test_a_malformed_message_is_refused() -> None:
    good = connection_status_changed(
        SecretBearingConnection(), ConnectionStatus.REVOKED, change_key="1", occurred_at=NOW
    ).to_message()
    for bad in ({**good, "id": "ntf_x"}, {**good, "type": "other"}, {**good, "fields": {"a": 1}}):
        with pytest.raises((ValueError, TypeError)):
            Notification.from_message(bad)
    with pytest.raises(KeyError):
        Notification.from_message({"id": good["id"]})


@pytest.mark.parametrize(
    ("url", "loopback", "ok"),
    [
        ("https://hooks.example.com/orgconnect", False, True),
        ("https://hooks.example.com:8443/x?y=1", False, True),
        ("http://hooks.example.com/x", False, False),
        ("https://127.0.0.1/x", False, False),
        ("http://127.0.0.1:8080/x", False, False),
        ("http://127.0.0.1:8080/x", True, True),
        ("http://localhost:8080/x", True, True),
        ("https://localhost/x", False, False),
        ("https://169.254.169.254/latest/meta-data", False, False),
        ("https://169.254.169.254/latest/meta-data", True, False),
        ("https://10.0.0.5/x", False, False),
        ("https://192.168.1.1/x", True, False),
        ("https://[::1]/x", False, False),
        ("https://[fd00::1]/x", False, False),
        ("https://user:pw@hooks.example.com/x", False, False),
        ("https://hooks.example.com/x#frag", False, False),
        ("ftp://hooks.example.com/x", False, False),
        ("hooks.example.com/x", False, False),
        ("https://hooks.example.com/" + "a" * 2048, False, False),
    ],
)
def test_destination_rules(url: str, loopback: bool, ok: bool) -> None:
    assert (notification_url_problem(url, allow_loopback=loopback) is None) is ok
    if not ok:
        with pytest.raises(InvalidRequest):
            validate_notification_url(url, allow_loopback=loopback)


@pytest.mark.parametrize(
    ("address", "loopback", "ok"),
    [
        ("93.184.216.34", False, True),
        ("2606:2800:220:1:248:1893:25c8:1946", False, True),
        ("127.0.0.1", False, False),
        ("127.0.0.1", True, True),
        ("::ffff:127.0.0.1", False, False),
        ("::ffff:10.1.2.3", True, False),
        ("169.254.169.254", True, False),
        ("100.64.0.1", False, False),  # shared address space
        ("0.0.0.0", True, False),  # noqa: S104 - an address to refuse, not a bind
        ("224.0.0.1", False, False),
        ("not-an-address", False, False),
    ],
)
def test_resolved_addresses(address: str, loopback: bool, ok: bool) -> None:
    assert address_allowed(address, allow_loopback=loopback) is ok


def test_a_new_secret_has_full_entropy_and_a_prefix() -> None:
    made = {new_notification_secret() for _ in range(50)}
    assert len(made) == 50
    assert all(s.startswith("ntfsec_") and len(s) >= 7 + 43 for s in made)


# -- the worker with in-memory ports ------------------------------------------------------------


@dataclass
class Ports:
    destinations: dict[str, Destination] = field(default_factory=dict)
    marked: set[str] = field(default_factory=set)
    posts: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)
    fail: int = 0

    def destination(self, client_id: str) -> Destination | None:
        return self.destinations.get(client_id)

    def delivered(self, notification_id: str) -> bool:
        return notification_id in self.marked

    def mark_delivered(self, notification_id: str) -> None:
        self.marked.add(notification_id)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        if self.fail:
            self.fail -= 1
            raise RuntimeError("the receiver is down")
        self.posts.append((url, body, headers))

    def worker(self, addresses: list[str]) -> NotificationsWorker:
        return NotificationsWorker(
            self, self, self.post, now=lambda: NOW, resolve=lambda host, port: addresses
        )


def _notification() -> Notification:
    return connection_status_changed(
        SecretBearingConnection(), ConnectionStatus.REVOKED, change_key="1", occurred_at=NOW - 5
    )


def _ports(url: str = "https://hooks.example.com/n") -> Ports:
    client = SecretBearingConnection().client_id
    return Ports({client: Destination(client, url, SigningSecrets(SECRET))})


def test_the_worker_signs_posts_and_marks_once() -> None:
    ports = _ports()
    notification = _notification()
    worker = ports.worker(["93.184.216.34"])
    assert worker.handle(notification) == "delivered"
    assert worker.handle(notification) == "already_delivered"
    ((url, body, headers),) = ports.posts
    assert url == "https://hooks.example.com/n" and body == notification.body()
    assert verify(
        SECRET,
        timestamp=headers["Orgconnect-Timestamp"],
        signature_value=headers["Orgconnect-Signature"],
        body=body,
        now=NOW,
    )


def test_a_failed_post_leaves_no_mark_and_raises() -> None:
    ports = _ports()
    ports.fail = 1
    with pytest.raises(RuntimeError):
        ports.worker(["93.184.216.34"]).handle(_notification())
    assert not ports.marked
    assert ports.worker(["93.184.216.34"]).handle(_notification()) == "delivered"


def test_a_host_resolving_to_a_private_address_is_refused_before_any_post() -> None:
    ports = _ports()
    for addresses in (["10.0.0.8"], ["93.184.216.34", "169.254.169.254"], []):
        with pytest.raises(DestinationRefused):
            ports.worker(addresses).handle(_notification())
    assert ports.posts == [] and not ports.marked


def test_a_client_without_a_url_now_is_dropped() -> None:
    ports = Ports()
    assert ports.worker(["93.184.216.34"]).handle(_notification()) == "no_destination"
    assert ports.posts == []


# -- the publisher calls -------------------------------------------------------------------------


@dataclass
class Published:
    statuses: list[tuple[str, ConnectionStatus, str]] = field(default_factory=list)
    profiles: list[tuple[Any, Any, Any]] = field(default_factory=list)
    fail: bool = False

    def connection_status_changed(
        self, connection_id: str, status: ConnectionStatus, *, change_key: str
    ) -> None:
        if self.fail:
            raise TemporarilyUnavailable("SendMessage")
        self.statuses.append((connection_id, status, change_key))

    def profile_changed(self, before: Any, after: Any, connection: Any) -> None:
        if self.fail:
            raise TemporarilyUnavailable("SendMessage")
        self.profiles.append((before, after, connection))


def test_a_deauthorization_publishes_revoked_before_the_secret_goes_and_again_on_a_resumed_retry() -> None:
    accounts = deauthorization_tests.Accounts()
    vault = deauthorization_tests.Vault(set(), accounts.steps)
    link = accounts.add("a")
    published = Published(fail=True)

    def run() -> Any:
        return deauthorize_account(
            provider_names=["zoom_enterprise"],
            account_id="ZA1",
            event_time=deauthorization_tests.EVENT_AT,
            connections=accounts,
            vault=vault,
            now=deauthorization_tests.NOW,
            notifications=published,
        )

    with pytest.raises(TemporarilyUnavailable):  # the webhook answers 5xx: Zoom retries
        run()
    assert "delete arn:secret:cnx_a" not in accounts.steps  # the secret is kept for the retry
    published.fail = False
    assert run().already_revoked == ["cnx_a"]  # the retry resumes and publishes
    assert published.statuses == [("cnx_a", ConnectionStatus.REVOKED, str(link.updated_at))]
    run()  # a replay after the secret is gone publishes nothing more
    assert len(published.statuses) == 1


def test_invalid_grant_publishes_needs_reauthorization_keyed_by_the_refused_version(
    world: credentials_tests.World,
) -> None:
    published = Published()
    world.service._notifications = published
    version = world.vault.put(credentials_tests.tokens("access-0", "refresh-0", 10))
    world.refresher.fail.append(RefreshTokenRejected("Zoom refresh: 400 (invalid_grant)"))
    with pytest.raises(ConnectionNeedsReauthorization):
        world.service.access_token(credentials_tests.CONNECTION)
    assert published.statuses == [("cnx_1", ConnectionStatus.NEEDS_REAUTHORIZATION, version)]
    # A publisher that cannot queue does not change what the caller is told.
    world.clock.now += 60
    published.fail = True
    world.refresher.fail.append(RefreshTokenRejected("Zoom refresh: 400 (invalid_grant)"))
    with pytest.raises(ConnectionNeedsReauthorization):
        world.service.access_token(credentials_tests.CONNECTION)


world = credentials_tests.world


class Replacing(Memory):
    def save(self, p: ConferencingProfile) -> ConferencingProfile:
        self.profiles[(p.account_id, p.connection_id)] = p
        return p


def test_matching_publishes_each_saved_profile_change() -> None:
    users = [DirectoryUser("zu_1", "ada@example.com", "Ada", UserStatus.ACTIVE)]
    memory, published, calls = Replacing(), Published(), Counter[str]()
    adapter: Any = FakeAdapter(users, calls)
    matcher = ConferencingMatcher(memory, memory, Tokens(), lambda *_: adapter, notifications=published)
    (made,) = matcher.match_account(account(1, "ada@example.com"), "ou_1")
    assert published.profiles == [(None, made, CONNECTION)]
    matcher.match_account(account(1, "ada@example.com"), "ou_1")
    assert len(published.profiles) == 1  # unchanged: not saved, not published
    memory.users[(CONNECTION.connection_id, "ada@example.com")] = DirectoryUser(
        "zu_1", "ada@example.com", "Ada", UserStatus.INACTIVE
    )
    published.fail = True  # saved anyway; the publisher logged it
    (changed,) = matcher.match_account(account(1, "ada@example.com"), "ou_1")
    assert not changed.connected and memory.for_account("acc_1") == [changed]
