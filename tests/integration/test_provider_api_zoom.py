"""The provider API client against the Zoom simulator served on 127.0.0.1 (a free port): the
authorization client gets the tokens, the API client refreshes (rotation), calls and pages, and the
simulator's control API (/_sim) forces 429 with Retry-After, 5xx, timeouts and invalid_grant.
Tenacity's sleep is a recorder: the tests never wait for a backoff."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from devstack.servers import RunningServer
from devstack.simulators.zoom import ZoomSimulator
from orgconnect.domain.model import ProviderApp
from orgconnect.domain.provider_model import (
    AccessTokenRejected,
    ProviderRefused,
    ProviderTokens,
    ProviderUnavailable,
    Purpose,
    RefreshTokenRejected,
)
from orgconnect.providers.api import Timeouts, close_pooled_clients
from orgconnect.providers.retry import RetryPolicy
from orgconnect.providers.zoom import ZoomApi, ZoomProvider
from tests.wsgi_slot import Slot, slot_server

CLOCK_START = 1_700_000_000.0  # the simulator's frozen clock
CALLBACK = "http://127.0.0.1:8000/oauth/callback/zoom"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[RunningServer, Slot]]:
    with slot_server("provider-api-zoom") as served:
        yield served


@dataclass
class Zoom:
    sim: ZoomSimulator
    url: str
    control: httpx.Client
    sleeps: list[float] = field(default_factory=list)

    @property
    def app(self) -> ProviderApp:
        info = self.sim.dev_info(self.url)
        return ProviderApp(info["oauth_client_id"], info["oauth_client_secret"])

    def fault(self, **fault: Any) -> None:
        response = self.control.post("/_sim/faults", json=fault)
        assert response.status_code < 300, response.text

    def user_tokens(self) -> ProviderTokens:
        """The admin authorizes orgconnect's app through the authorization client."""
        provider = ZoomProvider(self.app, base_url=self.url)
        verifier = "v" * 64
        url = provider.authorization_url(
            purpose=Purpose.CONFERENCING, state="st", redirect_uri=CALLBACK, code_verifier=verifier
        )
        params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        form = {**params, "decision": "approve", "user": self.sim.paid_account().owner_id}
        answer = self.control.post("/oauth/authorize", data=form)
        assert answer.status_code == 302, answer.text
        code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
        return provider.exchange_code(
            purpose=Purpose.CONFERENCING, code=code, redirect_uri=CALLBACK, code_verifier=verifier
        )

    def api(self, tokens: ProviderTokens, **kwargs: Any) -> ZoomApi:
        kwargs.setdefault("retry_policy", RetryPolicy(attempts=3))
        return ZoomApi(
            self.app, tokens, base_url=self.url, sleep=self.sleeps.append, clock=lambda: CLOCK_START, **kwargs
        )


@pytest.fixture
def zoom(served: tuple[RunningServer, Slot]) -> Iterator[Zoom]:
    server, slot = served
    sim = ZoomSimulator(clock=lambda: CLOCK_START, redirect_uris=[CALLBACK])
    slot.app = sim
    with httpx.Client(base_url=server.url, timeout=10) as control:
        yield Zoom(sim, server.url, control)
        sim.clear_faults()  # lets go of any request a timeout fault still holds
    close_pooled_clients()


def test_refresh_rotates_the_refresh_token_and_the_old_one_is_then_refused(zoom: Zoom) -> None:
    first = zoom.user_tokens()
    client = zoom.api(first)
    second = client.refresh()
    assert second.refresh_token and second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    assert client.get("/v2/users/me")["email"]
    with pytest.raises(RefreshTokenRejected) as raised:
        zoom.api(first).refresh()  # a caller that did not persist the rotated token
    assert raised.value.error == "invalid_grant"
    assert client.refresh().refresh_token not in {first.refresh_token, second.refresh_token}


def test_invalid_grant_at_refresh_is_refresh_token_rejected(zoom: Zoom) -> None:
    client = zoom.api(zoom.user_tokens())
    zoom.fault(target="token", kind="invalid_grant")
    with pytest.raises(RefreshTokenRejected):
        client.refresh()


def test_a_rejected_access_token_is_refreshed_by_the_caller(zoom: Zoom) -> None:
    tokens = zoom.user_tokens()
    client = zoom.api(ProviderTokens(access_token="not-a-token", refresh_token=tokens.refresh_token))
    with pytest.raises(AccessTokenRejected) as raised:
        client.get("/v2/users/me")
    assert (raised.value.status, raised.value.error) == (401, "124")
    client.refresh()
    assert client.get("/v2/users/me")["account_id"] == zoom.sim.paid_account().id


