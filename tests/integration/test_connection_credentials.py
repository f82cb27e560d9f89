"""Live connection credentials end to end (domain/connection_credentials.py with the DynamoDB lease,
the versioned secret and the Zoom API client) against the Zoom simulator on 127.0.0.1, on moto
and on DynamoDB Local: 20 concurrent callers on an expiring token cause exactly one upstream
refresh (counted in the simulator's /_sim request log) and all get the same new token; the rotated
refresh token is saved (the old one is refused afterwards); invalid_grant marks the connection
``needs_reauthorization`` in the OU read model of the API; 5xx and timeouts keep the credentials;
a crashed holder's lease expires and is taken over."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

from orgconnect import runtime
from orgconnect.domain.connection_credentials import (
    ConnectionCredentials,
    CredentialPolicy,
    Lease,
)
from orgconnect.domain.provider_model import ProviderTokens, ProviderUnavailable, RefreshTokenRejected
from orgconnect.domain.secrets import new_id
from orgconnect.providers.connection_tokens import ProviderConnectionTokens
from orgconnect.providers.registry import ProviderRegistry
from orgconnect.store.conferencing_connections import DynamoConferencingConnections
from orgconnect.store.connection_leases import DynamoConnectionLeases, lease_key
from orgconnect.store.dynamodb import to_item
from tests.integration.expiring_connection import (
    ExpiringConnection,
    check_invalid_grant,
    store_expiring_connection,
)
from tests.integration.test_provider_api_zoom import Zoom, served, zoom  # noqa: F401 (fixtures)

pytestmark = pytest.mark.every_dynamodb
CALLERS = 20


@dataclass
class Clock:
    """The service's clock: real seconds plus a manual offset (never the simulator's)."""

    offset: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.offset += seconds


@dataclass
class Linked(ExpiringConnection):
    zoom: Zoom
    registry: ProviderRegistry
    clock: Clock
    first: ProviderTokens

    def service(self, **policy: Any) -> ConnectionCredentials:
        """A service as one Lambda environment would build it (its own instances)."""
        store = runtime.get_store()
        return ConnectionCredentials(
            vault=self.vault,
            leases=DynamoConnectionLeases(store),
            statuses=DynamoConferencingConnections(store, clock=lambda: int(self.clock())),
            refresher=ProviderConnectionTokens(lambda: self.registry, timeout=1.0),
            clock=self.clock,
            policy=CredentialPolicy(**{"poll_seconds": 0.05, "wait_seconds": 20.0, **policy}),
        )

    def refreshes(self) -> int:
        """Refresh grants the simulator received (its request log)."""
        entries = self.zoom.control.get("/_sim/requests").json()["requests"]
        return sum(
            1
            for e in entries
            if e.get("path") == "/oauth/token"
            and (e.get("params") or {}).get("grant_type") == "refresh_token"
        )


@pytest.fixture
def linked(aws: dict[str, str], zoom: Zoom) -> Linked:  # noqa: F811
    """A browser-linked Zoom connection whose access token expires within the safety margin."""
    clock = Clock()
    first = zoom.user_tokens()
    connection, vault = store_expiring_connection(first, "zoom_enterprise", zoom.sim.paid_account().id, clock)
    registry = ProviderRegistry({"zoom": zoom.app}, overrides={"zoom": zoom.url}, timeout=1.0)
    zoom.control.delete("/_sim/requests")
    return Linked(connection, vault, zoom, registry, clock, first)


def test_twenty_concurrent_callers_cause_one_refresh_and_share_its_token(linked: Linked) -> None:
    services = [linked.service() for _ in range(CALLERS)]
    start = threading.Barrier(CALLERS)

    def call(service: ConnectionCredentials) -> str:
        start.wait()
        return service.access_token(linked.connection)

    with ThreadPoolExecutor(max_workers=CALLERS) as pool:
        tokens = list(pool.map(call, services))
    assert linked.refreshes() == 1
    assert len(set(tokens)) == 1 and tokens[0] != linked.first.access_token
    assert linked.stored()["access_token"] == tokens[0]
    store = runtime.get_store()
    assert store.read(lease_key(linked.connection.connection_id)) is None  # released


def test_the_rotated_refresh_token_is_saved_and_the_old_one_is_refused(linked: Linked) -> None:
    service = linked.service()
    first_access = service.access_token(linked.connection)
    rotated = linked.stored()["refresh_token"]
    assert rotated and rotated != linked.first.refresh_token
    with pytest.raises(RefreshTokenRejected):
        linked.zoom.api(linked.first).refresh()  # Zoom retired the token the service sent
    # The next refresh (forced by a 401 of the current token) goes out with the saved one.
    second_access = service.access_token(linked.connection, rejected=first_access)
    assert second_access != first_access and linked.refreshes() == 3  # ours, the refused one, ours
    assert linked.stored()["refresh_token"] not in {rotated, linked.first.refresh_token}
    with pytest.raises(RefreshTokenRejected):
        linked.zoom.api(ProviderTokens("x", rotated)).refresh()


def test_invalid_grant_marks_the_connection_needs_reauthorization(linked: Linked) -> None:
    check_invalid_grant(
        linked,
        linked.service,
        lambda: linked.zoom.fault(target="token", kind="invalid_grant"),
        linked.refreshes,
    )


@pytest.mark.parametrize(
    "fault",
    [{"kind": "503", "count": 2}, {"kind": "timeout", "delay_seconds": 3}],
    ids=["5xx", "timeout"],
)
def test_an_unreachable_zoom_keeps_the_credentials(linked: Linked, fault: dict[str, Any]) -> None:
    before = linked.stored()
    linked.zoom.fault(target="token", **fault)
    with pytest.raises(ProviderUnavailable):
        linked.service().access_token(linked.connection)
    assert linked.stored() == before and linked.status() == "connected"
    linked.zoom.sim.clear_faults()
    linked.clock.advance(CredentialPolicy().failure_hold_seconds + 1)
    # The kept refresh token still works once Zoom is back.
    assert linked.service().access_token(linked.connection) != before["access_token"]


def test_a_crashed_holders_lease_expires_and_is_taken_over(linked: Linked) -> None:
    store = runtime.get_store()
    current = linked.vault.read_current(linked.connection.secret_arn)
    assert current is not None
    now = int(linked.clock())
    crashed = Lease(linked.connection.connection_id, "crashed-holder", now + 30, current.version)
    leases = DynamoConnectionLeases(store)
    assert leases.acquire(crashed, now=now).acquired
    service = linked.service(wait_seconds=120.0, poll_seconds=10.0)
    service._sleep = linked.clock.advance  # waiting moves the service's clock, not the test's time
    token = service.access_token(linked.connection)
    assert token != linked.first.access_token and linked.refreshes() == 1
    assert store.read(lease_key(linked.connection.connection_id)) is None


def test_a_revoked_connection_is_not_marked_needs_reauthorization(linked: Linked) -> None:
    store = runtime.get_store()
    repository = DynamoConferencingConnections(store, clock=lambda: int(linked.clock()))
    connection_key = {"pk": f"CONNECTION#{linked.connection.connection_id}", "sk": "CONNECTION"}
    store.client.update_item(
        TableName=store.table_name,
        Key=to_item(connection_key),
        UpdateExpression="SET #s = :revoked",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues=to_item({":revoked": "revoked"}),
    )
    repository.mark_needs_reauthorization(linked.connection.connection_id, now=int(linked.clock()))
    assert linked.status() == "revoked"
    unknown = new_id("cnx")
    repository.mark_needs_reauthorization(unknown, now=int(linked.clock()))  # nothing is created
    assert store.read({"pk": f"CONNECTION#{unknown}", "sk": "CONNECTION"}) is None
