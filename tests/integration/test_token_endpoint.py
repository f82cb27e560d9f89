"""POST /oauth/token and POST /oauth/token/revoke through the real handler on moto (SPEC 2.2),
including what Cronofy's SDKs send (pycronofy's JSON, the Ruby SDK's form bodies)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import boto3
import pycronofy
import pytest
from pycronofy.exceptions import PyCronofyRequestError

from devstack.instrument import count_aws_calls
from orgconnect import runtime
from orgconnect.domain.codes import CODE_PURPOSE
from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.store import keys
from orgconnect.store.tokens import TokenStore
from tests.conftest import FakeContext, api_event, decode_body, header

if TYPE_CHECKING:
    from devstack.servers import RunningServer
    from tests.integration.token_fixtures import Clock, LinkedOu, TokenApi

pytest_plugins = ["tests.integration.token_fixtures"]


def error_of(response: dict[str, Any]) -> tuple[int, str]:
    return response["statusCode"], decode_body(response)["error"]


def assert_no_store(response: dict[str, Any]) -> None:
    assert header(response, "Cache-Control") == "no-store"
    assert header(response, "Pragma") == "no-cache"


def userinfo_status(api: TokenApi, access_token: str) -> int:
    return int(api.get("/v1/userinfo", access_token)["statusCode"])


# -- authorization_code -------------------------------------------------------------------------


def test_a_code_redeems_for_ou_tokens(api: TokenApi, ou: LinkedOu) -> None:
    response = api.token(
        ou.body(grant_type="authorization_code", code=ou.issue_code(), redirect_uri=ou.redirect_uri)
    )

    ou.tokens_from(response)
    assert header(response, "Content-Type") == "application/json"
    assert_no_store(response)
    body = decode_body(response)
    assert set(body) == {
        "token_type",
        "access_token",
        "expires_in",
        "refresh_token",
        "scope",
        "sub",
        "organizational_unit",
    }
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "organizational_unit_use_integrations"
    assert body["sub"] == ou.ou_id
    assert body["organizational_unit"] == {"sub": ou.ou_id, "name": "Acme"}
    assert len(body["access_token"]) == 43 and len(body["refresh_token"]) == 43
    assert userinfo_status(api, body["access_token"]) == 200


def test_tokens_and_codes_are_stored_only_as_digests(
    api: TokenApi, ou: LinkedOu, aws: dict[str, str]
) -> None:
    code = ou.issue_code()
    body = api.redeem(ou, code)
    items = boto3.client("dynamodb").scan(TableName=aws["ORGCONNECT_TABLE_NAME"])["Items"]
    stored = json.dumps(items)
    for secret in (code, body["access_token"], body["refresh_token"], ou.client_secret):
        assert secret not in stored
    kinds = sorted(
        i["type"]["S"] for i in items if i["type"]["S"] in {"grant", "access_token", "refresh_token"}
    )
    assert kinds == ["access_token", "grant", "refresh_token"]


def test_redemption_makes_two_dynamodb_calls(api: TokenApi, ou: LinkedOu) -> None:
    code = ou.issue_code()
    with count_aws_calls() as calls:
        response = api.token(
            ou.body(grant_type="authorization_code", code=code, redirect_uri=ou.redirect_uri)
        )
    ou.tokens_from(response)
    assert calls == {"dynamodb:BatchGetItem": 1, "dynamodb:TransactWriteItems": 1}


def test_a_replay_after_the_codes_lifetime_still_revokes(api: TokenApi, ou: LinkedOu, clock: Clock) -> None:
    code = ou.issue_code(ttl=60)
    first = api.redeem(ou, code)
    stored = ou.item(keys.code_key(runtime.get_hasher().digest(CODE_PURPOSE, code)))
    assert stored is not None
    # Redeeming moved the code's TTL a day on, so that its replay is still recognized.
    assert (stored["used_at"], stored["expires_at"]) == (clock(), clock() + 24 * 3600)
    assert stored["grant_id"].startswith("grt_")
    clock.advance(3000)
    replay = api.token(ou.body(grant_type="authorization_code", code=code, redirect_uri=ou.redirect_uri))
    assert error_of(replay) == (400, "invalid_grant")
    assert userinfo_status(api, first["access_token"]) == 401


def test_the_ruby_sdk_form_body_is_accepted(api: TokenApi, ou: LinkedOu) -> None:
    # What cronofy-ruby's OAuth2 client posts: form-encoded, credentials in the body, no Basic.
    code = ou.issue_code()
    raw = (
        f"grant_type=authorization_code&client_id={ou.client_id}&client_secret={ou.client_secret}"
        f"&code={code}&redirect_uri={quote(ou.redirect_uri, safe='')}"
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    response = api.token(raw_body=raw, headers=headers)
    ou.tokens_from(response)
    tokens = decode_body(response)

    refreshed = api.token(
        raw_body=urlencode(
            {
                "client_id": ou.client_id,
                "client_secret": ou.client_secret,
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
            }
        ),
        headers=headers,
    )
    ou.tokens_from(refreshed)
    # cronofy-ruby revokes with the refresh token, form-encoded.
    revoked = api.revoke(
        {},
        raw_body=urlencode(
            {
                "client_id": ou.client_id,
                "client_secret": ou.client_secret,
                "token": decode_body(refreshed)["refresh_token"],
            }
        ),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert revoked["statusCode"] == 200
    assert userinfo_status(api, decode_body(refreshed)["access_token"]) == 401


def test_http_basic_client_authentication(api: TokenApi, ou: LinkedOu) -> None:
    response = api.token(
        {"grant_type": "authorization_code", "code": ou.issue_code(), "redirect_uri": ou.redirect_uri},
        form=True,
        basic=(ou.client_id, ou.client_secret),
    )
    ou.tokens_from(response)


def test_basic_with_the_same_client_id_in_the_body_is_accepted(api: TokenApi, ou: LinkedOu) -> None:
    params = {
        "grant_type": "authorization_code",
        "client_id": ou.client_id,
        "code": ou.issue_code(),
        "redirect_uri": ou.redirect_uri,
    }
    ou.tokens_from(api.token(params, basic=(ou.client_id, ou.client_secret)))


@pytest.mark.parametrize(
    "authorization",
    ["Bearer None", "Bearer some-old-access-token"],
    ids=["pycronofy-before-a-token", "pycronofy-after"],
)
def test_a_bearer_header_beside_body_credentials_is_ignored(
    api: TokenApi, ou: LinkedOu, authorization: str
) -> None:
    response = api.token(
        ou.body(grant_type="authorization_code", code=ou.issue_code(), redirect_uri=ou.redirect_uri),
        headers={"Authorization": authorization},
    )
    ou.tokens_from(response)


def test_both_client_authentication_methods_at_once_is_invalid_request(api: TokenApi, ou: LinkedOu) -> None:
    code = ou.issue_code()
    response = api.token(
        ou.body(grant_type="authorization_code", code=code, redirect_uri=ou.redirect_uri),
        basic=(ou.client_id, ou.client_secret),
    )
    assert error_of(response) == (400, "invalid_request")
    assert_no_store(response)
    mismatched = api.token(
        {
            "grant_type": "authorization_code",
            "client_id": ou.other_client_id,
            "code": code,
            "redirect_uri": "x",
        },
        basic=(ou.client_id, ou.client_secret),
    )
    assert error_of(mismatched) == (400, "invalid_request")
    # Neither attempt consumed the code.
    assert api.redeem(ou, code)["sub"] == ou.ou_id


CLIENT_FAILURES: dict[str, Any] = {
    "none": lambda _: ({}, None),
    "unknown-client": lambda _: ({"client_id": "cli_000000000000000000000000", "client_secret": "x"}, None),
    "wrong-secret": lambda ou: ({"client_id": ou.client_id, "client_secret": "wrong"}, None),
    "other-clients-secret": lambda ou: (
        {"client_id": ou.client_id, "client_secret": ou.other_client_secret},
        None,
    ),
    "no-secret": lambda ou: ({"client_id": ou.client_id}, None),
    "no-id": lambda ou: ({"client_secret": ou.client_secret}, None),
    "malformed-id": lambda ou: ({"client_id": "not-an-id", "client_secret": ou.client_secret}, None),
    "basic-wrong-secret": lambda ou: ({}, (ou.client_id, "wrong")),
}


@pytest.mark.parametrize("case", sorted(CLIENT_FAILURES))
def test_failed_client_authentication_is_401_invalid_client(api: TokenApi, ou: LinkedOu, case: str) -> None:
    params, basic = CLIENT_FAILURES[case](ou)
    code = ou.issue_code()
    response = api.token(
        {**params, "grant_type": "authorization_code", "code": code, "redirect_uri": ou.redirect_uri},
        basic=basic,
    )
    assert error_of(response) == (401, "invalid_client")
    assert header(response, "WWW-Authenticate") == 'Basic realm="orgconnect"'
    assert_no_store(response)
    assert api.redeem(ou, code)["sub"] == ou.ou_id


@pytest.mark.parametrize(
    "value", ["Basic !!!notbase64", "Basic bm9jb2xvbg=="], ids=["not-base64", "no-colon"]
)
def test_unreadable_basic_credentials_are_invalid_client(api: TokenApi, ou: LinkedOu, value: str) -> None:
    response = api.token(
        {"grant_type": "refresh_token", "refresh_token": "x"}, headers={"Authorization": value}
    )
    assert error_of(response) == (401, "invalid_client")


@pytest.mark.parametrize("grant_type", ["password", "client_credentials", "implicit", "token", "device_code"])
def test_other_grant_types_are_unsupported(api: TokenApi, ou: LinkedOu, grant_type: str) -> None:
    response = api.token(ou.body(grant_type=grant_type, username="u", password="p"))
    assert error_of(response) == (400, "unsupported_grant_type")
    assert_no_store(response)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"grant_type": "authorization_code", "redirect_uri": "https://app.example/callback"},
        {"grant_type": "authorization_code", "code": "abc"},
        {"grant_type": "authorization_code", "code": "", "redirect_uri": "https://app.example/callback"},
        {"grant_type": "refresh_token"},
        {"grant_type": ["authorization_code"]},
        {"grant_type": "refresh_token", "refresh_token": 12},
    ],
    ids=["no-grant-type", "no-code", "no-redirect-uri", "empty-code", "no-refresh-token", "list", "number"],
)
def test_missing_or_malformed_parameters_are_invalid_request(
    api: TokenApi, ou: LinkedOu, params: dict[str, Any]
) -> None:
    response = api.token(ou.body(**params))
    assert error_of(response) == (400, "invalid_request")
    assert_no_store(response)


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        ("{not json", "application/json"),
        ('["a"]', "application/json"),
        ("grant_type=refresh_token", "text/plain"),
        ("grant_type=refresh_token&grant_type=authorization_code", "application/x-www-form-urlencoded"),
        ("x=" + "a" * 70_000, "application/x-www-form-urlencoded"),
        ("&".join(f"p{i}=1" for i in range(60)), "application/x-www-form-urlencoded"),
    ],
    ids=["bad-json", "json-array", "text-plain", "repeated-parameter", "oversized", "too-many-fields"],
)
def test_unreadable_bodies_are_invalid_request(api: TokenApi, raw: str, content_type: str) -> None:
    response = api.token(raw_body=raw, headers={"Content-Type": content_type})
    assert error_of(response) == (400, "invalid_request")
    assert_no_store(response)


def test_a_body_without_content_type_is_read_either_way(api: TokenApi, ou: LinkedOu) -> None:
    as_json = json.dumps(
        ou.body(grant_type="authorization_code", code=ou.issue_code(), redirect_uri=ou.redirect_uri)
    )
    as_form = urlencode(
        ou.body(grant_type="authorization_code", code=ou.issue_code(), redirect_uri=ou.redirect_uri)
    )
    for raw in (as_json, as_form):
        event = api_event("POST", "/oauth/token", raw_body=raw)
        assert api.token_handler(event, FakeContext())["statusCode"] == 200


def test_invalid_grant_answers_carry_a_description(api: TokenApi, ou: LinkedOu) -> None:
    response = api.token(ou.body(grant_type="authorization_code", code="nope", redirect_uri=ou.redirect_uri))
    body = decode_body(response)
    assert response["statusCode"] == 400
    assert body["error"] == "invalid_grant" and body["error_description"]
    assert header(response, "WWW-Authenticate") is None


def test_a_dependency_outage_is_503_and_still_not_cached(
    api: TokenApi, ou: LinkedOu, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(*_: object) -> None:
        raise TemporarilyUnavailable("ThrottlingException")

    monkeypatch.setattr(TokenStore, "load_for_code", unavailable)
    response = api.token(ou.body(grant_type="authorization_code", code="x", redirect_uri=ou.redirect_uri))
    assert error_of(response) == (503, "temporarily_unavailable")
    assert_no_store(response)


def test_an_unknown_path_is_still_not_cached(api: TokenApi) -> None:
    response = api.token({}, path="/oauth/nothing")
    assert response["statusCode"] == 404
    assert_no_store(response)


# -- Cronofy's Python SDK, over HTTP ------------------------------------------------------------


def test_pycronofy_redeems_refreshes_and_revokes(ou: LinkedOu, token_server: RunningServer) -> None:
    client = pycronofy.Client(client_id=ou.client_id, client_secret=ou.client_secret)
    client.request_handler.base_url = token_server.url  # only the base URL changes

    tokens = client.get_authorization_from_code(ou.issue_code(), redirect_uri=ou.redirect_uri)
    info = client.userinfo()
    assert info["sub"] == ou.ou_id
    assert info["cronofy.type"] == "organizational_unit"
    assert [c["connection_id"] for c in info["cronofy.data"]["conferencing_connections"]] == [
        ou.connection_id
    ]

    refreshed = client.refresh_authorization()
    assert refreshed["refresh_token"] != tokens["refresh_token"]
    assert client.userinfo()["sub"] == ou.ou_id

    client.revoke_authorization()  # posts the access token as `token`
    revoked = pycronofy.Client(access_token=refreshed["access_token"])
    revoked.request_handler.base_url = token_server.url
    with pytest.raises(PyCronofyRequestError) as raised:
        revoked.userinfo()
    assert raised.value.response.status_code == 401


def test_pycronofy_sees_invalid_grant_for_a_used_code(ou: LinkedOu, token_server: RunningServer) -> None:
    code = ou.issue_code()
    client = pycronofy.Client(client_id=ou.client_id, client_secret=ou.client_secret)
    client.request_handler.base_url = token_server.url
    client.get_authorization_from_code(code, redirect_uri=ou.redirect_uri)
    with pytest.raises(PyCronofyRequestError) as raised:
        client.get_authorization_from_code(code, redirect_uri=ou.redirect_uri)
    assert raised.value.response.status_code == 400
    assert raised.value.response.json()["error"] == "invalid_grant"
    assert raised.value.response.headers["Cache-Control"] == "no-store"
