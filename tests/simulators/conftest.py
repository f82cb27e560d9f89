"""Fixtures for the simulator tests: a Zoom simulator on a free 127.0.0.1 port with a frozen clock,
an httpx client, and a webhook receiver.

The clock never moves unless a test advances it (``sim.advance_clock`` or ``POST /_sim/clock``),
so expiry and rate windows are tested without sleeping.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from werkzeug.wrappers import Request, Response

from devstack.servers import RunningServer, serve_wsgi
from devstack.simulators.common import pkce_challenge
from devstack.simulators.zoom import ZoomSimulator

CLOCK_START = 1_700_000_000.0  # 2023-11-14T22:13:20Z
CALLBACK = "http://127.0.0.1:8000/oauth/callback/zoom"


def basic(client_id: str, client_secret: str) -> dict[str, str]:
    """An HTTP Basic Authorization header."""
    token = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def bearer(token: str) -> dict[str, str]:
    """A Bearer Authorization header."""
    return {"Authorization": f"Bearer {token}"}


@dataclass
class ZoomHarness:
    """A served Zoom simulator plus helpers for the flows most tests need."""

    sim: ZoomSimulator
    server: RunningServer
    http: httpx.Client
    info: dict[str, Any]

    @property
    def url(self) -> str:
        return self.server.url

    def s2s_token(self, *, free: bool = False) -> str:
        """A Server-to-Server access token for the paid (or Free) account."""
        prefix = "free_" if free else ""
        response = self.http.post(
            "/oauth/token",
            data={"grant_type": "account_credentials", "account_id": self.info[f"{prefix}account_id"]},
            headers=basic(self.info[f"{prefix}client_id"], self.info[f"{prefix}client_secret"]),
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def api(self, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
        """Call ``/v2{path}`` with a Bearer token."""
        return self.http.request(method, f"/v2{path}", headers=bearer(token), **kwargs)

    def authorize(
        self,
        *,
        user_email: str | None = None,
        decision: str = "approve",
        state: str = "st-1",
        code_challenge: str | None = None,
        code_challenge_method: str | None = None,
        redirect_uri: str = CALLBACK,
    ) -> httpx.Response:
        """GET the authorize page, then POST the sign-in form like a browser would."""
        params = {
            "response_type": "code",
            "client_id": self.info["oauth_client_id"],
            "redirect_uri": redirect_uri,
            "state": state,
        }
        if code_challenge is not None:
            params["code_challenge"] = code_challenge
        if code_challenge_method is not None:
            params["code_challenge_method"] = code_challenge_method
        page = self.http.get("/oauth/authorize", params=params)
        assert page.status_code == 200, page.text
        assert 'data-testid="approve"' in page.text
        form = dict(params, decision=decision)
        if user_email is not None:
            form["login_email"] = user_email
        else:
            form["user"] = self.sim.paid_account().owner_id  # what the page preselects
        return self.http.post("/oauth/authorize", data=form)

    def code_for(self, **kwargs: Any) -> str:
        """Run the authorize flow and return the code from the redirect."""
        response = self.authorize(**kwargs)
        assert response.status_code == 302, response.text
        query = parse_qs(urlsplit(response.headers["Location"]).query)
        return query["code"][0]

    def exchange(
        self, code: str, *, verifier: str | None = None, redirect_uri: str = CALLBACK
    ) -> httpx.Response:
        """POST the authorization_code grant with the default app's Basic credentials."""
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if verifier is not None:
            data["code_verifier"] = verifier
        return self.http.post(
            "/oauth/token",
            data=data,
            headers=basic(self.info["oauth_client_id"], self.info["oauth_client_secret"]),
        )

    def user_tokens(self, **kwargs: Any) -> dict[str, Any]:
        """Authorize (PKCE S256) and exchange; returns the token response."""
        verifier = secrets.token_urlsafe(48)
        code = self.code_for(
            code_challenge=pkce_challenge(verifier, "S256"), code_challenge_method="S256", **kwargs
        )
        response = self.exchange(code, verifier=verifier)
        assert response.status_code == 200, response.text
        return dict(response.json())


class SwappableApp:
    """A WSGI app that forwards to whichever app a test plugs in (servers outlive tests)."""

    def __init__(self) -> None:
        self.app: Callable[..., Any] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self.app is None:
            return Response("no app plugged in", status=503)(environ, start_response)
        return self.app(environ, start_response)


