"""POST /oauth/token/revoke through the real handler on moto (SPEC 2.2; RFC 7009)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from devstack.instrument import count_aws_calls
from orgconnect import runtime
from orgconnect.domain.grants import REFRESH_TOKEN_PURPOSE
from orgconnect.store import keys
from orgconnect.store.tokens import TokenStore
from tests.conftest import decode_body, header

if TYPE_CHECKING:
    from tests.integration.token_fixtures import LinkedOu, TokenApi

pytest_plugins = ["tests.integration.token_fixtures"]


def error_of(response: dict[str, Any]) -> tuple[int, str]:
    return response["statusCode"], decode_body(response)["error"]


def assert_no_store(response: dict[str, Any]) -> None:
    assert header(response, "Cache-Control") == "no-store"
    assert header(response, "Pragma") == "no-cache"


def userinfo_status(api: TokenApi, access_token: str) -> int:
    return int(api.get("/v1/userinfo", access_token)["statusCode"])


# -- revocation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["access_token", "refresh_token"])
def test_revoking_a_token_revokes_its_grant(api: TokenApi, ou: LinkedOu, which: str) -> None:
    first = api.redeem(ou)
    second = decode_body(api.token(ou.body(grant_type="refresh_token", refresh_token=first["refresh_token"])))
    response = api.revoke(ou.body(token=second[which]))

    assert response["statusCode"] == 200
    assert response["body"] in (None, "")
    assert_no_store(response)
    assert userinfo_status(api, first["access_token"]) == 401
    assert userinfo_status(api, second["access_token"]) == 401
    refused = api.token(ou.body(grant_type="refresh_token", refresh_token=second["refresh_token"]))
    assert error_of(refused) == (400, "invalid_grant")
    # Revoking again is as quiet as the first time.
    assert api.revoke(ou.body(token=second[which]))["statusCode"] == 200


def test_aws_calls_of_revocation_and_of_refused_replays(api: TokenApi, ou: LinkedOu) -> None:
    code = ou.issue_code()
    first = api.redeem(ou, code)
    with count_aws_calls() as replay:
        api.token(ou.body(grant_type="authorization_code", code=code, redirect_uri=ou.redirect_uri))
    # The read shows the code used: revoke its grant (read it, then one transaction).
    assert replay == {"dynamodb:BatchGetItem": 1, "dynamodb:GetItem": 1, "dynamodb:TransactWriteItems": 1}
    second = api.redeem(ou)
    with count_aws_calls() as by_token:
        api.revoke(ou.body(token=second["refresh_token"]))
    assert by_token == {"dynamodb:BatchGetItem": 1, "dynamodb:GetItem": 1, "dynamodb:TransactWriteItems": 1}
    api.redeem(ou)
    with count_aws_calls() as by_sub:
        api.revoke(ou.body(sub=ou.ou_id))
    # One live grant left (the others are revoked already): client, query, one transaction.
    assert by_sub == {"dynamodb:GetItem": 1, "dynamodb:Query": 1, "dynamodb:TransactWriteItems": 1}
    assert userinfo_status(api, first["access_token"]) == 401


def test_revoking_the_ou_sub_revokes_every_grant_and_keeps_the_links(api: TokenApi, ou: LinkedOu) -> None:
    grants = [api.redeem(ou) for _ in range(3)]
    response = api.revoke(ou.body(sub=ou.ou_id))
    assert response["statusCode"] == 200
    assert all(userinfo_status(api, g["access_token"]) == 401 for g in grants)
    # The OU, its service account link and its connection stay until the OU is deleted.
    assert ou.item(keys.organizational_unit_key(ou.ou_id)) is not None
    account = ou.item(keys.service_account_key(ou.service_account_id))
    assert account is not None and account["organizational_unit_id"] == ou.ou_id
    assert ou.item(keys.connection_key(ou.connection_id)) is not None
    # A new authorization of the same OU works again.
    assert userinfo_status(api, api.redeem(ou)["access_token"]) == 200


def test_revoking_a_sub_leaves_other_clients_grants(api: TokenApi, ou: LinkedOu) -> None:
    mine = api.redeem(ou)
    response = api.revoke(
        {"client_id": ou.other_client_id, "client_secret": ou.other_client_secret, "sub": ou.ou_id}
    )
    assert response["statusCode"] == 200
    assert userinfo_status(api, mine["access_token"]) == 200


def test_another_clients_token_is_accepted_and_left_alone(api: TokenApi, ou: LinkedOu) -> None:
    mine = api.redeem(ou)
    response = api.revoke(
        {
            "client_id": ou.other_client_id,
            "client_secret": ou.other_client_secret,
            "token": mine["access_token"],
        }
    )
    assert response["statusCode"] == 200
    assert userinfo_status(api, mine["access_token"]) == 200


def test_token_wins_over_sub(api: TokenApi, ou: LinkedOu) -> None:
    a, b = api.redeem(ou), api.redeem(ou)
    assert api.revoke(ou.body(token=a["access_token"], sub=ou.ou_id))["statusCode"] == 200
    assert userinfo_status(api, a["access_token"]) == 401
    assert userinfo_status(api, b["access_token"]) == 200


def test_unknown_tokens_are_revoked_quietly(api: TokenApi, ou: LinkedOu) -> None:
    for params in ({"token": "never-issued"}, {"sub": "ou_000000000000000000000000"}):
        response = api.revoke(ou.body(**params))
        assert response["statusCode"] == 200


@pytest.mark.parametrize(
    "params",
    [
        {"sub": "x" * 600},
        {"sub": "ou_" + "é" * 700},
        {"sub": "ou_000000000000000000000000\n"},
        {"token": "t" * 3000},
        {"token": "токен"},
    ],
    ids=["long-sub", "multibyte-sub", "sub-with-newline", "3000-char-token", "multibyte-token"],
)
def test_values_that_cannot_be_a_token_or_sub_are_invalid_request(
    api: TokenApi, ou: LinkedOu, params: dict[str, str]
) -> None:
    # Such a sub would be a GSI key over DynamoDB's 2048-byte limit: refused before any read.
    with count_aws_calls() as calls:
        response = api.revoke(ou.body(**params))
    assert error_of(response) == (400, "invalid_request")
    assert_no_store(response)
    assert calls == {}


def test_revocation_errors(api: TokenApi, ou: LinkedOu) -> None:
    assert error_of(api.revoke(ou.body())) == (400, "invalid_request")
    refused = api.revoke({"client_id": ou.client_id, "client_secret": "wrong", "token": "x"})
    assert error_of(refused) == (401, "invalid_client")
    assert header(refused, "WWW-Authenticate") == 'Basic realm="orgconnect"'
    assert_no_store(refused)
    by_basic = api.revoke({"token": "x"}, form=True, basic=(ou.client_id, ou.client_secret))
    assert by_basic["statusCode"] == 200


def test_a_revocation_racing_a_refresh_revokes_the_new_tokens_too(
    api: TokenApi, ou: LinkedOu, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = api.redeem(ou)
    refreshed: list[dict[str, Any]] = []
    original = TokenStore.revoke_grant

    def refresh_first(self: TokenStore, *args: Any) -> None:
        if not refreshed:
            response = api.token(ou.body(grant_type="refresh_token", refresh_token=first["refresh_token"]))
            refreshed.append(decode_body(response))
        original(self, *args)

    monkeypatch.setattr(TokenStore, "revoke_grant", refresh_first)
    assert api.revoke(ou.body(token=first["access_token"]))["statusCode"] == 200
    assert userinfo_status(api, refreshed[0]["access_token"]) == 401
    _, successor = TokenStore.sharing(runtime.get_store()).load_for_refresh(
        ou.client_id, runtime.get_hasher().digest(REFRESH_TOKEN_PURPOSE, refreshed[0]["refresh_token"])
    )
    assert successor is not None and successor.revoked_at is not None
