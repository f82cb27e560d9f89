"""POST /oauth/token with grant_type=refresh_token through the real handler on moto (SPEC 2.2)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from devstack.instrument import count_aws_calls
from tests.conftest import decode_body, header

if TYPE_CHECKING:
    from tests.integration.token_fixtures import Clock, LinkedOu, TokenApi

pytest_plugins = ["tests.integration.token_fixtures"]


def error_of(response: dict[str, Any]) -> tuple[int, str]:
    return response["statusCode"], decode_body(response)["error"]


def assert_no_store(response: dict[str, Any]) -> None:
    assert header(response, "Cache-Control") == "no-store"
    assert header(response, "Pragma") == "no-cache"


def userinfo_status(api: TokenApi, access_token: str) -> int:
    return int(api.get("/v1/userinfo", access_token)["statusCode"])


# -- refresh_token ------------------------------------------------------------------------------


def test_refresh_rotates_both_tokens(api: TokenApi, ou: LinkedOu, clock: Clock) -> None:
    first = api.redeem(ou)
    clock.advance(600)
    with count_aws_calls() as calls:
        response = api.token(ou.body(grant_type="refresh_token", refresh_token=first["refresh_token"]))
    assert calls == {"dynamodb:BatchGetItem": 1, "dynamodb:TransactWriteItems": 1}
    ou.tokens_from(response)
    assert_no_store(response)
    second = decode_body(response)
    assert {k: second[k] for k in ("token_type", "expires_in", "scope", "sub", "organizational_unit")} == {
        k: first[k] for k in ("token_type", "expires_in", "scope", "sub", "organizational_unit")
    }
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    # The previous access token lives out its hour; the new one lives an hour from now.
    assert userinfo_status(api, first["access_token"]) == 200
    assert userinfo_status(api, second["access_token"]) == 200
    clock.advance(3000)
    assert userinfo_status(api, first["access_token"]) == 401
    assert userinfo_status(api, second["access_token"]) == 200
    third = api.token(ou.body(grant_type="refresh_token", refresh_token=second["refresh_token"]))
    ou.tokens_from(third)


def test_refresh_by_basic_and_form(api: TokenApi, ou: LinkedOu) -> None:
    first = api.redeem(ou)
    response = api.token(
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        form=True,
        basic=(ou.client_id, ou.client_secret),
    )
    ou.tokens_from(response)


@pytest.mark.every_dynamodb
def test_parallel_refreshes_of_one_token_yield_one_success(api: TokenApi, ou: LinkedOu) -> None:
    first = api.redeem(ou)
    body = ou.body(grant_type="refresh_token", refresh_token=first["refresh_token"])
    results = api.in_parallel(body, 20)
    assert sorted(s for s, _ in results) == [200] + [400] * 19
    assert {b["error"] for s, b in results if s == 400} == {"invalid_grant"}
    # Strict reuse detection (no grace window): the losers presented a retired token.
    (winner,) = [b for s, b in results if s == 200]
    assert userinfo_status(api, winner["access_token"]) == 401
