"""Integrator notifications (docs/notifications.md): what happened to an Organizational Unit's
connections and profiles, told to the client's notification URL as signed JSON. Pure.

A notification carries ids and states only, never a token or a secret. It is signed with the
client's notification secret: ``Orgconnect-Signature: v1=hex(HMAC-SHA256(secret,
f"{timestamp}.{body}"))`` beside ``Orgconnect-Timestamp`` (one ``v1=`` per active secret while a
rotation's previous secret is still honoured). Ids of connection status changes are derived from
the change itself, so publishing the same change twice (a retried webhook, a second failed
refresh of the same tokens) makes the same notification, delivered once.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from msgspec import Struct, field

from orgconnect.domain.errors import InvalidRequest
from orgconnect.domain.model import ConnectionStatus
from orgconnect.domain.redacted import Redacted
from orgconnect.domain.secrets import ID_HEX_CHARS, id_pattern, new_id, new_secret

TIMESTAMP_HEADER = "Orgconnect-Timestamp"
SIGNATURE_HEADER = "Orgconnect-Signature"
SIGNATURE_VERSION = "v1"
#: How old a timestamp a receiver should accept (the verification recipe's window).
TOLERANCE_SECONDS = 300
#: How long a rotated-out secret still signs, by default (receivers switch within this time).
ROTATION_GRACE_SECONDS = 24 * 3600
SECRET_PREFIX = "ntfsec_"  # noqa: S105 - a recognizable prefix (secret scanners), not a secret
NOTIFICATION_ID = id_pattern("ntf")
LOOPBACK_NAMES = frozenset({"localhost"})


class NotificationType(StrEnum):
    CONNECTION_STATUS_CHANGED = "connection_status_changed"
    PROFILE_CONNECTED = "profile_connected"
    PROFILE_DISCONNECTED = "profile_disconnected"


class Notification(Struct, frozen=True):
    """One notification for ``client_id``. ``fields`` are ids and states only."""

    notification_id: str
    type: NotificationType
    client_id: str
    occurred_at: int
    fields: Mapping[str, str | bool] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        """The JSON the client receives."""
        return {
            "notification": {
                "type": str(self.type),
                "id": self.notification_id,
                "occurred_at": iso_time(self.occurred_at),
                **self.fields,
            }
        }

    def body(self) -> bytes:
        """The exact bytes that are signed and POSTed (compact JSON, UTF-8)."""
        import json

        return json.dumps(self.payload(), separators=(",", ":"), ensure_ascii=False).encode()

    def to_message(self) -> dict[str, Any]:
        """The SQS message body."""
        return {
            "client_id": self.client_id,
            "id": self.notification_id,
            "type": str(self.type),
            "occurred_at": self.occurred_at,
            "fields": dict(self.fields),
        }

    @classmethod
    def from_message(cls, body: Mapping[str, Any]) -> Notification:
        """Read a queued message back (KeyError/ValueError/TypeError for one that is not ours)."""
        notification_id = str(body["id"])
        if not NOTIFICATION_ID.match(notification_id):
            raise ValueError("not a notification id")
        fields = body["fields"]
        if not isinstance(fields, dict) or not all(isinstance(v, str | bool) for v in fields.values()):
            raise TypeError("notification fields are ids and states")
        return cls(
            notification_id=notification_id,
            type=NotificationType(body["type"]),
            client_id=str(body["client_id"]),
            occurred_at=int(body["occurred_at"]),
            fields={str(k): v for k, v in fields.items()},
        )


def iso_time(epoch_seconds: int) -> str:
    """``2026-11-29T18:40:00Z``."""
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def derived_id(*parts: str) -> str:
    """A notification id that is the same for the same parts (the change it tells)."""
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()
    return f"ntf_{digest[:ID_HEX_CHARS]}"


class NotifiedConnection(Protocol):
    """What a notification tells of a connection (ManagedConnection and Connection fit)."""

    @property
    def connection_id(self) -> str: ...

    @property
    def ou_id(self) -> str: ...

    @property
    def client_id(self) -> str: ...

    @property
    def provider_name(self) -> str: ...


class NotifiedProfile(Protocol):
    """What a notification tells of a conferencing profile (``domain.matching.ConferencingProfile``)."""

    @property
    def profile_id(self) -> str: ...

    @property
    def account_id(self) -> str: ...

    @property
    def provider_name(self) -> str: ...

    @property
    def connected(self) -> bool: ...


def connection_status_changed(
    connection: NotifiedConnection, status: ConnectionStatus, *, change_key: str, occurred_at: int
) -> Notification:
    """``connection_status_changed``; ``change_key`` names this change (the provider-account link's
    generation, the refreshed secret version): the same change always gets the same id."""
    return Notification(
        notification_id=derived_id(
            str(NotificationType.CONNECTION_STATUS_CHANGED), connection.connection_id, str(status), change_key
        ),
        type=NotificationType.CONNECTION_STATUS_CHANGED,
        client_id=connection.client_id,
        occurred_at=occurred_at,
        fields={
            "organizational_unit_id": connection.ou_id,
            "connection_id": connection.connection_id,
            "provider_name": connection.provider_name,
            "status": str(status),
        },
    )


def profile_changed(
    before: NotifiedProfile | None,
    after: NotifiedProfile,
    connection: NotifiedConnection,
    *,
    occurred_at: int,
) -> Notification | None:
    """``profile_connected`` / ``profile_disconnected`` when ``after`` is new and connected, or its
    connected state differs from ``before``; None otherwise (a rename, a new pending profile)."""
    was = before.connected if before is not None else False
    if after.connected == was:
        return None
    kind = NotificationType.PROFILE_CONNECTED if after.connected else NotificationType.PROFILE_DISCONNECTED
    return Notification(
        notification_id=new_id("ntf"),
        type=kind,
        client_id=connection.client_id,
        occurred_at=occurred_at,
        fields={
            "organizational_unit_id": connection.ou_id,
            "connection_id": connection.connection_id,
            "account_id": after.account_id,
            "profile_id": after.profile_id,
            "provider_name": after.provider_name,
            "profile_connected": after.connected,
        },
    )


class NotificationPublisher(Protocol):
    """Where the points of change hand their news (``store.notifications_queue`` queues it for the
    client's URL; a client without one gets nothing). Raises TemporarilyUnavailable when the
    notification could not be queued (already logged); the caller decides whether that fails it."""

    def connection_status_changed(
        self, connection_id: str, status: ConnectionStatus, *, change_key: str
    ) -> None:
        """The connection now has ``status`` (the publisher reads the rest of it)."""
        ...

    def profile_changed(
        self, before: NotifiedProfile | None, after: NotifiedProfile, connection: NotifiedConnection
    ) -> None:
        """A profile was saved as ``after`` (``before``: as it was, None when new)."""
        ...


class NoNotifications:
    """The publisher of code paths and tests that notify nobody."""

    def connection_status_changed(
        self, connection_id: str, status: ConnectionStatus, *, change_key: str
    ) -> None:
        """Nothing."""

    def profile_changed(
        self, before: NotifiedProfile | None, after: NotifiedProfile, connection: NotifiedConnection
    ) -> None:
        """Nothing."""


NO_NOTIFICATIONS = NoNotifications()


# -- signing ------------------------------------------------------------------------------------


def new_notification_secret() -> str:
    """A client's new signing secret (256 bits of CSPRNG), shown to the operator once."""
    return SECRET_PREFIX + new_secret()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """hex(HMAC-SHA256(secret, f"{timestamp}.{body}"))."""
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(secrets: Iterable[str], timestamp: int, body: bytes) -> str:
    """``v1=<hex>``, one per active secret, space-separated (current first)."""
    return " ".join(f"{SIGNATURE_VERSION}={signature(s, timestamp, body)}" for s in secrets)


def verify(
    secret: str,
    *,
    timestamp: str | None,
    signature_value: str | None,
    body: bytes,
    now: int,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """The receiver's check (docs/notifications.md): a fresh timestamp and a ``v1`` signature
    made with ``secret``, compared in constant time."""
    if not timestamp or not signature_value or not timestamp.isdigit():
        return False
    if abs(now - int(timestamp)) > tolerance:
        return False
    expected = signature(secret, int(timestamp), body)
    found = False
    for part in signature_value.split():
        version, _, value = part.partition("=")
        found |= version == SIGNATURE_VERSION and hmac.compare_digest(value, expected)
    return found


class SigningSecrets(Redacted, frozen=True):
    """A client's secrets: the current one, and the previous one until ``previous_until``."""

    __redacted__ = frozenset({"current", "previous"})

    current: str
    previous: str | None = None
    previous_until: int | None = None

    def active(self, now: int) -> list[str]:
        """The secrets that sign a notification sent at ``now`` (current first)."""
        keep_previous = self.previous and self.previous_until is not None and now < self.previous_until
        return [self.current, self.previous] if keep_previous and self.previous else [self.current]


class Destination(Struct, frozen=True):
    """Where a client's notifications go, and how they are signed."""

    client_id: str
    url: str
    secrets: SigningSecrets


def sealing_context(client_id: str) -> bytes:
    """Associated data of a client's sealed notification secret (it opens for that client only)."""
    return b"notification_secret\x00" + client_id.encode()


# -- destinations -------------------------------------------------------------------------------


def address_allowed(address: str, *, allow_loopback: bool) -> bool:
    """Whether notifications may be sent to the IP ``address``: a public (global) address, or a
    loopback one when ``allow_loopback`` (the dev stack). Never link-local (instance metadata),
    private, shared, reserved or multicast ranges."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return allow_loopback
    return ip.is_global and not ip.is_multicast


def notification_url_problem(url: str, *, allow_loopback: bool) -> str | None:
    """Why ``url`` cannot receive notifications; None when it can. The callback URL rules of
    delegated access (absolute, no fragment or credentials, http only for loopback), and in
    production a public host: no loopback name or address, no private or link-local address."""
    # Delegated access's rules for callback URLs; imported here, as only the CLI and the worker check.
    from urllib.parse import urlsplit

    from orgconnect.domain.delegated_access import callback_url_problem

    problem = callback_url_problem(url)
    if problem:
        return problem

    host = urlsplit(url).hostname or ""
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return (
            None if allow_loopback else "must be a public address (loopback is allowed only in the dev stack)"
        )
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None  # a name: its addresses are checked when a notification is sent
    if not address_allowed(host, allow_loopback=allow_loopback):
        return "must be a public address (no private, link-local or loopback address)"
    return None


def validate_notification_url(url: str, *, allow_loopback: bool) -> str:
    """``url`` unchanged, or InvalidRequest naming the problem."""
    problem = notification_url_problem(url, allow_loopback=allow_loopback)
    if problem:
        raise InvalidRequest.single("url", "errors.invalid", f"{url!r} {problem}")
    return url
