"""The central error answers: an unexpected failure gives the caller API Gateway's request id, as
JSON at the API and on the HTML page of the browser functions (issue 7, 1j)."""

from __future__ import annotations

import base64
from typing import Any

from orgconnect.web.api import create_api, create_html_app
from tests.conftest import FakeContext, api_event, decode_body, header


def _body(response: dict[str, Any]) -> str:
    body = response.get("body") or ""
    return base64.b64decode(body).decode() if response.get("isBase64Encoded") else str(body)


def _failing(app: Any) -> Any:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("storage exploded")

    return app


def test_an_api_500_carries_the_request_id_and_no_detail() -> None:
    event = api_event("GET", "/boom")
    response = _failing(create_api()).resolve(event, FakeContext())
    assert response["statusCode"] == 500
    body = decode_body(response)
    assert body["error"] == "internal_error"
    assert body["request_id"] == event["requestContext"]["requestId"]
    assert "exploded" not in _body(response)


def test_the_html_500_page_shows_the_request_id() -> None:
    event = api_event("GET", "/boom")
    response = _failing(create_html_app()).resolve(event, FakeContext())
    assert response["statusCode"] == 500
    assert (header(response, "Content-Type") or "").startswith("text/html")
    page = _body(response)
    assert event["requestContext"]["requestId"] in page
    assert "exploded" not in page and "Traceback" not in page