class ServerPool:
    """Loopback servers shared by the whole session: stopping a werkzeug server takes up to half a
    second, so tests borrow a running server and plug their own app into it instead."""

    def __init__(self) -> None:
        self._free: list[tuple[RunningServer, SwappableApp]] = []
        self._all: list[RunningServer] = []

    def borrow(self, app: Callable[..., Any]) -> tuple[RunningServer, SwappableApp]:
        if self._free:
            server, slot = self._free.pop()
        else:
            slot = SwappableApp()
            server = serve_wsgi(slot, name=f"sim-test-{len(self._all)}")
            self._all.append(server)
        slot.app = app
        return server, slot

    def give_back(self, server: RunningServer, slot: SwappableApp) -> None:
        slot.app = None
        self._free.append((server, slot))

    def close(self) -> None:
        for server in self._all:
            server.stop()


@pytest.fixture(scope="session")
def server_pool() -> Iterator[ServerPool]:
    """Servers on 127.0.0.1 free ports, reused across tests and stopped at the end."""
    pool = ServerPool()
    yield pool
    pool.close()


@pytest.fixture
def make_zoom(server_pool: ServerPool) -> Iterator[Callable[..., ZoomHarness]]:
    """Build and serve Zoom simulators with given options; all are unplugged after the test."""
    harnesses: list[tuple[ZoomHarness, SwappableApp]] = []

    def factory(**options: Any) -> ZoomHarness:
        options.setdefault("clock", lambda: CLOCK_START)
        options.setdefault("redirect_uris", [CALLBACK])
        sim = ZoomSimulator(**options)
        server, slot = server_pool.borrow(sim)
        harness = ZoomHarness(
            sim, server, httpx.Client(base_url=server.url, timeout=10), sim.dev_info(server.url)
        )
        harnesses.append((harness, slot))
        return harness

    yield factory
    for harness, slot in harnesses:
        harness.http.close()
        harness.sim.release_held_requests()
        server_pool.give_back(harness.server, slot)


@pytest.fixture
def zoom(make_zoom: Callable[..., ZoomHarness]) -> ZoomHarness:
    """A default Zoom simulator (seed 7, Business plan, frozen clock)."""
    return make_zoom()


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1 that records what it gets."""

    server: RunningServer
    secret_token: str
    received: list[dict[str, Any]] = field(default_factory=list)
    answer_challenge: bool = True
    on_event: Callable[[dict[str, Any]], None] | None = None

    @property
    def url(self) -> str:
        return f"{self.server.url}/webhooks/zoom"

    def events(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.received if r["json"].get("event") == name]


def verify_zoom_signature(secret_token: str, headers: dict[str, str], body: bytes) -> bool:
    """An independent implementation of Zoom's v0 signature check (providers.md 1.8)."""
    timestamp = headers.get("x-zm-request-timestamp", "")
    message = f"v0:{timestamp}:".encode() + body
    expected = "v0=" + hmac.new(secret_token.encode(), message, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers.get("x-zm-signature", ""))


@pytest.fixture
def receiver(server_pool: ServerPool) -> Iterator[Receiver]:
    """A running webhook receiver; answers url_validation challenges like Zoom's docs ask."""
    holder: list[Receiver] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        body = request.get_data()
        payload = json.loads(body)
        headers = {k.lower(): v for k, v in request.headers.items()}
        rec = holder[0]
        rec.received.append({"headers": headers, "body": body, "json": payload})
        if rec.on_event is not None:
            rec.on_event(payload)
        if payload.get("event") == "endpoint.url_validation" and rec.answer_challenge:
            plain = payload["payload"]["plainToken"]
            encrypted = hmac.new(rec.secret_token.encode(), plain.encode(), hashlib.sha256).hexdigest()
            reply = Response(
                json.dumps({"plainToken": plain, "encryptedToken": encrypted}), mimetype="application/json"
            )
        else:
            reply = Response("", status=200)
        return reply(environ, start_response)

    server, slot = server_pool.borrow(app)
    holder.append(Receiver(server=server, secret_token="test_secret_token"))
    yield holder[0]
    server_pool.give_back(server, slot)
