"""GET /v1/userinfo and GET /v1/organizational_unit through the real handler on moto
(SPEC 2.3, 2.5), with tokens from POST /oauth/token."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import pytest

from devstack.instrument import count_aws_calls
from orgconnect import runtime
from orgconnect.domain.grants import ACCESS_TOKEN_PURPOSE
from orgconnect.domain.provisioning_policy import ProvisioningPolicy
from orgconnect.domain.secrets import new_id
from orgconnect.store import keys
from orgconnect.store.dynamodb import to_item
from tests.conftest import decode_body, header

if TYPE_CHECKING:
    from tests.integration.token_fixtures import Clock, LinkedOu, TokenApi

pytest_plugins = ["tests.integration.token_fixtures"]

PATHS = ("/v1/userinfo", "/v1/organizational_unit")


def put(ou: LinkedOu, item: dict[str, Any]) -> None:
    boto3.client("dynamodb").put_item(TableName=ou.table, Item=to_item(item))


def add_members(ou: LinkedOu) -> tuple[str, str]:
    """A second calendar service account (Microsoft 365) and a Webex connection needing reauth."""
    ser, cnx = new_id("ser"), new_id("cnx")
    put(
        ou,
        {
            **keys.service_account_key(ser),
            "type": "service_account",
            "gsi1pk": keys.ou_member_index(ou.ou_id),
            "gsi1sk": f"SERVICEACCOUNT#{ser}",
            "service_account_id": ser,
            "client_id": ou.client_id,
            "provider": "microsoft_365",
            "domain": "acme.onmicrosoft.com",
            "organizational_unit_id": ou.ou_id,
        },
    )
    put(
        ou,
        {
            **keys.connection_key(cnx),
            "type": "connection",
            "gsi1pk": keys.ou_member_index(ou.ou_id),
            "gsi1sk": f"CONNECTION#{cnx}",
            "connection_id": cnx,
            "ou_id": ou.ou_id,
            "client_id": ou.client_id,
            "provider_name": "webex_enterprise",
            "provider_account_id": "webex-org",
            "account_name": "Acme Webex",
            "status": "needs_reauthorization",
            "secret_arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:webex",
        },
    )
    return ser, cnx


def test_userinfo_describes_the_organizational_unit(api: TokenApi, ou: LinkedOu) -> None:
    tokens = api.redeem(ou)
    response = api.get("/v1/userinfo", tokens["access_token"])

    assert response["statusCode"] == 200
    assert decode_body(response) == {
        "sub": ou.ou_id,
        "cronofy.type": "organizational_unit",
        "cronofy.data": {
            "organizational_unit": {"sub": ou.ou_id, "name": "Acme"},
            "service_accounts": [
                {
                    "service_account_id": ou.service_account_id,
                    "provider_name": "google_workspace",
                    "domain": "example.com",
                }
            ],
            "conferencing_connections": [
                {
                    "provider_name": "zoom_enterprise",
                    "connection_id": ou.connection_id,
                    "account_name": "Acme Zoom",
                    "status": "connected",
                }
            ],
        },
    }


def test_organizational_unit_has_the_same_data(api: TokenApi, ou: LinkedOu) -> None:
    tokens = api.redeem(ou)
    response = api.get("/v1/organizational_unit", tokens["access_token"])

    assert response["statusCode"] == 200
    body = decode_body(response)
    assert body == {
        "sub": ou.ou_id,
        "name": "Acme",
        "service_accounts": [
            {
                "service_account_id": ou.service_account_id,
                "provider_name": "google_workspace",
                "domain": "example.com",
            }
        ],
        "conferencing_connections": [
            {
                "connection_id": ou.connection_id,
                "provider_name": "zoom_enterprise",
                "account_name": "Acme Zoom",
                "status": "connected",
                # Never set: the defaults (provisioning off), version 0.
                "provisioning": {
                    **ProvisioningPolicy().to_document(),
                    "version": 0,
                    "updated_at": None,
                    "pending_removal": None,
                },
            }
        ],
    }


def test_every_member_of_the_ou_and_nothing_else_is_listed(
    api: TokenApi, ou: LinkedOu, other_ou: tuple[str, str]
) -> None:
    ser, cnx = add_members(ou)
    body = decode_body(api.get("/v1/organizational_unit", api.redeem(ou)["access_token"]))
    assert sorted(s["service_account_id"] for s in body["service_accounts"]) == sorted(
        [ou.service_account_id, ser]
    )
    assert {s["service_account_id"]: s["provider_name"] for s in body["service_accounts"]}[
        ser
    ] == "microsoft_365"
    connections = {c["connection_id"]: c for c in body["conferencing_connections"]}
    assert set(connections) == {ou.connection_id, cnx}
    assert connections[cnx]["status"] == "needs_reauthorization"
    assert connections[cnx]["provider_name"] == "webex_enterprise"
    # Client B's OU and its connection do not leak in.
    assert other_ou[1] not in connections and other_ou[0] != ou.ou_id


def test_the_live_ou_name_is_shown(api: TokenApi, ou: LinkedOu) -> None:
    tokens = api.redeem(ou)
    boto3.client("dynamodb").update_item(
        TableName=ou.table,
        Key=to_item(keys.organizational_unit_key(ou.ou_id)),
        UpdateExpression="SET #n = :name",
        ExpressionAttributeNames={"#n": "name"},
        ExpressionAttributeValues=to_item({":name": "Acme Corp"}),
    )
    body = decode_body(api.get("/v1/userinfo", tokens["access_token"]))
    assert body["cronofy.data"]["organizational_unit"]["name"] == "Acme Corp"


@pytest.mark.parametrize("path", PATHS)
def test_a_request_makes_three_dynamodb_calls(api: TokenApi, ou: LinkedOu, path: str) -> None:
    token = api.redeem(ou)["access_token"]
    with count_aws_calls() as calls:
        assert api.get(path, token)["statusCode"] == 200
    # The access token, the OU item, and one query for the OU's members.
    assert calls == {"dynamodb:GetItem": 2, "dynamodb:Query": 1}


def assert_unauthorized(response: dict[str, Any]) -> None:
    assert response["statusCode"] == 401
    assert decode_body(response)["error"] == "unauthorized"
    assert (header(response, "WWW-Authenticate") or "").startswith("Bearer")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer ", "Basic abc", "Bearer not-a-token", "Bearer a b"],
    ids=["missing", "no-credentials", "empty", "basic", "unknown", "two-words"],
)
def test_missing_or_unknown_tokens_are_401(
    api: TokenApi, ou: LinkedOu, path: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    assert_unauthorized(api.get(path, None, headers=headers))


@pytest.mark.parametrize("path", PATHS)
def test_an_access_token_lasts_one_hour(api: TokenApi, ou: LinkedOu, clock: Clock, path: str) -> None:
    token = api.redeem(ou)["access_token"]
    clock.advance(3599)
    assert api.get(path, token)["statusCode"] == 200
    clock.advance(1)
    assert_unauthorized(api.get(path, token))


@pytest.mark.parametrize("path", PATHS)
def test_a_revoked_token_is_401(api: TokenApi, ou: LinkedOu, path: str) -> None:
    token = api.redeem(ou)["access_token"]
    assert api.revoke(ou.body(token=token))["statusCode"] == 200
    assert_unauthorized(api.get(path, token))


def test_other_secrets_are_not_access_tokens(api: TokenApi, ou: LinkedOu) -> None:
    tokens = api.redeem(ou)
    for not_an_access_token in (tokens["refresh_token"], ou.client_secret, ou.codes[-1]):
        assert_unauthorized(api.get("/v1/userinfo", not_an_access_token))


def test_a_token_of_a_deleted_ou_is_401(api: TokenApi, ou: LinkedOu) -> None:
    token = api.redeem(ou)["access_token"]
    boto3.client("dynamodb").delete_item(
        TableName=ou.table, Key=to_item(keys.organizational_unit_key(ou.ou_id))
    )
    assert_unauthorized(api.get("/v1/userinfo", token))


def test_an_ou_of_another_client_is_never_shown(api: TokenApi, ou: LinkedOu) -> None:
    token = api.redeem(ou)["access_token"]
    boto3.client("dynamodb").update_item(
        TableName=ou.table,
        Key=to_item(keys.organizational_unit_key(ou.ou_id)),
        UpdateExpression="SET client_id = :other",
        ExpressionAttributeValues=to_item({":other": ou.other_client_id}),
    )
    assert_unauthorized(api.get("/v1/organizational_unit", token))


@pytest.mark.parametrize("path", PATHS)
def test_a_token_in_the_query_string_is_refused(api: TokenApi, ou: LinkedOu, path: str) -> None:
    token = api.redeem(ou)["access_token"]
    assert_unauthorized(api.get(path, None, query={"access_token": [token]}))
    # Even beside a valid header: the token has leaked into a URL.
    assert_unauthorized(api.get(path, token, query={"access_token": [token]}))
    assert api.get(path, token, query={"unrelated": ["1"]})["statusCode"] == 200


@pytest.mark.parametrize("path", ["/v1/organizational_unit"])
def test_a_token_of_another_kind_of_grant_is_403(
    api: TokenApi, ou: LinkedOu, clock: Clock, path: str
) -> None:
    # An account token written directly (delegated access issues real ones); /v1/userinfo answers
    # account tokens with the account (tests/delegated), so only the OU endpoint refuses them.
    token = "account-token-" + new_id("x")
    put(
        ou,
        {
            **keys.access_token_key(runtime.get_hasher().digest(ACCESS_TOKEN_PURPOSE, token)),
            "type": "access_token",
            "grant_id": new_id("grt"),
            "client_id": ou.client_id,
            "kind": "account",
            "sub": new_id("acc"),
            "scope": "read_write",
            "created_at": clock(),
            "expires_at": clock() + 3600,
        },
    )
    response = api.get(path, token)
    assert response["statusCode"] == 403
    assert decode_body(response)["error"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in (header(response, "WWW-Authenticate") or "")
    # Its account does not exist: the token stands for nothing at /v1/userinfo.
    assert_unauthorized(api.get("/v1/userinfo", token))
