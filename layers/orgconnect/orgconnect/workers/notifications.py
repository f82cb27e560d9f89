"""The notifications worker's application logic: one queued notification in, one signed POST out.

Per notification: already delivered (its id has a marker)? nothing. The client's destination is
read again (a URL cleared since: dropped, logged); the URL must still pass the destination rules
and its host must resolve to allowed addresses only (public; loopback in the dev stack); the body
is signed with every active secret and POSTed, retried within the invocation on network errors,
5xx, 408 and 429. Any other failure raises, so the record fails and SQS redelivers it after the
visibility timeout, then moves it to the dead-letter queue. Nothing here logs a secret or a body.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any, Protocol

import httpx
from msgspec import Struct

from orgconnect.domain.notifications import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Destination,
    Notification,
    address_allowed,
    notification_url_problem,
    signature_header,
)
from orgconnect.observability import logger
from orgconnect.workers.callbacks import CallbackPolicy, post_with_retries

USER_AGENT = "orgconnect-notifications/1"


class DestinationRefused(Exception):
    """The client's URL is not an allowed destination (a private address, a bad URL)."""


class Destinations(Protocol):
    """``orgconnect.store.notifications.DynamoNotificationDestinations``."""

    def destination(self, client_id: str) -> Destination | None: ...


class DeliveryMarkers(Protocol):
    """``orgconnect.store.notifications.DynamoDeliveryMarkers``."""

    def delivered(self, notification_id: str) -> bool: ...

    def mark_delivered(self, notification_id: str) -> None: ...


Resolver = Callable[[str, int], list[str]]
Poster = Callable[[str, bytes, dict[str, str]], None]


def resolve_addresses(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (DNS), as text."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise DestinationRefused(f"the host does not resolve ({type(error).__name__})") from None
    return [str(info[4][0]) for info in infos]


def check_destination(url: str, *, allow_loopback: bool, resolve: Resolver = resolve_addresses) -> None:
    """DestinationRefused unless ``url`` passes the rules and every address of its host is allowed."""
    problem = notification_url_problem(url, allow_loopback=allow_loopback)
    if problem:
        raise DestinationRefused(problem)
    parts = httpx.URL(url)
    addresses = resolve(parts.host, parts.port or (443 if parts.scheme == "https" else 80))
    if not addresses or not all(address_allowed(a, allow_loopback=allow_loopback) for a in addresses):
        raise DestinationRefused("the host resolves to an address that is not allowed")


def post_signed(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    policy: CallbackPolicy,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], Any] = time.sleep,
) -> None:
    """POST ``body`` to ``url``; CallbackUndeliverable when it never got a 2xx. Never follows
    redirects (a redirect could lead anywhere, past the destination check)."""
    post_with_retries(
        url,
        target="the notification URL",
        user_agent=USER_AGENT,
        content=body,
        headers=headers,
        policy=policy,
        transport=transport,
        sleep=sleep,
    )


class NotificationsWorker(Struct):
    """The worker's ports, built by ``orgconnect.delegated_runtime`` (fakes in unit tests)."""

    destinations: Destinations
    markers: DeliveryMarkers
    post: Poster
    now: Callable[[], int]
    allow_loopback: bool = False
    resolve: Resolver = resolve_addresses

    def handle(self, notification: Notification) -> str:
        """Deliver one notification; returns the outcome (``delivered``, ``already_delivered``,
        ``no_destination``). Raises when it should be tried again (then dead-lettered)."""
        if self.markers.delivered(notification.notification_id):
            return "already_delivered"
        destination = self.destinations.destination(notification.client_id)
        if destination is None:
            logger.warning(
                "notification dropped: the client has no notification URL now",
                extra={"notification_id": notification.notification_id, "client_id": notification.client_id},
            )
            return "no_destination"
        check_destination(destination.url, allow_loopback=self.allow_loopback, resolve=self.resolve)
        timestamp = self.now()
        body = notification.body()
        self.post(
            destination.url,
            body,
            {
                TIMESTAMP_HEADER: str(timestamp),
                SIGNATURE_HEADER: signature_header(destination.secrets.active(timestamp), timestamp, body),
            },
        )
        self.markers.mark_delivered(notification.notification_id)
        return "delivered"
