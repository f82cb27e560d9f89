"""Drive the browser flow in-process over the in-memory fakes: no AWS, no network, no HTTP server.

A :class:`World` holds the fakes; a :class:`Browser` keeps its cookies and calls the flow's entry
points with API Gateway events, mapping errors the way the authorize functions' resolver does
(an exception that escapes here would be the functions' 500 page).
"""

from __future__ import annotations

import re
from base64 import b64encode
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from orgconnect.domain.authorization import PageError
from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.domain.link_tokens import LINK_TOKEN_PURPOSE
from orgconnect.domain.model import (
    AdminProofPolicy,
    CalendarProvider,
    Client,
    LinkTokenGrant,
    ServiceAccount,
)
from orgconnect.domain.ports import FlowDependencies
from orgconnect.domain.sealing import Sealer
from orgconnect.domain.secrets import SecretHasher, new_id, new_secret
from orgconnect.web import flow
from tests.conftest import api_event
from tests.fakes import FakeProviders, InMemoryStore, InMemoryVault

REDIRECT_URI = "https://app.example/callback"
NOW = 1_700_000_000


@dataclass
class World:
    """The fakes behind one flow, and the integrator's client and service account."""

    app_url: str = "https://orgconnect.example"
    now: int = NOW
    store: InMemoryStore = field(init=False)
    vault: InMemoryVault = field(default_factory=InMemoryVault)
    providers: FakeProviders = field(default_factory=lambda: FakeProviders("zoom", "google", "microsoft"))
    hasher: SecretHasher = field(default_factory=lambda: SecretHasher(b"p" * 32))
    sealer: Sealer = field(default_factory=lambda: Sealer({"k1": b"k" * 32}, "k1"))
    client: Client = field(init=False)
    account: ServiceAccount = field(init=False)

    def __post_init__(self) -> None:
        self.store = InMemoryStore(lambda: self.now)
        self.client = Client(
            new_id("cli"), "Acme", "digest", (REDIRECT_URI,), admin_proof_policy=AdminProofPolicy.NEVER
        )
        self.store.create_client(self.client)
        self.account = ServiceAccount(
            new_id("ser"),
            self.client.client_id,
            CalendarProvider.GOOGLE_WORKSPACE,
            "example.com",
            None,
            None,
            NOW,
        )
        self.store.create_service_account(self.account)

    def deps(self) -> FlowDependencies:
        return FlowDependencies(
            flow_state=self.store,
            service_accounts=self.store,
            organizational_units=self.store,
            connections=self.store,
            approvals=self.store,
            hasher=self.hasher,
            app_url=self.app_url,
            code_ttl_seconds=600,
            now=self.now,
            load_sealer=lambda: self.sealer,
            load_providers=lambda: self.providers,
            load_vault=lambda: self.vault,
        )

    def link_token(self) -> str:
        token = new_secret()
        grant = LinkTokenGrant(
            self.client.client_id, self.account.service_account_id, self.now, self.now + 1800
        )
        self.store.put_link_token(self.hasher.digest(LINK_TOKEN_PURPOSE, token), grant)
        return token

    def authorize_url(self, **params: str | None) -> str:
        query: dict[str, str | None] = {
            "response_type": "code",
            "client_id": self.client.client_id,
            "redirect_uri": REDIRECT_URI,
            "state": "st-1",
            "scope": "organizational_unit_use_integrations",
            "capabilities[]": "conferencing",
            "ou_link_token": self.link_token(),
            "conferencing_provider_name": "zoom_enterprise",
            **params,
        }
        present = {k: v for k, v in query.items() if v is not None}
        return f"{self.app_url}/organizational_unit_oauth?{urlencode(present)}"