def test_429_is_retried_after_the_retry_after_date(zoom: Zoom) -> None:
    client = zoom.api(zoom.user_tokens())
    zoom.fault(target="api", kind="429", count=1)
    assert client.get("/v2/users/me")["email"]
    assert zoom.sleeps == [1.0]  # Zoom's ISO date: the next second of the simulator's clock


def test_429_is_retried_after_retry_after_seconds(zoom: Zoom) -> None:
    assert zoom.control.patch("/_sim/options", json={"retry_after": "seconds"}).status_code == 200
    client = zoom.api(zoom.user_tokens())
    zoom.fault(target="api", kind="429", count=2)
    assert client.get("/v2/users/me")["email"]
    assert zoom.sleeps == [1.0, 1.0]


def test_429_exposes_zooms_rate_limit_headers_when_retries_run_out(zoom: Zoom) -> None:
    client = zoom.api(zoom.user_tokens())
    zoom.fault(target="api", kind="429", count=5)
    with pytest.raises(ProviderUnavailable) as raised:
        client.get("/v2/users/me")
    assert raised.value.status == 429
    assert client.last_rate_limit["x-ratelimit-type"] == "QPS"
    assert client.last_rate_limit["x-ratelimit-remaining"] == "0"


def test_5xx_is_retried_and_then_gives_up(zoom: Zoom) -> None:
    client = zoom.api(zoom.user_tokens())
    zoom.fault(target="api", kind="503", count=2)
    assert client.get("/v2/users/me")["email"]
    assert len(zoom.sleeps) == 2
    zoom.fault(target="api", kind="500", count=3)
    with pytest.raises(ProviderUnavailable) as raised:
        client.get("/v2/users/me")
    assert raised.value.status == 500


def test_a_timeout_is_retried_for_a_read(zoom: Zoom) -> None:
    client = zoom.api(zoom.user_tokens(), timeouts=Timeouts(connect=2.0, read=0.3))
    zoom.fault(target="api", kind="timeout", count=1, delay_seconds=3)
    assert client.get("/v2/users/me")["email"]
    assert len(zoom.sleeps) == 1


def test_a_timeout_at_refresh_is_not_replayed(zoom: Zoom) -> None:
    client = zoom.api(zoom.user_tokens(), timeouts=Timeouts(connect=2.0, read=0.3))
    zoom.fault(target="token", kind="timeout", count=1, delay_seconds=3)
    with pytest.raises(ProviderUnavailable) as raised:
        client.refresh()
    assert raised.value.description == "Zoom POST /oauth/token: ReadTimeout"
    assert zoom.sleeps == []


def test_a_4xx_carries_zooms_code(zoom: Zoom) -> None:
    client = zoom.api(zoom.user_tokens())
    with pytest.raises(ProviderRefused) as raised:
        client.get("/v2/users/nobody@nowhere.test")
    assert (raised.value.status, raised.value.error) == (404, "1001")


def test_paging_covers_every_active_user_once(zoom: Zoom) -> None:
    client = zoom.api(zoom.user_tokens())
    pages = list(client.pages("/v2/users", params={"status": "active", "page_size": "3"}, items_key="users"))
    emails = [user["email"] for page in pages for user in page.items]
    expected = zoom.sim.dev_info(zoom.url)["user_counts"]["active"]
    assert len(emails) == expected == len(set(emails))
    assert len(pages) == -(-expected // 3)


def test_post_patch_and_delete(zoom: Zoom) -> None:
    client = zoom.api(zoom.user_tokens())
    meeting = client.post("/v2/users/me/meetings", {"topic": "Interview", "type": 2, "duration": 30})
    assert client.get(f"/v2/meetings/{meeting['id']}")["topic"] == "Interview"
    user = next(iter(client.pages("/v2/users", params={"role_id": "2"}, items_key="users"))).items[0]
    assert client.patch(f"/v2/users/{user['id']}", {"dept": "Recruiting"}) is None
    assert client.get(f"/v2/users/{user['id']}")["dept"] == "Recruiting"
    assert client.delete(f"/v2/users/{user['id']}", params={"action": "delete"}) is None
    with pytest.raises(ProviderRefused) as raised:
        client.get(f"/v2/users/{user['id']}")
    assert raised.value.status == 404
