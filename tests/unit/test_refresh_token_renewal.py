"""What the live-credentials service does with a refresh token's stated expiry (Webex): an expired
one marks the connection needs_reauthorization without asking the provider; the reconcile's
``renew_refresh_token`` refreshes one that expires within the margin, and nothing otherwise."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from orgconnect.domain.connection_credentials import (
    REFRESH_RENEWAL_MARGIN,
    ConnectionCredentials,
    ConnectionNeedsReauthorization,
    CredentialPolicy,
)
from orgconnect.domain.model import ConnectionStatus
from orgconnect.domain.notifications import NoNotifications
from orgconnect.domain.provider_model import ProviderTokens
from tests.unit.test_connection_credentials import (
    ARN,
    CONNECTION,
    NOW,
    Clock,
    Leases,
    Refresher,
    Statuses,
    Vault,
)

NINETY_DAYS = 90 * 86_400


class WebexRefresher(Refresher):
    """Webex-like: the same refresh token, its lifetime restated (90 days from now)."""

    def refresh(self, connection: Any, tokens: ProviderTokens) -> ProviderTokens:
        issued = super().refresh(connection, tokens)
        return ProviderTokens(
            issued.access_token,
            tokens.refresh_token,
            issued.expires_at,
            issued.scope,
            refresh_expires_at=int(self.clock()) + NINETY_DAYS,
        )


@dataclass
class Told(NoNotifications):
    changes: list[tuple[str, ConnectionStatus, str]] = field(default_factory=list)

    def connection_status_changed(
        self, connection_id: str, status: ConnectionStatus, *, change_key: str
    ) -> None:
        self.changes.append((connection_id, status, change_key))


@dataclass
class Webex:
    clock: Clock
    vault: Vault
    leases: Leases
    statuses: Statuses
    refresher: WebexRefresher
    told: Told
    service: ConnectionCredentials

    def put(self, *, access_expires_in: int, refresh_expires_in: int | None) -> str:
        refresh_expires_at = None if refresh_expires_in is None else NOW + refresh_expires_in
        tokens = ProviderTokens(
            "access-0", "refresh-0", NOW + access_expires_in, "spark:people_read", refresh_expires_at
        )
        return self.vault.put(tokens.to_dict())

    def stored(self) -> ProviderTokens:
        current = self.vault.read_current(ARN)
        assert current is not None
        return current.tokens


@pytest.fixture
def webex() -> Webex:
    clock = Clock()
    vault, leases, statuses, told = Vault(), Leases(), Statuses(), Told()
    refresher = WebexRefresher(clock)
    service = ConnectionCredentials(
        vault=vault,
        leases=leases,
        statuses=statuses,
        refresher=refresher,
        clock=clock,
        sleep=clock.sleep,
        policy=CredentialPolicy(safety_margin=300, lease_seconds=30, wait_seconds=10, poll_seconds=0.5),
        notifications=told,
    )
    return Webex(clock, vault, leases, statuses, refresher, told, service)


def test_an_expired_refresh_token_marks_the_connection_without_asking_the_provider(webex: Webex) -> None:
    version = webex.put(access_expires_in=-10, refresh_expires_in=0)
    with pytest.raises(ConnectionNeedsReauthorization):
        webex.service.access_token(CONNECTION)
    assert webex.refresher.sent == []
    assert webex.statuses.marked == ["cnx_1"]
    assert webex.told.changes == [("cnx_1", ConnectionStatus.NEEDS_REAUTHORIZATION, version)]
    assert webex.vault.current == version  # the credentials are left as they were
    with pytest.raises(ConnectionNeedsReauthorization):
        webex.service.access_token(CONNECTION)  # its waiters are told by the lease at once
    assert webex.refresher.sent == [] and webex.statuses.marked == ["cnx_1"]


def test_a_live_access_token_is_still_handed_out_after_its_refresh_token_expired(webex: Webex) -> None:
    webex.put(access_expires_in=3600, refresh_expires_in=-1)
    assert webex.service.access_token(CONNECTION) == "access-0"
    assert webex.statuses.marked == [] and webex.refresher.sent == []


def test_the_reconcile_finds_an_expired_one_even_while_the_access_token_lives(webex: Webex) -> None:
    webex.put(access_expires_in=3600, refresh_expires_in=-1)
    with pytest.raises(ConnectionNeedsReauthorization):
        webex.service.renew_refresh_token(CONNECTION)
    assert webex.statuses.marked == ["cnx_1"] and webex.refresher.sent == []


def test_a_refresh_token_inside_the_margin_is_renewed_though_the_access_token_lives(webex: Webex) -> None:
    webex.put(access_expires_in=3600, refresh_expires_in=REFRESH_RENEWAL_MARGIN - 1)
    webex.service.renew_refresh_token(CONNECTION)
    assert webex.refresher.sent == ["refresh-0"]
    renewed = webex.stored()
    assert (renewed.access_token, renewed.refresh_token) == ("access-1", "refresh-0")
    assert renewed.refresh_expires_at == NOW + NINETY_DAYS
    webex.service.renew_refresh_token(CONNECTION)  # now far from its expiry: nothing to do
    assert webex.refresher.sent == ["refresh-0"] and webex.leases.leases == {}


@pytest.mark.parametrize("refresh_expires_in", [REFRESH_RENEWAL_MARGIN + 1, None])
def test_nothing_is_renewed_far_from_the_expiry_or_when_it_is_unknown(
    webex: Webex, refresh_expires_in: int | None
) -> None:
    version = webex.put(access_expires_in=3600, refresh_expires_in=refresh_expires_in)
    webex.service.renew_refresh_token(CONNECTION)
    assert webex.refresher.sent == [] and webex.vault.current == version and webex.leases.acquired == 0
