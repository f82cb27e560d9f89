"""The local API Gateway: events in API Gateway's REST proxy format, routing, throttling."""

from __future__ import annotations

import base64
import json

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from devstack.apigw import TokenBucket, _rule_path, build_event, to_response


def _request(**kwargs: object) -> Request:
    return Request(EnvironBuilder(**kwargs).get_environ())  # type: ignore[arg-type]


def test_event_has_rest_proxy_shape_with_multi_values() -> None:
    request = _request(
        method="POST",
        path="/oauth/callback/zoom",
        query_string="capabilities[]=calendars&capabilities[]=conferencing&state=s",
        headers=[("X-Thing", "a"), ("X-Thing", "b"), ("Content-Type", "application/json")],
        data=json.dumps({"a": 1}),
    )
    event = build_event(request, "/oauth/callback/{provider}", {"provider": "zoom"})
    assert event["resource"] == "/oauth/callback/{provider}"
    assert event["path"] == "/oauth/callback/zoom"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"provider": "zoom"}
    assert event["multiValueQueryStringParameters"]["capabilities[]"] == ["calendars", "conferencing"]
    assert event["queryStringParameters"]["capabilities[]"] == "conferencing"
    # WSGI folds repeated request headers into one line before we see them (docs/devstack.md).
    assert event["multiValueHeaders"]["X-Thing"] == ["a, b"]
    assert event["headers"]["X-Thing"] == "a, b"
    assert event["multiValueHeaders"]["Content-Type"] == ["application/json"]
    assert json.loads(event["body"]) == {"a": 1}
    assert event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["stage"] == "live" and ctx["requestId"] and ctx["identity"]["sourceIp"]
    assert ctx["resourcePath"] == "/oauth/callback/{provider}"


def test_empty_query_and_body_are_null_like_api_gateway() -> None:
    event = build_event(_request(method="GET", path="/x"), "/x", {})
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["body"] is None


def test_binary_body_is_base64() -> None:
    raw = bytes(range(256))
    event = build_event(
        _request(method="POST", path="/x", data=raw, headers=[("Content-Type", "application/octet-stream")]),
        "/x",
        {},
    )
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw


@pytest.mark.parametrize(
    ("resource", "rule"),
    [
        ("/a/b", "/a/b"),
        ("/oauth/callback/{provider}", "/oauth/callback/<provider>"),
        ("/files/{proxy+}", "/files/<path:proxy>"),
    ],
)
def test_rule_paths(resource: str, rule: str) -> None:
    assert _rule_path(resource) == rule


def test_response_mapping_keeps_multi_value_headers() -> None:
    response = to_response(
        {
            "statusCode": 302,
            "headers": {"Location": "https://x"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": "",
            "isBase64Encoded": False,
        }
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "https://x"
    assert response.headers.getlist("Set-Cookie") == ["a=1", "b=2"]


def test_malformed_function_result_is_502() -> None:
    assert to_response({"nope": 1}).status_code == 502
    assert to_response(None).status_code == 502


def test_token_bucket_allows_burst_then_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2, burst=3, clock=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now[0] += 0.5  # one token back at 2/s
    assert [bucket.take(), bucket.take()] == [True, False]
