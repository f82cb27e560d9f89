"""The provider API client against the Microsoft, Google and Webex simulators served on 127.0.0.1:
the authorization clients get an administrator's tokens, then the API client pages Graph
(``@odata.nextLink``), the Directory (``pageToken``) and Webex People (``Link`` header, with
Webex's next-URL quirks on) and refreshes (Microsoft rotates the refresh token, Google keeps it)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from devstack.servers import serve_wsgi
from devstack.simulators.common import Simulator
from devstack.simulators.demo import PRIMARY_DOMAIN, SECONDARY_DOMAIN, build_demo_directory
from devstack.simulators.google import GoogleSimulator
from devstack.simulators.microsoft import MicrosoftSimulator
from devstack.simulators.webex import WebexSimulator
from orgconnect.domain.model import ProviderApp
from orgconnect.domain.provider_model import ProviderTokens, Purpose
from orgconnect.providers.api import close_pooled_clients
from orgconnect.providers.base import OAuthProvider
from orgconnect.providers.google import GoogleApi, GoogleProvider
from orgconnect.providers.microsoft import GraphApi, MicrosoftProvider
from orgconnect.providers.retry import RetryPolicy
from orgconnect.providers.webex import WebexApi, WebexProvider
from tests.simulators._provider_fixtures import frozen_clock, redirect_params, sign_in

DEMO = build_demo_directory(seed=7)


class Served:
    """A simulator on a free loopback port with orgconnect's app registered for ``callback``."""

    def __init__(self, sim: Simulator, callback: str) -> None:
        self.sim = sim
        self.callback = callback
        self.server = serve_wsgi(sim, name=f"provider-api-{sim.name}")
        self.url = self.server.url
        info = sim.dev_info(self.url)
        self.app = ProviderApp(info["oauth_client_id"], info["oauth_client_secret"])
        self.http = httpx.Client(timeout=10)

    def tokens(self, provider: OAuthProvider, purpose: Purpose, *, user: str) -> ProviderTokens:
        """``user`` signs in on the simulator's page and approves; the code is exchanged."""
        verifier = "v" * 64
        url = provider.authorization_url(
            purpose=purpose, state="st", redirect_uri=self.callback, code_verifier=verifier
        )
        parts = urlsplit(url)
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        answer = sign_in(self.http, f"{self.url}{parts.path}", params, user=user)
        code = redirect_params(answer)["code"]
        return provider.exchange_code(
            purpose=purpose, code=code, redirect_uri=self.callback, code_verifier=verifier
        )

    def close(self) -> None:
        self.http.close()
        self.server.stop()
        close_pooled_clients()


@pytest.fixture(scope="module")
def microsoft() -> Iterator[Served]:
    callback = "http://127.0.0.1:8000/oauth/callback/microsoft"
    served = Served(
        MicrosoftSimulator(DEMO, seed=7, clock=frozen_clock(), redirect_uris=[callback]), callback
    )
    yield served
    served.close()


@pytest.fixture(scope="module")
def google() -> Iterator[Served]:
    callback = "http://127.0.0.1:8000/oauth/callback/google"
    served = Served(GoogleSimulator(DEMO, seed=7, clock=frozen_clock(), redirect_uris=[callback]), callback)
    yield served
    served.close()


@pytest.fixture(scope="module")
def webex() -> Iterator[Served]:
    callback = "http://127.0.0.1:8000/oauth/callback/webex"
    sim = WebexSimulator(DEMO, seed=7, clock=frozen_clock(), redirect_uris=[callback], paging_quirks=True)
    served = Served(sim, callback)
    yield served
    served.close()


def test_graph_pages_follow_next_link_over_every_user(microsoft: Served) -> None:
    admin = next(p for p in DEMO.in_domain(SECONDARY_DOMAIN) if p.is_admin)
    provider = MicrosoftProvider(microsoft.app, base_url=microsoft.url)
    tokens = microsoft.tokens(provider, Purpose.CALENDARS, user=admin.email)
    client = GraphApi(microsoft.app, tokens, base_url=microsoft.url, retry_policy=RetryPolicy(attempts=2))
    pages = list(client.pages("/v1.0/users", params={"$top": "3", "$select": "id,userPrincipalName"}))
    names = [user["userPrincipalName"] for page in pages for user in page.items]
    people = DEMO.in_domain(SECONDARY_DOMAIN)
    assert sorted(names) == sorted(p.email for p in people)
    assert len(pages) == -(-len(people) // 3) > 1
    assert all("@odata.nextLink" in page.body for page in pages[:-1])


def test_graph_refresh_rotates_the_refresh_token(microsoft: Served) -> None:
    admin = next(p for p in DEMO.in_domain(SECONDARY_DOMAIN) if p.is_admin)
    provider = MicrosoftProvider(microsoft.app, base_url=microsoft.url)
    first = microsoft.tokens(provider, Purpose.CALENDARS, user=admin.email)
    client = GraphApi(microsoft.app, first, base_url=microsoft.url)
    second = client.refresh()
    assert second.refresh_token and second.refresh_token != first.refresh_token
    assert client.get("/v1.0/me")["userPrincipalName"] == admin.email


def test_directory_pages_send_page_token_over_every_user(google: Served) -> None:
    provider = GoogleProvider(google.app, base_url=google.url)
    tokens = google.tokens(provider, Purpose.ADMIN_PROOF, user=DEMO.admin.email)
    client = GoogleApi(google.app, tokens, base_url=google.url)
    pages = list(
        client.pages(
            "/admin/directory/v1/users",
            params={"customer": "my_customer", "maxResults": "7"},
            items_key="users",
        )
    )
    emails = [user["primaryEmail"] for page in pages for user in page.items]
    people = DEMO.in_domain(PRIMARY_DOMAIN)
    assert sorted(emails) == sorted(p.email for p in people)
    assert len(pages) == -(-len(people) // 7) > 1


def test_google_refresh_keeps_the_refresh_token(google: Served) -> None:
    provider = GoogleProvider(google.app, base_url=google.url)
    first = google.tokens(provider, Purpose.ADMIN_PROOF, user=DEMO.admin.email)
    client = GoogleApi(google.app, first, base_url=google.url)
    for _ in range(2):
        refreshed = client.refresh()
        assert refreshed.refresh_token == first.refresh_token
        assert refreshed.access_token != first.access_token
    assert client.get("/v1/userinfo", host="openid")["email"] == DEMO.admin.email


def test_webex_pages_follow_the_link_header_despite_its_quirks(webex: Served) -> None:
    provider = WebexProvider(webex.app, base_url=webex.url)
    tokens = webex.tokens(provider, Purpose.CONFERENCING, user=DEMO.admin.email)
    client = WebexApi(webex.app, tokens, base_url=webex.url)
    pages = list(client.pages("/v1/people", params={"max": "4"}))
    ids = [person["id"] for page in pages for person in page.items]
    assert isinstance(webex.sim, WebexSimulator)
    assert sorted(ids) == sorted(webex.sim.people)
    assert all(len(page.items) <= 4 for page in pages)
    assert len(pages) == -(-len(ids) // 4) > 1
