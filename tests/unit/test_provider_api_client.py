"""The provider API client against scripted answers (httpx.MockTransport): calls, typed errors,
retries (without sleeping), the refresh grant and what it returns."""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from orgconnect.domain.model import ProviderApp
from orgconnect.domain.provider_model import (
    AccessTokenRejected,
    ProviderAnswerMalformed,
    ProviderRefused,
    ProviderTokens,
    ProviderUnavailable,
    RefreshTokenRejected,
)
from orgconnect.providers.api import ProviderApi, close_pooled_clients, pooled_client
from orgconnect.providers.google import GoogleApi
from orgconnect.providers.indeed import IndeedApi
from orgconnect.providers.microsoft import GraphApi
from orgconnect.providers.retry import RetryPolicy
from orgconnect.providers.webex import WebexApi
from orgconnect.providers.zoom import ZoomApi

BASE = "https://provider.test"
APP = ProviderApp("client id", "s3cret:x")
TOKENS = ProviderTokens(access_token="at-0", refresh_token="rt-0")
Answer = httpx.Response | BaseException


class Scripted:
    """A transport answering with the scripted answers in order (the last one repeats)."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer


@pytest.fixture(autouse=True)
def _fresh_pool() -> Iterator[None]:
    yield
    close_pooled_clients()


def api(
    cls: type[ProviderApi], script: Scripted, sleeps: list[float] | None = None, **kwargs: Any
) -> ProviderApi:
    recorder: Callable[[float], Any] = sleeps.append if sleeps is not None else (lambda _: None)
    return cls(
        APP,
        TOKENS,
        base_url=BASE,
        transport=httpx.MockTransport(script),
        sleep=recorder,
        clock=lambda: 1_700_000_000.0,
        **kwargs,
    )


def test_a_get_sends_the_token_in_the_header_only_and_returns_the_json() -> None:
    script = Scripted(httpx.Response(200, json={"id": "u1"}))
    assert api(ZoomApi, script).get("/v2/users/me", params={"x": "1"}) == {"id": "u1"}
    (request,) = script.requests
    assert request.headers["Authorization"] == "Bearer at-0"
    assert request.headers["Accept"] == "application/json"
    assert "at-0" not in str(request.url)
    assert str(request.url) == f"{BASE}/v2/users/me?x=1"


def test_post_patch_delete_send_json_and_an_empty_answer_is_none() -> None:
    script = Scripted(
        httpx.Response(201, json={"id": 9}), httpx.Response(204), httpx.Response(204, content=b"")
    )
    client = api(ZoomApi, script)
    assert client.post("/v2/users/me/meetings", {"topic": "t"}) == {"id": 9}
    assert client.patch("/v2/users/u1", {"dept": "x"}) is None
    assert client.delete("/v2/users/u1") is None
    assert [r.method for r in script.requests] == ["POST", "PATCH", "DELETE"]
    assert script.requests[0].read() == b'{"topic":"t"}'


ERROR_BODIES = [
    (ZoomApi, {"code": 1001, "message": "User does not exist: a@b.c"}, "1001"),
    (GraphApi, {"error": {"code": "Request_ResourceNotFound", "message": "m"}}, "Request_ResourceNotFound"),
    (GoogleApi, {"error": {"code": 404, "message": "m", "status": "NOT_FOUND"}}, "NOT_FOUND"),
    (WebexApi, {"message": "Person not found.", "trackingId": "t"}, "Person not found."),
    (IndeedApi, {"error": "not_found", "error_description": "m"}, "not_found"),
]


@pytest.mark.parametrize(("cls", "body", "code"), ERROR_BODIES, ids=lambda v: getattr(v, "key", ""))
def test_a_4xx_is_refused_with_the_providers_code_and_not_retried(
    cls: type[ProviderApi], body: dict[str, Any], code: str
) -> None:
    script = Scripted(httpx.Response(404, json=body))
    with pytest.raises(ProviderRefused) as raised:
        api(cls, script).get("/thing")
    assert not isinstance(raised.value, AccessTokenRejected)
    assert (raised.value.status, raised.value.error) == (404, code)
    assert raised.value.description.startswith(f"{cls.label} GET /thing answered 404")
    assert len(script.requests) == 1


def test_a_401_is_access_token_rejected() -> None:
    script = Scripted(httpx.Response(401, json={"code": 124, "message": "Invalid access token."}))
    with pytest.raises(AccessTokenRejected) as raised:
        api(ZoomApi, script).get("/v2/users/me")
    assert (raised.value.status, raised.value.error) == (401, "124")
    assert len(script.requests) == 1


def test_an_error_body_that_is_not_json_still_gives_the_status() -> None:
    script = Scripted(httpx.Response(403, text="<html>denied</html>"))
    with pytest.raises(ProviderRefused) as raised:
        api(WebexApi, script).get("/v1/people")
    assert (raised.value.status, raised.value.error) == (403, "http_403")
    assert "html" not in raised.value.description


def test_5xx_is_retried_then_succeeds() -> None:
    sleeps: list[float] = []
    script = Scripted(httpx.Response(503), httpx.Response(500), httpx.Response(200, json={"ok": True}))
    assert api(GraphApi, script, sleeps).get("/v1.0/users") == {"ok": True}
    assert len(script.requests) == 3
    assert len(sleeps) == 2


def test_5xx_after_every_attempt_is_unavailable() -> None:
    script = Scripted(httpx.Response(502))
    with pytest.raises(ProviderUnavailable) as raised:
        api(ZoomApi, script, retry_policy=RetryPolicy(attempts=3)).get("/v2/users")
    assert raised.value.status == 502
    assert len(script.requests) == 3


def test_429_waits_retry_after_and_exposes_the_rate_limit_headers() -> None:
    sleeps: list[float] = []
    limited = httpx.Response(
        429,
        json={"code": 429, "message": "per-second"},
        headers={"Retry-After": "2", "X-RateLimit-Type": "QPS", "X-RateLimit-Remaining": "0"},
    )
    fine = httpx.Response(200, json={}, headers={"X-RateLimit-Limit": "80", "X-RateLimit-Remaining": "79"})
    client = api(ZoomApi, Scripted(limited, fine), sleeps)
    client.get("/v2/users")
    assert sleeps == [2.0]
    assert client.last_rate_limit == {"x-ratelimit-limit": "80", "x-ratelimit-remaining": "79"}


def test_a_daily_limit_fails_at_once_with_its_retry_after() -> None:
    script = Scripted(httpx.Response(429, headers={"Retry-After": "2023-11-15T00:00:00Z"}))
    with pytest.raises(ProviderUnavailable) as raised:
        api(ZoomApi, script).get("/v2/users")
    assert raised.value.retry_after == pytest.approx(6400.0)
    assert len(script.requests) == 1


def test_a_read_timeout_is_retried_for_a_get_but_not_for_a_post() -> None:
    timeout = httpx.ReadTimeout("slow")
    get = Scripted(timeout, httpx.Response(200, json={}))
    assert api(ZoomApi, get).get("/v2/users") == {}
    post = Scripted(timeout, httpx.Response(201, json={}))
    with pytest.raises(ProviderUnavailable) as raised:
        api(ZoomApi, post).post("/v2/users/me/meetings", {"topic": "t"})
    assert raised.value.description == "Zoom POST /v2/users/me/meetings: ReadTimeout"
    assert len(post.requests) == 1


def test_a_connection_refused_is_retried_even_for_a_post() -> None:
    script = Scripted(httpx.ConnectError("refused"), httpx.Response(201, json={"id": 1}))
    assert api(ZoomApi, script).post("/v2/users/me/meetings", {}) == {"id": 1}


def test_a_success_that_is_not_json_is_malformed() -> None:
    script = Scripted(httpx.Response(200, text="<html>hi</html>", headers={"Content-Type": "text/html"}))
    with pytest.raises(ProviderAnswerMalformed):
        api(GoogleApi, script).get("/admin/directory/v1/users")


def test_redirects_are_not_followed_so_the_token_stays_home() -> None:
    script = Scripted(httpx.Response(302, headers={"Location": "https://elsewhere.test/steal"}))
    with pytest.raises(ProviderRefused):
        api(ZoomApi, script).get("/v2/users/me")
    assert [r.url.host for r in script.requests] == ["provider.test"]


def test_an_absolute_url_elsewhere_is_refused_before_sending() -> None:
    script = Scripted(httpx.Response(200, json={}))
    with pytest.raises(ProviderAnswerMalformed):
        api(ZoomApi, script).get("https://elsewhere.test/v2/users")
    assert script.requests == []


def test_real_hosts_by_role_without_an_override() -> None:
    script = Scripted(httpx.Response(200, json={}))
    client = GoogleApi(APP, TOKENS, transport=httpx.MockTransport(script))
    client.get("/admin/directory/v1/users")
    client.get("/v2/spaces/x", host="meet")
    assert [str(r.url) for r in script.requests] == [
        "https://admin.googleapis.com/admin/directory/v1/users",
        "https://meet.googleapis.com/v2/spaces/x",
    ]


def test_one_pooled_client_per_origin_and_transport() -> None:
    transport = httpx.MockTransport(Scripted(httpx.Response(200)))
    assert pooled_client("https://a.test", transport) is pooled_client("https://a.test", transport)
    assert pooled_client("https://a.test", transport) is not pooled_client("https://b.test", transport)


# -- refresh ---------------------------------------------------------------------------------


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.read().decode()).items()}


def test_zoom_refresh_uses_basic_auth_and_returns_the_rotated_tokens() -> None:
    answer = {"access_token": "at-1", "refresh_token": "rt-1", "expires_in": 3599, "scope": "user:read"}
    script = Scripted(httpx.Response(200, json=answer))
    client = api(ZoomApi, script)
    tokens = client.refresh()
    assert (tokens.access_token, tokens.refresh_token, tokens.scope) == ("at-1", "rt-1", "user:read")
    assert client.tokens == tokens
    (request,) = script.requests
    assert str(request.url) == f"{BASE}/oauth/token"
    assert form(request) == {"grant_type": "refresh_token", "refresh_token": "rt-0"}
    expected = base64.b64encode(b"client%20id:s3cret%3Ax").decode()  # RFC 6749 2.3.1
    assert request.headers["Authorization"] == f"Basic {expected}"


def test_google_refresh_sends_credentials_in_the_body_and_keeps_the_refresh_token() -> None:
    script = Scripted(httpx.Response(200, json={"access_token": "at-1", "expires_in": 3599}))
    tokens = api(GoogleApi, script).refresh()
    assert (tokens.access_token, tokens.refresh_token) == ("at-1", "rt-0")
    assert form(script.requests[0])["client_secret"] == "s3cret:x"
    assert "Authorization" not in script.requests[0].headers


def test_microsoft_refresh_goes_to_the_tenants_token_endpoint() -> None:
    script = Scripted(httpx.Response(200, json={"access_token": "at-1", "refresh_token": "rt-1"}))
    api(GraphApi, script, tenant="t-42").refresh()
    assert str(script.requests[0].url) == f"{BASE}/t-42/oauth2/v2.0/token"


def test_invalid_grant_at_refresh_is_refresh_token_rejected() -> None:
    script = Scripted(httpx.Response(400, json={"reason": "Invalid Token!", "error": "invalid_grant"}))
    with pytest.raises(RefreshTokenRejected) as raised:
        api(ZoomApi, script).refresh()
    assert (raised.value.status, raised.value.error) == (400, "invalid_grant")
    assert "Invalid Token" not in raised.value.description
    assert len(script.requests) == 1


def test_invalid_client_at_refresh_is_a_plain_refusal() -> None:
    script = Scripted(httpx.Response(401, json={"error": "invalid_client"}))
    with pytest.raises(ProviderRefused) as raised:
        api(WebexApi, script).refresh()
    assert not isinstance(raised.value, AccessTokenRejected | RefreshTokenRejected)
    assert raised.value.error == "invalid_client"


def test_refresh_is_retried_on_503_but_not_after_a_read_timeout() -> None:
    good = httpx.Response(200, json={"access_token": "at-1", "refresh_token": "rt-1"})
    assert api(ZoomApi, Scripted(httpx.Response(503), good)).refresh().refresh_token == "rt-1"
    lost = Scripted(httpx.ReadTimeout("slow"), good)
    with pytest.raises(ProviderUnavailable):
        api(ZoomApi, lost).refresh()
    assert len(lost.requests) == 1  # the answer may have rotated the refresh token: do not replay


@pytest.mark.parametrize("body", [{"refresh_token": "rt-1"}, {"access_token": 1}, ["at"]])
def test_a_malformed_refresh_answer_is_malformed(body: Any) -> None:
    with pytest.raises(ProviderAnswerMalformed):
        api(IndeedApi, Scripted(httpx.Response(200, json=body))).refresh()


def test_no_refresh_token_held_is_refresh_token_rejected_without_a_call() -> None:
    script = Scripted(httpx.Response(200, json={}))
    client = ZoomApi(APP, ProviderTokens(access_token="at"), transport=httpx.MockTransport(script))
    with pytest.raises(RefreshTokenRejected):
        client.refresh()
    assert script.requests == []


def test_importing_the_provider_modules_loads_neither_httpx_nor_tenacity() -> None:
    code = (
        "import sys, orgconnect.providers.registry, orgconnect.providers.api, "
        "orgconnect.providers.zoom, orgconnect.providers.microsoft, orgconnect.providers.google, "
        "orgconnect.providers.webex, orgconnect.providers.indeed\n"
        "print(sorted(m for m in ('httpx', 'tenacity', 'authlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
