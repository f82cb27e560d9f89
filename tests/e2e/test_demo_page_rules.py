"""The demo page's rules, in process against a scripted API (no dev stack): CSRF-safe forms, the
callback receiver's checks, one redemption per code, escaped output, tokens shown as a prefix."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from werkzeug.test import Client

from devstack.integrator import IntegratorConfig, create_integrator_app

ACCOUNT_TOKEN = "account-access-token-0123456789"
SA_TOKEN = "service-account-token-0123456789"
FRESH_SA_TOKEN = "fresh-service-account-token-0123"
OU_TOKEN = "ou-access-token-0123456789abcdef"


@dataclass
class ScriptedApi:
    """orgconnect's API as the demo page uses it; records what it was sent."""

    requested: list[dict[str, Any]] = field(default_factory=list)
    redeemed: list[dict[str, Any]] = field(default_factory=list)
    meetings: list[str] = field(default_factory=list)
    zoom: bool = True
    valid_sa_token: str = SA_TOKEN
    refreshed: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        with self.lock:
            if request.url.path == "/oauth/token" and body["grant_type"] == "refresh_token":
                self.refreshed.append(body["refresh_token"])
                return httpx.Response(200, json={"access_token": FRESH_SA_TOKEN, "refresh_token": "r2" * 10})
            if request.url.path == "/oauth/token":
                self.redeemed.append(body)
                if body["code"].startswith("bad"):
                    return httpx.Response(400, json={"error": "invalid_grant"})
                token = OU_TOKEN if body["redirect_uri"].endswith("/callback") else ACCOUNT_TOKEN
                return httpx.Response(
                    200, json={"access_token": token, "refresh_token": "r" * 30, "account_id": "acc_1"}
                )
            if request.url.path == "/v1/service_account_authorizations":
                if request.headers["authorization"] != f"Bearer {self.valid_sa_token}":
                    return httpx.Response(401, json={"error": "unauthorized"})
                self.requested.append(body)
                if "<" in json.dumps(body):
                    return httpx.Response(422, json={"errors": {"email": [{"key": "errors.invalid"}]}})
                return httpx.Response(202)
            if request.url.path == "/v1/userinfo":
                profile = {"provider_name": "google_workspace", "profile_name": "<b>ada</b>@example.com"}
                zoom = {"provider_name": "zoom", "profile_name": "ada", "profile_connected": self.zoom}
                data = {"profiles": [profile], "conferencing_profiles": [zoom]}
                return httpx.Response(200, json={"cronofy.data": data})
            if request.url.path == "/v1/organizational_unit_authorization_link_tokens":
                link = {"ou_link_token": "link-token"}
                return httpx.Response(201, json={"organizational_unit_authorization_link_token": link})
            if request.url.path == "/v1/organizational_unit":
                return httpx.Response(200, json={"sub": "ou_1", "name": "<i>Acme</i>"})
            if request.url.path == "/v1/conferencing":
                self.meetings.append(request.headers["authorization"])
                return httpx.Response(
                    201, json={"conferencing": {"join_url": "https://zoom.test/j/1", "meeting_id": "1"}}
                )
        return httpx.Response(404)


@pytest.fixture
def demo() -> Iterator[tuple[Client, ScriptedApi]]:
    api = ScriptedApi()
    config = IntegratorConfig(
        api_url="http://api.test",
        client_id="cli_1",
        client_secret="secret",
        redirect_uri="http://127.0.0.1:9/callback",
        service_account_token=SA_TOKEN,
        service_account_refresh_token="sa-refresh-token",
        demo={"zoom_active": ["ada@example.com", "bob@example.com"]},
    )
    http = httpx.Client(transport=httpx.MockTransport(api))
    yield Client(create_integrator_app(config, http=http)), api
    http.close()


def csrf(client: Client) -> str:
    match = re.search(r"name=csrf_token value='([^']+)'", client.get("/").text)
    assert match, "the page has a form with a CSRF token"
    return match.group(1)


