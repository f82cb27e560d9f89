"""Issue 7 at the API: answers carrying secrets are never cached (1f), identifiers from outside are
checked for length and shape before any storage call (1g), and 401s say why in their Bearer
challenge (1j; RFC 6750 section 3.1). Through the real handlers on moto."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from devstack.instrument import count_aws_calls
from tests.conftest import FakeContext, Seeded, api_event, decode_body, header

if TYPE_CHECKING:
    from tests.integration.token_fixtures import LinkedOu, TokenApi

pytest_plugins = ["tests.integration.token_fixtures"]

LINK_TOKENS = "/v1/organizational_unit_authorization_link_tokens"
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
INVALID_TOKEN = 'Bearer realm="orgconnect", error="invalid_token"'
NO_TOKEN = 'Bearer realm="orgconnect"'
# Beyond DynamoDB's 2048-byte key limit, in characters or in UTF-8 bytes.
OVERSIZED = "a" * 3000
MULTIBYTE = "é" * 1100


@pytest.fixture
def mint(handlers: dict[str, Handler], seeded: Seeded, aws: dict[str, str]) -> Callable[..., dict[str, Any]]:
    def call(body: Any, authorization: str | None = f"Bearer {seeded.client_secret}") -> dict[str, Any]:
        headers = {} if authorization is None else {"Authorization": authorization}
        event = api_event("POST", LINK_TOKENS, body=body, headers=headers)
        return handlers["LinkTokensFunction"](event, FakeContext())

    return call


def error_of(response: dict[str, Any]) -> tuple[int, str]:
    return response["statusCode"], decode_body(response)["error"]


# -- 1f: Cache-Control: no-store ----------------------------------------------------------------


def test_the_link_token_answer_is_never_cached(mint: Callable[..., dict[str, Any]], seeded: Seeded) -> None:
    minted = mint({"service_account_id": seeded.service_account_id})
    assert minted["statusCode"] == 200
    assert header(minted, "Cache-Control") == "no-store"
    for refused in (mint({}), mint({}, authorization="Bearer wrong")):
        assert refused["statusCode"] in (401, 422)
        assert header(refused, "Cache-Control") == "no-store"


@pytest.mark.parametrize("path", ["/v1/userinfo", "/v1/organizational_unit"])
def test_userinfo_answers_are_never_cached(api: TokenApi, ou: LinkedOu, path: str) -> None:
    token = api.redeem(ou)["access_token"]
    for response in (api.get(path, token), api.get(path, "wrong")):
        assert response["statusCode"] in (200, 401)
        assert header(response, "Cache-Control") == "no-store"


# -- 1j: WWW-Authenticate (RFC 6750 section 3.1) ------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "challenge"),
    [
        (None, NO_TOKEN),
        ("Basic abc", NO_TOKEN),
        ("Bearer ", NO_TOKEN),
        ("Bearer not-a-token", INVALID_TOKEN),
        (f"Bearer {OVERSIZED}", INVALID_TOKEN),
    ],
    ids=["none", "other-scheme", "empty", "unknown", "oversized"],
)
def test_userinfo_401_challenges(
    api: TokenApi, ou: LinkedOu, authorization: str | None, challenge: str
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = api.get("/v1/userinfo", None, headers=headers)
    assert error_of(response) == (401, "unauthorized")
    assert header(response, "WWW-Authenticate") == challenge


def test_an_expired_or_revoked_token_is_invalid_token(api: TokenApi, ou: LinkedOu) -> None:
    tokens = api.redeem(ou)
    assert api.revoke(ou.body(token=tokens["access_token"]))["statusCode"] == 200
    response = api.get("/v1/userinfo", tokens["access_token"])
    assert header(response, "WWW-Authenticate") == INVALID_TOKEN
    in_url = api.get("/v1/userinfo", None, query={"access_token": [tokens["access_token"]]})
    assert header(in_url, "WWW-Authenticate") == INVALID_TOKEN


def test_link_token_401_challenges(mint: Callable[..., dict[str, Any]]) -> None:
    assert header(mint({}, authorization=None), "WWW-Authenticate") == NO_TOKEN
    assert header(mint({}, authorization="Bearer wrong"), "WWW-Authenticate") == INVALID_TOKEN


# -- 1g: identifiers checked before storage -----------------------------------------------------


@pytest.mark.parametrize(
    "token", [OVERSIZED, MULTIBYTE, "abc\u0000def"], ids=["3000-chars", "multibyte", "nul"]
)
def test_a_malformed_bearer_token_is_401_without_a_storage_call(
    api: TokenApi, ou: LinkedOu, token: str
) -> None:
    api.redeem(ou)  # warm: the pepper is read once per cold start
    with count_aws_calls() as calls:
        response = api.get("/v1/userinfo", token)
    assert error_of(response) == (401, "unauthorized")
    assert header(response, "WWW-Authenticate") == INVALID_TOKEN
    assert calls == {}


@pytest.mark.parametrize("secret", [OVERSIZED, MULTIBYTE], ids=["3000-chars", "multibyte"])
def test_a_malformed_api_key_is_401(mint: Callable[..., dict[str, Any]], seeded: Seeded, secret: str) -> None:
    response = mint({"service_account_id": seeded.service_account_id}, authorization=f"Bearer {secret}")
    assert error_of(response) == (401, "unauthorized")


@pytest.mark.parametrize(
    "service_account_id",
    [OVERSIZED, "ser_" + MULTIBYTE, "ser_000000000000000000000000\n", "ser_00000000000000000000000é"],
    ids=["3000-chars", "multibyte", "trailing-newline", "multibyte-in-shape"],
)
def test_a_malformed_service_account_id_is_422(
    mint: Callable[..., dict[str, Any]], service_account_id: str
) -> None:
    response = mint({"service_account_id": service_account_id})
    assert response["statusCode"] == 422
    assert decode_body(response)["errors"]["service_account_id"][0]["key"] == "errors.invalid"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"code": OVERSIZED}, (400, "invalid_request")),
        ({"code": MULTIBYTE}, (400, "invalid_request")),
        ({"client_id": OVERSIZED}, (401, "invalid_client")),
        ({"client_id": "cli_" + MULTIBYTE}, (401, "invalid_client")),
        ({"client_secret": OVERSIZED}, (401, "invalid_client")),
        ({"client_secret": MULTIBYTE}, (401, "invalid_client")),
        ({"grant_type": "refresh_token", "refresh_token": OVERSIZED}, (400, "invalid_request")),
        ({"grant_type": "refresh_token", "refresh_token": MULTIBYTE}, (400, "invalid_request")),
    ],
    ids=[
        "code-3000",
        "code-multibyte",
        "client-id-3000",
        "client-id-multibyte",
        "secret-3000",
        "secret-multibyte",
        "refresh-3000",
        "refresh-multibyte",
    ],
)
def test_malformed_values_at_the_token_endpoint_are_oauth_errors_without_a_storage_call(
    api: TokenApi, ou: LinkedOu, params: dict[str, str], expected: tuple[int, str]
) -> None:
    api.redeem(ou)  # warm
    defaults = {"grant_type": "authorization_code", "code": "c", "redirect_uri": ou.redirect_uri}
    request = ou.body(**{**defaults, **params})
    with count_aws_calls() as calls:
        response = api.token(request)
    assert error_of(response) == expected
    assert header(response, "Cache-Control") == "no-store"
    assert calls == {}


def test_malformed_basic_credentials_are_invalid_client(api: TokenApi, ou: LinkedOu) -> None:
    raw = base64.b64encode(f"{ou.client_id}:{MULTIBYTE}".encode()).decode()
    response = api.token(
        {"grant_type": "refresh_token", "refresh_token": "x"}, headers={"Authorization": f"Basic {raw}"}
    )
    assert error_of(response) == (401, "invalid_client")


# -- bodies that are not UTF-8 (found by schemathesis, 1l) --------------------------------------


def _non_utf8_event(path: str, authorization: str) -> dict[str, Any]:
    # API Gateway hands a body that is not UTF-8 text to the function base64-encoded.
    event = api_event(
        "POST", path, headers={"Authorization": authorization, "Content-Type": "application/json"}
    )
    event["body"] = base64.b64encode(b'{"token": "\xa1\xff"}').decode()
    event["isBase64Encoded"] = True
    return event


def test_a_non_utf8_revocation_body_is_invalid_request(api: TokenApi, ou: LinkedOu) -> None:
    basic = base64.b64encode(f"{ou.client_id}:{ou.client_secret}".encode()).decode()
    response = api.token_handler(_non_utf8_event("/oauth/token/revoke", f"Basic {basic}"), FakeContext())
    assert error_of(response) == (400, "invalid_request")


def test_a_non_utf8_link_token_body_is_400(
    handlers: dict[str, Handler], seeded: Seeded, aws: dict[str, str]
) -> None:
    event = _non_utf8_event(LINK_TOKENS, f"Bearer {seeded.client_secret}")
    response = handlers["LinkTokensFunction"](event, FakeContext())
    assert response["statusCode"] == 400
    assert decode_body(response)["errors"]["body"][0]["key"] == "errors.invalid"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/oauth/token/revoke", {"token": "x", "token_type_hint": {"a": 1}}),
        ("/oauth/token", {"grant_type": "refresh_token", "refresh_token": "x", "scope": ["a"]}),
    ],
    ids=["token_type_hint", "scope"],
)
def test_optional_parameters_of_the_wrong_type_are_invalid_request(
    api: TokenApi, ou: LinkedOu, path: str, params: dict[str, Any]
) -> None:
    # Found by schemathesis: values the request schema refuses must not be accepted silently.
    assert error_of(api.token(ou.body(**params), path=path)) == (400, "invalid_request")
