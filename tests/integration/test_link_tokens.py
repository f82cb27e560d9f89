"""POST /v1/organizational_unit_authorization_link_tokens through the real handler (SPEC 2.1),
against moto's DynamoDB and Secrets Manager built from template.yaml."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from orgconnect import runtime, settings
from orgconnect.domain.link_tokens import LINK_TOKEN_PURPOSE
from orgconnect.store import keys
from orgconnect.store.dynamodb import from_item, to_item
from tests.conftest import FakeContext, Seeded, api_event, decode_body, header

PATH = "/v1/organizational_unit_authorization_link_tokens"
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@pytest.fixture
def mint(handlers: dict[str, Handler], seeded: Seeded) -> Callable[..., dict[str, Any]]:
    def call(
        body: Any = None,
        *,
        secret: str | None = seeded.client_secret,
        raw_body: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        hdrs = dict(headers or {})
        if secret is not None:
            hdrs.setdefault("Authorization", f"Bearer {secret}")
        return handlers["LinkTokensFunction"](
            api_event("POST", PATH, body=body, headers=hdrs, raw_body=raw_body), FakeContext()
        )

    return call


def table_items(aws: dict[str, str]) -> list[dict[str, Any]]:
    db = boto3.client("dynamodb")
    return [from_item(i) for i in db.scan(TableName=aws["ORGCONNECT_TABLE_NAME"])["Items"]]


def test_mints_a_single_use_token_stored_only_as_a_hash(
    mint: Callable[..., dict[str, Any]], seeded: Seeded, aws: dict[str, str]
) -> None:
    before = int(time.time())
    response = mint({"service_account_id": seeded.service_account_id})

    assert response["statusCode"] == 200
    token = decode_body(response)["organizational_unit_authorization_link_token"]["ou_link_token"]
    assert len(token) >= 43
    # The token never appears in storage; its keyed digest does, bound to the client and account.
    items = table_items(aws)
    assert token not in json.dumps(items)
    digest = runtime.get_hasher().digest(LINK_TOKEN_PURPOSE, token)
    stored = runtime.get_link_tokens().get_link_token(digest)
    assert stored is not None
    assert stored.client_id == seeded.client_id
    assert stored.service_account_id == seeded.service_account_id
    assert before + 1800 <= stored.expires_at <= int(time.time()) + 1800


def test_every_token_is_different(mint: Callable[..., dict[str, Any]], seeded: Seeded) -> None:
    tokens = {
        decode_body(mint({"service_account_id": seeded.service_account_id}))[
            "organizational_unit_authorization_link_token"
        ]["ou_link_token"]
        for _ in range(20)
    }
    assert len(tokens) == 20


def test_ttl_comes_from_configuration(
    mint: Callable[..., dict[str, Any]], seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORGCONNECT_LINK_TOKEN_TTL_SECONDS", "60")
    settings.reset()
    token = decode_body(mint({"service_account_id": seeded.service_account_id}))[
        "organizational_unit_authorization_link_token"
    ]["ou_link_token"]
    grant = runtime.get_link_tokens().get_link_token(runtime.get_hasher().digest(LINK_TOKEN_PURPOSE, token))
    assert grant is not None
    assert grant.expires_at - grant.created_at == 60


def test_an_expired_token_is_not_found_even_before_ttl_deletion(
    mint: Callable[..., dict[str, Any]], seeded: Seeded, aws: dict[str, str]
) -> None:
    token = decode_body(mint({"service_account_id": seeded.service_account_id}))[
        "organizational_unit_authorization_link_token"
    ]["ou_link_token"]
    digest = runtime.get_hasher().digest(LINK_TOKEN_PURPOSE, token)
    boto3.client("dynamodb").update_item(
        TableName=aws["ORGCONNECT_TABLE_NAME"],
        Key=to_item(keys.link_token_key(digest)),
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues=to_item({":past": 1}),
    )
    assert runtime.get_link_tokens().get_link_token(digest) is None


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer not-a-real-secret"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "bearer"},
    ],
    ids=["missing", "empty", "unknown", "basic-scheme", "no-credentials"],
)
def test_bad_or_missing_api_key_is_401_without_detail(
    mint: Callable[..., dict[str, Any]], seeded: Seeded, headers: dict[str, str]
) -> None:
    response = mint({"service_account_id": seeded.service_account_id}, secret=None, headers=headers)
    assert response["statusCode"] == 401
    assert (header(response, "WWW-Authenticate") or "").startswith("Bearer")
    # Same body whatever was wrong: no hint which part failed.
    assert decode_body(response) == {
        "error": "unauthorized",
        "error_description": "The credentials were not recognized.",
    }


def test_client_id_is_not_an_api_key(mint: Callable[..., dict[str, Any]], seeded: Seeded) -> None:
    response = mint({"service_account_id": seeded.service_account_id}, secret=seeded.client_id)
    assert response["statusCode"] == 401


def test_authentication_comes_before_validation(mint: Callable[..., dict[str, Any]]) -> None:
    assert mint(raw_body="{not json", secret="wrong")["statusCode"] == 401
    assert mint({}, secret="wrong")["statusCode"] == 401


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({}, "errors.required"),
        ({"service_account_id": None}, "errors.required"),
        ({"service_account_id": ""}, "errors.required"),
        ({"service_account_id": "ser_123"}, "errors.invalid"),
        ({"service_account_id": 42}, "errors.invalid"),
        ({"service_account_id": ["ser_000000000000000000000000"]}, "errors.invalid"),
        ({"service_account_id": "ser_000000000000000000000000"}, "errors.invalid"),
        ({"service_account_id": "acc_000000000000000000000000"}, "errors.invalid"),
    ],
    ids=["missing", "null", "empty", "short", "number", "list", "unknown", "wrong-prefix"],
)
def test_bad_service_account_id_is_422_in_cronofy_format(
    mint: Callable[..., dict[str, Any]], body: Any, key: str
) -> None:
    response = mint(body)
    assert response["statusCode"] == 422
    errors = decode_body(response)["errors"]
    assert list(errors) == ["service_account_id"]
    assert errors["service_account_id"][0]["key"] == key
    assert errors["service_account_id"][0]["description"]


def test_another_clients_service_account_gets_the_same_answer_as_an_unknown_one(
    mint: Callable[..., dict[str, Any]], seeded: Seeded
) -> None:
    other = mint({"service_account_id": seeded.other_service_account_id})
    unknown = mint({"service_account_id": "ser_000000000000000000000000"})
    assert other["statusCode"] == unknown["statusCode"] == 422
    assert decode_body(other) == decode_body(unknown)


def test_no_link_token_is_written_for_a_refused_request(
    mint: Callable[..., dict[str, Any]], seeded: Seeded, aws: dict[str, str]
) -> None:
    mint({"service_account_id": seeded.other_service_account_id})
    assert not [i for i in table_items(aws) if i["pk"].startswith("OULINKTOKEN#")]


@pytest.mark.parametrize(
    ("raw_body", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        ('{"service_account_id": ', "application/json", 400),
        ("service_account_id=ser_x", "application/x-www-form-urlencoded", 415),
        ("hello", "text/plain", 415),
        ('"a string"', "application/json", 422),
        ("[]", "application/json", 422),
        ("x" * (70 * 1024), "application/json", 413),
    ],
    ids=["broken", "truncated", "form", "text", "json-string", "json-array", "too-large"],
)
def test_malformed_bodies_get_a_clear_4xx(
    mint: Callable[..., dict[str, Any]], raw_body: str, content_type: str, status: int
) -> None:
    response = mint(raw_body=raw_body, headers={"Content-Type": content_type})
    assert response["statusCode"] == status
    assert "errors" in decode_body(response)


def test_unknown_route_and_method_are_json_errors(handlers: dict[str, Handler], seeded: Seeded) -> None:
    response = handlers["LinkTokensFunction"](api_event("GET", PATH), FakeContext())
    assert response["statusCode"] in (404, 405)
    assert "error" in decode_body(response)


def test_dynamodb_outage_is_503_with_retry_after(
    mint: Callable[..., dict[str, Any]], seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    store = runtime.get_store()

    def throttled(**_: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
            "TransactWriteItems",
        )

    monkeypatch.setattr(store._db, "transact_write_items", throttled)
    response = mint({"service_account_id": seeded.service_account_id})
    assert response["statusCode"] == 503
    assert header(response, "Retry-After") == "1"


def test_unexpected_errors_are_500_without_a_stack_trace(
    mint: Callable[..., dict[str, Any]], seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = runtime.get_store()

    def broken(**_: Any) -> Any:
        raise RuntimeError("boom at /secret/path.py line 3")

    monkeypatch.setattr(store._db, "transact_write_items", broken)
    response = mint({"service_account_id": seeded.service_account_id})
    assert response["statusCode"] == 500
    body = decode_body(response)
    assert body["error"] == "internal_error"
    assert "boom" not in response["body"]
    assert "Traceback" not in response["body"]


def test_a_warm_request_makes_at_most_two_dynamodb_calls(
    mint: Callable[..., dict[str, Any]], seeded: Seeded
) -> None:
    from devstack.instrument import count_aws_calls

    mint({"service_account_id": seeded.service_account_id})  # cold: reads the pepper once
    with count_aws_calls() as calls:
        assert mint({"service_account_id": seeded.service_account_id})["statusCode"] == 200
    assert calls == {"dynamodb:GetItem": 1, "dynamodb:TransactWriteItems": 1}


def test_l3_no_secret_in_any_log_line(
    mint: Callable[..., dict[str, Any]],
    seeded: Seeded,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """anchors L3: link tokens and client secrets never reach the logs, even at DEBUG."""
    from orgconnect.web.api import logger

    previous = logger.log_level
    logger.setLevel("DEBUG")
    caplog.set_level("DEBUG")
    try:
        _mint_and_fail(mint, seeded, capsys, caplog)
    finally:
        logger.setLevel(previous)


def _mint_and_fail(
    mint: Callable[..., dict[str, Any]],
    seeded: Seeded,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = decode_body(mint({"service_account_id": seeded.service_account_id}))[
        "organizational_unit_authorization_link_token"
    ]["ou_link_token"]
    mint({"service_account_id": seeded.service_account_id}, secret=seeded.client_secret + "x")
    mint(raw_body="{bad", headers={"Content-Type": "application/json"})
    logs = capsys.readouterr().out + capsys.readouterr().err + caplog.text
    assert "link token minted" in logs  # the logger is really capturing
    for secret in (token, seeded.client_secret, seeded.client_secret + "x"):
        assert secret not in logs
