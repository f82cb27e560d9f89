"""The webhook function's handler on moto: the secret token's configuration, bodies API Gateway
base64-encodes, signed bodies that are not events, and no secret in the log."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from devstack.apigw import load_handler
from devstack.simulators.zoom_webhooks import envelope, signed_request
from devstack.template import Resolver, functions, load_template
from orgconnect import runtime
from tests.conftest import FakeContext, api_event, decode_body

SECRET = "zoom-webhook-secret-token-for-tests"
RESOURCE = "/webhooks/{provider}"
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@pytest.fixture
def configure_apps(
    aws_resolver: Resolver, monkeypatch: pytest.MonkeyPatch
) -> Callable[[dict[str, Any]], None]:
    """Put the provider-apps secret as an operator would, and point the function at it."""
    secret_id = aws_resolver.refs["ProviderAppsSecret"]
    monkeypatch.setenv("ORGCONNECT_PROVIDER_APPS_SECRET_ID", secret_id)

    def configure(apps: dict[str, Any]) -> None:
        boto3.client("secretsmanager").put_secret_value(SecretId=secret_id, SecretString=json.dumps(apps))
        runtime.reset()

    return configure


@pytest.fixture
def handler(aws: dict[str, str]) -> Handler:
    (spec,) = [s for s in functions(load_template()) if s.logical_id == "ProviderWebhooksFunction"]
    return load_handler(spec)


def call(
    handler: Handler, provider: str, body: bytes, headers: dict[str, str], *, base64_body: bool = False
) -> Any:
    event = api_event(
        "POST",
        f"/webhooks/{provider}",
        headers=headers,
        resource=RESOURCE,
        raw_body=base64.b64encode(body).decode() if base64_body else body.decode(),
    )
    event["pathParameters"] = {"provider": provider}
    event["isBase64Encoded"] = base64_body
    return handler(event, FakeContext())


def challenge(plain: str = "plain-token-1") -> tuple[bytes, dict[str, str]]:
    now = time.time()
    return signed_request(SECRET, envelope("endpoint.url_validation", {"plainToken": plain}, now), now)


@pytest.mark.parametrize(
    "apps",
    [
        {},
        {"zoom": {"client_id": "zc", "client_secret": "zs"}},
        {"zoom": {"client_id": "zc", "client_secret": "zs", "webhook_secret_token": ""}},
    ],
    ids=["no-zoom-app", "no-token", "empty-token"],
)
def test_without_a_secret_token_every_delivery_is_refused_and_the_log_says_why(
    handler: Handler,
    configure_apps: Callable[[dict[str, Any]], None],
    service_logs: list[str],
    apps: dict[str, Any],
) -> None:
    configure_apps(apps)
    body, headers = challenge()
    # Even one signed with the secret Zoom has: we cannot check it, so it is not accepted.
    response = call(handler, "zoom", body, headers)
    assert response["statusCode"] == 401
    assert any("no webhook secret token is configured" in line for line in service_logs)


def test_a_configured_token_answers_the_challenge_even_base64_encoded(
    handler: Handler, configure_apps: Callable[[dict[str, Any]], None], service_logs: list[str]
) -> None:
    configure_apps({"zoom": {"client_id": "zc", "client_secret": "zs", "webhook_secret_token": SECRET}})
    body, headers = challenge("plain-token-2")
    for encoded in (False, True):
        response = call(handler, "zoom", body, headers, base64_body=encoded)
        assert response["statusCode"] == 200
        answer = decode_body(response)
        assert answer["plainToken"] == "plain-token-2"
        assert len(answer["encryptedToken"]) == 64
    for secret in (SECRET, headers["x-zm-signature"], "plain-token-2", answer["encryptedToken"]):
        assert not any(secret in line for line in service_logs)


@pytest.mark.parametrize("body", [b"not json", b"[1]", b'{"event":"app_deauthorized","payload":{}}'])
def test_a_signed_body_that_is_not_a_usable_event_is_400(
    handler: Handler, configure_apps: Callable[[dict[str, Any]], None], body: bytes
) -> None:
    configure_apps({"zoom": {"client_id": "zc", "client_secret": "zs", "webhook_secret_token": SECRET}})
    from orgconnect.domain.webhooks import zoom_signature

    timestamp = str(int(time.time()))
    headers = {"x-zm-request-timestamp": timestamp, "x-zm-signature": zoom_signature(SECRET, timestamp, body)}
    response = call(handler, "zoom", body, headers)
    assert response["statusCode"] == 400
    assert "errors" in decode_body(response)


def test_an_unsigned_body_is_refused_before_it_is_read(
    handler: Handler, configure_apps: Callable[[dict[str, Any]], None]
) -> None:
    configure_apps({"zoom": {"client_id": "zc", "client_secret": "zs", "webhook_secret_token": SECRET}})
    response = call(handler, "zoom", b"not json", {})
    assert response["statusCode"] == 401  # not 400: an unauthenticated caller learns nothing


def test_a_provider_without_webhooks_is_404_without_reading_any_secret(
    handler: Handler, configure_apps: Callable[[dict[str, Any]], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_apps({"zoom": {"client_id": "zc", "client_secret": "zs", "webhook_secret_token": SECRET}})

    def no_secret_read(*_: object, **__: object) -> None:
        raise AssertionError("the provider apps were read")

    monkeypatch.setattr("orgconnect.store.vault.load_provider_apps", no_secret_read)
    body, headers = challenge()
    for provider in ("webex", "indeed", "Zoom", "zoom_enterprise"):
        response = call(handler, provider, body, headers)
        assert response["statusCode"] == 404
        assert decode_body(response)["error"] == "not_found"
