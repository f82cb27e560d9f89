"""The shared simulator core (common.py) and the registry/starter (__init__.py, __main__.py)."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

import devstack.simulators as registry
from devstack.simulators.common import (
    CodeStore,
    ControlError,
    SignInOption,
    SimClock,
    Simulator,
    TokenStore,
    bearer_token,
    json_response,
    parse_basic_auth,
    pkce_challenge,
    redact_params,
    redirect_with_params,
    render_signin_page,
    verify_pkce,
)
from devstack.simulators.demo import build_demo_directory
from devstack.simulators.zoom import ZoomSimulator

REPO = Path(__file__).resolve().parents[2]


class EchoSimulator(Simulator):
    """The smallest possible provider: a user list and one API route."""

    name = "echo"

    def seed_state(self, params: Mapping[str, Any]) -> None:
        self.users = {p.email: {"email": p.email} for p in self.demo.people[: int(params.get("size", 3))]}
        self.seeded = getattr(self, "seeded", 0) + 1

    def control_list_users(self) -> list[dict[str, Any]]:
        return list(self.users.values())

    def control_add_user(self, body: Mapping[str, Any]) -> dict[str, Any]:
        email = str(body.get("email", ""))
        if email in self.users:
            raise ControlError(409, "exists")
        self.users[email] = {"email": email}
        return self.users[email]

    def control_remove_user(self, email: str) -> None:
        if self.users.pop(email, None) is None:
            raise ControlError(404, "no such user")

    def control_update_user(self, email: str, body: Mapping[str, Any]) -> dict[str, Any]:
        user = self.users.pop(email)
        user.update(body)
        self.users[user["email"]] = user
        return user

    def dev_info(self, base_url: str) -> dict[str, Any]:
        return self.base_dev_info(base_url)

    def __init__(self, **options: Any) -> None:
        super().__init__(build_demo_directory(seed=3), seed=3, clock=lambda: 1000.0, **options)
        self.add_route(
            "/api/ping", lambda request: json_response({"pong": True}), methods=["GET"], target="api"
        )
        self.add_route(
            "/oauth/token", lambda request: json_response({"ok": True}), methods=["POST"], target="token"
        )


@pytest.fixture
def echo() -> EchoSimulator:
    return EchoSimulator()


# ----- helpers ------------------------------------------------------------------------------------


def test_pkce_rfc7636_appendix_b_vector() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce_challenge(verifier, "S256") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert verify_pkce(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "S256")
    assert verify_pkce(verifier, verifier, "plain")
    assert verify_pkce(verifier, verifier, None)  # plain is the default
    assert not verify_pkce(verifier, verifier, "S256")
    assert not verify_pkce(None, verifier, "plain")
    assert not verify_pkce(verifier, None, None)  # a verifier nobody asked for
    assert verify_pkce(None, None, None)
    assert not verify_pkce("short", "short", "plain")  # RFC 7636: 43-128 characters
    assert not verify_pkce(verifier, verifier, "S512")


def test_parse_basic_auth() -> None:
    good = "Basic " + base64.b64encode(b"id:sec:ret").decode()
    assert parse_basic_auth(good) == ("id", "sec:ret")
    assert parse_basic_auth(None) is None
    assert parse_basic_auth("Bearer abc") is None
    assert parse_basic_auth("Basic !!!") is None
    assert parse_basic_auth("Basic " + base64.b64encode(b"no-colon").decode()) is None


def test_bearer_token_and_redaction() -> None:
    request = Request.from_values(headers={"Authorization": "Bearer  tok "})
    assert bearer_token(request) == "tok"
    assert bearer_token(Request.from_values()) is None
    redacted = redact_params(
        {"code": "c", "Token": "t", "state": "s", "client_secret": "x", "refresh_token": "r"}
    )
    assert redacted == {
        "code": "[redacted]",
        "Token": "[redacted]",
        "state": "s",
        "client_secret": "[redacted]",
        "refresh_token": "[redacted]",
    }


def test_redirect_with_params_keeps_an_existing_query() -> None:
    response = redirect_with_params("https://app.example/cb?x=1", {"code": "a b", "state": None})
    assert response.status_code == 302
    assert response.headers["Location"] == "https://app.example/cb?x=1&code=a+b"


def test_clock_only_moves_forward() -> None:
    clock = SimClock(lambda: 10.0)
    assert clock.advance(5) == 15.0
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)


def test_code_store_single_use_and_expiry() -> None:
    clock = SimClock(lambda: 0.0)
    codes = CodeStore(clock)
    code = codes.issue(client_id="c", redirect_uri="r", subject="u", ttl_seconds=60).code
    assert codes.redeem(code)[1] is None
    assert codes.redeem(code)[1] == "used"
    assert codes.redeem("nope") == (None, "unknown")
    late = codes.issue(client_id="c", redirect_uri="r", subject="u", ttl_seconds=60).code
    clock.advance(60)
    assert codes.redeem(late)[1] == "expired"


def test_token_store_expiry_and_grant_revocation() -> None:
    clock = SimClock(lambda: 0.0)
    tokens = TokenStore(clock)
    access = tokens.mint("access", client_id="c", subject="u", ttl_seconds=10, grant_id="g")
    refresh = tokens.mint("refresh", client_id="c", subject="u", ttl_seconds=100, grant_id="g")
    other = tokens.mint("access", client_id="c", subject="u", ttl_seconds=10, grant_id="h")
    assert tokens.valid(access.value, "access") is access
    assert tokens.valid(access.value, "refresh") is None
    assert tokens.revoke_grant("g") == 2
    assert tokens.valid(refresh.value, "refresh") is None
    assert tokens.valid(other.value, "access") is other
    clock.advance(10)
    assert tokens.valid(other.value, "access") is None
    assert list(tokens.live()) == []


def test_signin_page_escapes_and_carries_test_ids() -> None:
    response = render_signin_page(
        title="Sign in",
        app_name="<b>app</b>",
        action_url="/authorize",
        hidden={"state": '"><script>alert(1)</script>'},
        options=[SignInOption("u1", "Eve <eve@example.com>", selected=True)],
    )
    text = response.get_data(as_text=True)
    assert "<script>" not in text
    assert "&lt;b&gt;app&lt;/b&gt;" in text
    assert 'data-testid="approve"' in text
    assert 'data-testid="deny"' in text
    assert 'value="u1" selected' in text
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


# ----- the base class through a tiny provider ---------------------------------------------------


def test_default_app_credentials_are_deterministic() -> None:
    first, second = EchoSimulator(), EchoSimulator()
    assert first.default_app.client_id == second.default_app.client_id
    assert first.default_app.client_secret == second.default_app.client_secret
    assert first.default_app.redirect_uris == ["http://127.0.0.1:8000/oauth/callback/echo"]
    info = first.dev_info("http://127.0.0.1:1234/")
    assert info["base_url"] == "http://127.0.0.1:1234"
    assert info["oauth_client_id"] == first.default_app.client_id


def test_generic_control_api(echo: EchoSimulator) -> None:
    client = Client(echo)
    assert len(client.get("/_sim/users").json["users"]) == 3
    assert client.post("/_sim/users", json={"email": "new@example.com"}).status_code == 201
    assert client.post("/_sim/users", json={"email": "new@example.com"}).status_code == 409
    assert (
        client.patch("/_sim/users/new@example.com", json={"email": "renamed@example.com"}).status_code == 200
    )
    assert client.delete("/_sim/users/renamed@example.com").status_code == 204
    assert client.delete("/_sim/users/renamed@example.com").status_code == 404
    assert client.post("/_sim/seed", json={"size": 5}).status_code == 200
    assert len(client.get("/_sim/users").json["users"]) == 5
    client.post("/_sim/users", json={"email": "temp@example.com"})
    client.post("/_sim/reset")
    assert len(client.get("/_sim/users").json["users"]) == 5  # seed params are kept
    assert client.post("/_sim/webhooks/send", json={"event": "x"}).status_code == 409
    assert client.patch("/_sim/options", json={"anything": 1}).status_code == 400
    assert client.patch("/_sim/options", json={}).json == {"options": {}}


def test_generic_faults(echo: EchoSimulator) -> None:
    client = Client(echo)
    client.post("/_sim/faults", json={"target": "*", "kind": "503"})
    assert client.get("/api/ping").status_code == 503
    assert client.get("/api/ping").status_code == 200
    client.post("/_sim/faults", json={"target": "token", "kind": "invalid_client"})
    assert client.get("/api/ping").status_code == 200  # another target
    refused = client.post("/oauth/token")
    assert refused.status_code == 401
    assert refused.json == {
        "error": "invalid_client",
        "error_description": "Invalid client_id or client_secret",
    }
    client.post("/_sim/faults", json={"target": "api", "kind": "429"})
    limited = client.get("/api/ping")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    log = client.get("/_sim/requests").json["requests"]
    assert [e["fault"] for e in log] == ["503", None, None, "invalid_client", "429"]


def test_timeout_fault_is_released_on_stop(echo: EchoSimulator) -> None:
    echo.add_fault("api", "timeout", delay_seconds=60)
    results: list[int] = []
    worker = threading.Thread(target=lambda: results.append(Client(echo).get("/api/ping").status_code))
    worker.start()
    worker.join(0.2)
    assert worker.is_alive()  # held
    echo.release_held_requests()
    worker.join(5)
    assert results == [504]


def test_webhooks_queued_in_a_transaction_are_sent_after_the_lock_is_released(echo: EchoSimulator) -> None:
    delivered: list[bool] = []

    def lock_is_free_for_another_thread() -> bool:
        probe: list[bool] = []

        def try_lock() -> None:
            got = echo.lock.acquire(timeout=1)
            probe.append(got)
            if got:
                echo.lock.release()

        other = threading.Thread(target=try_lock)
        other.start()
        other.join()
        return probe[0]

    def fake_deliver(event: str, url: str, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        delivered.append(lock_is_free_for_another_thread())
        return {}

    echo.deliver_webhook = fake_deliver  # type: ignore[method-assign]
    echo.configure_webhooks("http://127.0.0.1:9/hook", "s")
    with echo.transaction():
        echo.queue_webhook("e", b"{}", {})
        assert delivered == []  # not while the transaction holds the lock
    assert delivered == [True]


def test_html_control_errors_are_json(echo: EchoSimulator) -> None:
    response = Client(echo).post("/_sim/faults", data="not json", content_type="application/json")
    assert response.status_code == 400
    assert "error" in response.json


def test_unknown_route_uses_the_providers_error_shape(echo: EchoSimulator) -> None:
    response = Client(echo).get("/nowhere")
    assert response.status_code == 404
    assert response.json == {"error": {"code": 404, "message": "Not Found"}}


# ----- registry and starter -----------------------------------------------------------------------


def test_registry_loads_zoom_and_refuses_unknown_names() -> None:
    assert registry.load_simulator_class("zoom") is ZoomSimulator
    with pytest.raises(registry.SimulatorUnavailable):
        registry.load_simulator_class("myspace")


def test_missing_provider_module_is_skipped_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.SIMULATORS, "ghost", "devstack.simulators.ghost_provider:GhostSimulator")
    assert "ghost" not in registry.available_simulators()
    with pytest.warns(RuntimeWarning, match="ghost"):
        started = registry.start_simulators(["ghost"])
    assert started == {}


def test_start_and_stop_simulators_on_loopback() -> None:
    started = registry.start_simulators(["zoom"], seed=5, options={"zoom": {"zoom_users": 60}})
    try:
        zoom = started["zoom"]
        assert zoom.base_url.startswith("http://127.0.0.1:")
        info = zoom.dev_info()
        assert info["base_url"] == zoom.base_url
        assert sum(info["user_counts"].values()) == 60
        assert httpx.get(f"{zoom.base_url}/_sim/info", timeout=5).json()["account_id"] == info["account_id"]
    finally:
        registry.stop_simulators(started)


def test_command_line_prints_json_and_stops_on_sigterm() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devstack.simulators",
            "--provider",
            "zoom",
            "--seed",
            "4",
            "--zoom-users",
            "80",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        report: dict[str, Any] | None = None
        while report is None:
            line = process.stdout.readline()
            assert line, process.stderr.read() if process.stderr else "no output"
            lines.append(line)
            try:
                report = json.loads("".join(lines))
            except json.JSONDecodeError:
                continue
        zoom = report["simulators"]["zoom"]
        assert report["demo"]["zoom_active"]
        assert zoom["seed"] == 4
        token = httpx.post(
            zoom["token_url"],
            data={"grant_type": "account_credentials", "account_id": zoom["account_id"]},
            auth=(zoom["client_id"], zoom["client_secret"]),
            timeout=5,
        )
        assert token.status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_command_line_rejects_bad_arguments() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "devstack.simulators", "--provider", "zoom", "--zoom-users", "100001"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "zoom-users" in result.stderr


def test_response_helper_for_204() -> None:
    response: Response = json_response(None, 204)
    assert response.status_code == 204
    assert response.get_data() == b""