def request_access(client: Client, *emails: str) -> Any:
    return client.post("/delegated/request", data={"csrf_token": csrf(client), "email": list(emails)})


def callback(client: Client, url: str, authorization: dict[str, str]) -> Any:
    path = url.removeprefix("http://127.0.0.1:9")
    return client.post(path, json={"authorization": authorization})


def entries(api: ScriptedApi) -> list[dict[str, Any]]:
    body = api.requested[-1]
    return list(body.get("service_account_authorizations", [body]))


def wait_until(condition: Any) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def test_a_form_without_this_sessions_csrf_token_is_refused(demo: tuple[Client, ScriptedApi]) -> None:
    client, api = demo
    token = csrf(client)
    assert client.post("/delegated/request", data={"email": "ada@example.com"}).status_code == 403
    wrong = {"csrf_token": token + "x", "email": "ada@example.com"}
    assert client.post("/delegated/request", data=wrong).status_code == 403
    cross_site = client.post(
        "/delegated/request",
        data={"csrf_token": token, "email": "ada@example.com"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert cross_site.status_code == 403
    assert Client(client.application).post("/delegated/request", data=wrong).status_code == 403  # no session
    assert api.requested == []
    ok = client.post("/delegated/request", data={"csrf_token": token, "email": "ada@example.com"})
    assert ok.status_code == 303 and ok.headers["Location"] == "/"
    assert len(api.requested) == 1


def test_one_email_is_one_request_and_several_are_a_batch_with_own_callback_urls(
    demo: tuple[Client, ScriptedApi],
) -> None:
    client, api = demo
    request_access(client, "ada@example.com")
    assert set(api.requested[0]) == {"email", "scope", "callback_url", "state"}
    request_access(client, "ada@example.com", "bob@example.com")
    batch = api.requested[1]["service_account_authorizations"]
    assert [b["email"] for b in batch] == ["ada@example.com", "bob@example.com"]
    urls = {b["callback_url"] for b in batch} | {api.requested[0]["callback_url"]}
    assert len(urls) == 3 and all(u.startswith("http://127.0.0.1:9/delegated/callback/") for u in urls)
    assert len({b["state"] for b in batch}) == 2


def test_a_code_is_redeemed_once_with_its_callback_url_and_shown_as_a_prefix(
    demo: tuple[Client, ScriptedApi],
) -> None:
    client, api = demo
    request_access(client, "ada@example.com")
    (entry,) = entries(api)
    code = "code-0123456789abcdefghijklmnopq"
    assert callback(client, entry["callback_url"], {"code": code, "state": entry["state"]}).status_code == 204
    assert callback(client, entry["callback_url"], {"code": code, "state": entry["state"]}).status_code == 204
    wait_until(lambda: "acc_1" in client.get("/").text)
    assert [r["redirect_uri"] for r in api.redeemed] == [entry["callback_url"]]
    shown = client.get("/").text
    assert code not in shown and code[:6] + "…" in shown
    assert ACCOUNT_TOKEN not in shown and SA_TOKEN not in shown
    assert "&lt;b&gt;ada&lt;/b&gt;@example.com" in shown and "<b>ada" not in shown
    assert "http-equiv=refresh" not in shown  # nothing outstanding: the page stops reloading


def test_the_receiver_refuses_what_is_not_its_callback(demo: tuple[Client, ScriptedApi]) -> None:
    client, api = demo
    request_access(client, "ada@example.com")
    (entry,) = entries(api)
    path = entry["callback_url"].removeprefix("http://127.0.0.1:9")
    assert client.post("/delegated/callback/" + "A" * 24, json={"authorization": {}}).status_code == 404
    assert client.get(path).status_code == 405
    assert client.post(path, data="code=x", content_type="text/plain").status_code == 415
    assert client.post(path, data="{", content_type="application/json").status_code == 400
    assert callback(client, entry["callback_url"], {"code": "x" * 32, "state": "other"}).status_code == 400
    assert api.redeemed == []
    assert "http-equiv=refresh" in client.get("/").text  # still waiting for the real callback
    error = {"error": "not_found", "error_key": "account_not_found", "state": entry["state"]}
    assert callback(client, entry["callback_url"], error).status_code == 204
    page = client.get("/").text
    assert "account_not_found" in page and api.redeemed == []


def test_refusals_and_provider_values_are_escaped(demo: tuple[Client, ScriptedApi]) -> None:
    client, _ = demo
    request_access(client, "<script>@example.com")
    page = client.get("/").text
    assert "The request was refused" in page and "<script>@" not in page
    assert "&lt;script&gt;@example.com" not in page  # a refused request is not listed


def test_the_ou_code_is_redeemed_only_for_a_flow_this_browser_started(
    demo: tuple[Client, ScriptedApi],
) -> None:
    client, api = demo
    stranger = client.get("/callback?code=abc&state=not-mine").text
    assert "data-testid=redeem-ou" not in stranger
    token = csrf(client)
    refused = client.post("/organization/redeem", data={"csrf_token": token})
    assert refused.status_code == 303 and api.redeemed == []

    started = client.get("/start")
    state = parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]
    shown = client.get(f"/callback?code=ou-code&state={state}").text
    assert "data-testid=redeem-ou" in shown
    client.post("/organization/redeem", data={"csrf_token": token})
    assert [r["code"] for r in api.redeemed] == ["ou-code"]
    home = client.get("/").text
    assert "&lt;i&gt;Acme&lt;/i&gt;" in home and OU_TOKEN not in home and OU_TOKEN[:6] + "…" in home
    client.post("/organization/redeem", data={"csrf_token": token})  # the code was used once
    assert len(api.redeemed) == 1


def test_a_meeting_link_is_one_click_for_a_connected_profile(demo: tuple[Client, ScriptedApi]) -> None:
    client, api = demo
    request_access(client, "ada@example.com")
    (entry,) = entries(api)
    callback(client, entry["callback_url"], {"code": "c" * 32, "state": entry["state"]})
    wait_until(lambda: "acc_1" in client.get("/").text)
    match = re.search(r"action='(/delegated/[^']+/meeting)'", client.get("/").text)
    assert match, "a connected profile offers the meeting button"
    assert client.post(match.group(1), data={"csrf_token": "forged"}).status_code == 403
    assert api.meetings == []
    assert client.post(match.group(1), data={"csrf_token": csrf(client)}).status_code == 303
    assert api.meetings == [f"Bearer {ACCOUNT_TOKEN}"]
    assert "data-testid=join-url href='https://zoom.test/j/1'" in client.get("/").text


def test_no_meeting_button_without_a_connected_conferencing_profile(demo: tuple[Client, ScriptedApi]) -> None:
    client, api = demo
    api.zoom = False
    request_access(client, "ada@example.com")
    (entry,) = entries(api)
    callback(client, entry["callback_url"], {"code": "c" * 32, "state": entry["state"]})
    wait_until(lambda: "acc_1" in client.get("/").text)
    page = client.get("/").text
    assert "/meeting'" not in page and "No connected conferencing profile" in page


def test_an_expired_service_account_token_is_refreshed_once_and_the_request_sent_again(
    demo: tuple[Client, ScriptedApi],
) -> None:
    client, api = demo
    api.valid_sa_token = FRESH_SA_TOKEN
    request_access(client, "ada@example.com")
    request_access(client, "bob@example.com")
    assert api.refreshed == ["sa-refresh-token"]
    assert [e["email"] for e in api.requested] == ["ada@example.com", "bob@example.com"]
    page = client.get("/").text
    assert "The request was refused" not in page and FRESH_SA_TOKEN not in page