class Browser:
    """One browser: a cookie jar, and the responses it saw."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.cookies: dict[str, str] = {}
        self.set_cookies: list[str] = []  # every Set-Cookie, as sent

    def request(
        self, method: str, url: str, *, form: dict[str, str] | None = None, body_bytes: bytes | None = None
    ) -> Response[Any]:
        """One request of this browser; ``body_bytes`` is sent base64-encoded, as API Gateway passes
        a body that is not UTF-8."""
        parts = urlsplit(url)
        query = parse_qs(parts.query, keep_blank_values=True)
        headers = {"Host": parts.netloc}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urlencode(form)
        raw = api_event(method, parts.path, query=query or None, headers=headers, raw_body=body)
        if body_bytes is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            raw = api_event(
                method,
                parts.path,
                query=query or None,
                headers=headers,
                raw_body=b64encode(body_bytes).decode(),
            )
            raw["isBase64Encoded"] = True
        event = APIGatewayProxyEvent(raw)
        route = parts.path.removeprefix(urlsplit(self.world.app_url).path)  # the stage, if any
        response = self._dispatch(method, route, event)
        for cookie in response.cookies:
            self.set_cookies.append(str(cookie))
            if cookie.max_age == 0:
                self.cookies.pop(cookie.name, None)
            else:
                self.cookies[cookie.name] = cookie.value
        return response

    def get(self, url: str) -> Response[Any]:
        return self.request("GET", url)

    def _dispatch(self, method: str, path: str, event: APIGatewayProxyEvent) -> Response[Any]:
        deps = self.world.deps()
        try:
            if path == "/organizational_unit_oauth":
                return flow.start(deps, event)
            if path == "/organizational_unit_oauth/continue":
                return flow.resume(deps, event)
            if path == "/organizational_unit_oauth/consent" and method == "POST":
                return flow.decide(deps, event)
            if path.startswith("/organizational_unit_oauth/providers/"):
                return flow.choose(deps, event, path.rsplit("/", 1)[1])
            if path.startswith("/oauth/callback/"):
                return flow.callback(deps, event, path.rsplit("/", 1)[1])
        except PageError as error:
            return flow.page_for(error)
        except TemporarilyUnavailable:
            return Response(status_code=503, body="busy")
        raise AssertionError(f"no route for {method} {path}")

    def to_provider(self, url: str) -> str:
        """Follow our redirects until the provider's authorization URL; return its state."""
        response = self.get(url)
        while response.status_code == 302:
            target = location(response)
            if target.startswith("https://provider.example/"):
                return parse_qs(urlsplit(target).query)["state"][0]
            response = self.get(target)
        raise AssertionError(f"stopped at {response.status_code}: {response.body}")

    def callback(self, state: str, provider: str = "zoom", **params: str) -> Response[Any]:
        query = urlencode({"state": state, **params})
        return self.get(f"{self.world.app_url}/oauth/callback/{provider}?{query}")

    def to_consent(self, url: str) -> Response[Any]:
        state = self.to_provider(url)
        answer = self.callback(state, code="provider-code")
        assert answer.status_code == 302, answer.body
        page = self.get(location(answer))
        assert page.status_code == 200 and "name=csrf" in str(page.body), page.body
        return page

    def approve(self, consent: Response[Any], decision: str = "approve") -> Response[Any]:
        body = str(consent.body)
        csrf = re.search(r"name=csrf value='([^']+)'", body)
        ou = re.search(r"name=ou value='?([^' >]+)'?[^>]* checked", body)
        assert csrf is not None and ou is not None
        form = {"csrf": csrf.group(1), "decision": decision, "ou": ou.group(1), "ou_name": "Acme"}
        return self.request("POST", f"{self.world.app_url}/organizational_unit_oauth/consent", form=form)


def location(response: Response[Any]) -> str:
    """The Location header of a redirect."""
    value = response.headers.get("Location", "")
    return value if isinstance(value, str) else value[-1]


def integrator_params(response: Response[Any]) -> dict[str, str]:
    """The query the integrator receives from a redirect to its redirect_uri."""
    target = location(response)
    assert response.status_code == 302 and target.startswith(REDIRECT_URI), (response.status_code, target)
    return {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}
