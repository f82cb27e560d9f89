"""providers/zoom.py's Server-to-Server check against hand-made Zoom answers (what the simulator
cannot produce): a scope refused by the API although the token listed it, a token of another
account, and a token answer without scopes."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from orgconnect.domain.connection_checks import CheckFailure
from orgconnect.domain.model import ProviderApp
from orgconnect.domain.provider_model import ProviderUnavailable
from orgconnect.providers.api import close_pooled_clients
from orgconnect.providers.retry import RetryPolicy
from orgconnect.providers.zoom import ZoomApi, check_server_to_server

ALL_SCOPES = "user:read:list_users:admin user:read:user:admin meeting:write:meeting:admin"
ME = {"account_id": "acc-1", "email": "owner@example.com", "company": "Example Corp", "type": 2}


def zoom(routes: dict[str, Callable[[httpx.Request], httpx.Response]]) -> ZoomApi:
    def handle(request: httpx.Request) -> httpx.Response:
        return routes[request.url.path](request)

    return ZoomApi(
        ProviderApp("app-1", "secret-1"),
        base_url="https://zoom.test",
        transport=httpx.MockTransport(handle),
        retry_policy=RetryPolicy(attempts=1),
        sleep=lambda _: None,
    )


def token(scope: str | None = ALL_SCOPES) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        form = dict(httpx.QueryParams(request.content.decode()))
        assert form == {"grant_type": "account_credentials", "account_id": "acc-1"}
        assert request.headers["authorization"].startswith("Basic ")
        assert "secret-1" not in str(request.url)
        body = {"access_token": "tok", "token_type": "bearer", "expires_in": 3600}
        return httpx.Response(200, json={**body, **({"scope": scope} if scope is not None else {})})

    return answer


@pytest.fixture(autouse=True)
def _fresh_pool() -> None:
    close_pooled_clients()


def test_a_scope_the_api_refuses_is_reported_missing() -> None:
    refused = httpx.Response(
        400, json={"code": 4711, "message": "Invalid access token, does not contain scopes:[x]."}
    )
    check = check_server_to_server(
        zoom({"/oauth/token": token(), "/v2/users/me": lambda _: httpx.Response(200, json=ME),
              "/v2/users": lambda _: refused}),
        "acc-1",
    )  # fmt: skip
    assert check.failure is CheckFailure.MISSING_SCOPES
    assert check.missing_scopes == ("user:read:list_users:admin",)


def test_a_token_of_another_account_is_an_unknown_account() -> None:
    other = {**ME, "account_id": "acc-2"}
    check = check_server_to_server(
        zoom({"/oauth/token": token(), "/v2/users/me": lambda _: httpx.Response(200, json=other),
              "/v2/users": lambda _: httpx.Response(200, json={"users": []})}),
        "acc-1",
    )  # fmt: skip
    assert check.failure is CheckFailure.UNKNOWN_ACCOUNT


def test_a_token_answer_without_scopes_lists_every_scope_missing() -> None:
    check = check_server_to_server(zoom({"/oauth/token": token(None)}), "acc-1")
    assert check.failure is CheckFailure.MISSING_SCOPES
    assert len(check.missing_scopes) == 3


def test_a_passed_check_names_the_account() -> None:
    check = check_server_to_server(
        zoom({"/oauth/token": token(), "/v2/users/me": lambda _: httpx.Response(200, json=ME),
              "/v2/users": lambda _: httpx.Response(200, json={"users": []})}),
        "acc-1",
    )  # fmt: skip
    assert (check.passed, check.account_id, check.account_name) == (True, "acc-1", "Example Corp")
    assert check.granted_scopes == tuple(ALL_SCOPES.split())


def test_an_answer_that_is_not_zooms_json_is_unavailable_not_a_refusal() -> None:
    html = httpx.Response(200, text="<html>portal</html>", headers={"content-type": "text/html"})
    with pytest.raises(ProviderUnavailable):
        check_server_to_server(zoom({"/oauth/token": token(), "/v2/users/me": lambda _: html}), "acc-1")
