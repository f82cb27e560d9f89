"""The ``malformed`` fault: 200 with a body that is not the JSON the client expects."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from devstack.simulators.faults import MALFORMED_HTML
from tests.simulators._microsoft_harness import CALLBACK as MS_CALLBACK
from tests.simulators._microsoft_harness import Ms
from tests.simulators._provider_fixtures import bearer, pkce_pair, redirect_params
from tests.simulators.conftest import ZoomHarness


@pytest.fixture
def ms() -> Iterator[Ms]:
    harness = Ms()
    yield harness
    harness.http.close()


def _arm(http: httpx.Client, **fault: object) -> dict[str, object]:
    response = http.post("/_sim/faults", json={"kind": "malformed", **fault})
    assert response.status_code == 201, response.text
    return dict(response.json()["fault"])


def _not_json(response: httpx.Response) -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_zoom_token_endpoint_answers_an_html_page_once_and_the_code_survives(zoom: ZoomHarness) -> None:
    verifier, challenge = pkce_pair()
    code = zoom.code_for(code_challenge=challenge, code_challenge_method="S256")
    _arm(zoom.http, target="token")
    faulted = zoom.exchange(code, verifier=verifier)
    assert faulted.status_code == 200
    assert faulted.headers["Content-Type"] == "text/html; charset=utf-8"
    assert faulted.text == MALFORMED_HTML
    _not_json(faulted)
    # The fault answered instead of the handler: the code was not spent and now redeems.
    real = zoom.exchange(code, verifier=verifier)
    assert real.status_code == 200
    assert real.json()["token_type"] == "bearer"
    token_calls = [e for e in zoom.sim.requests() if e["path"] == "/oauth/token"]
    assert [e["fault"] for e in token_calls] == ["malformed", None]


def test_zoom_user_read_gets_the_chosen_body_for_the_next_n_calls(zoom: ZoomHarness) -> None:
    token = zoom.user_tokens()["access_token"]
    fault = _arm(
        zoom.http,
        target="api",
        path_prefix="/v2/users/me",
        count=2,
        body='{"id": 5, "email": null}',
        content_type="application/json",
    )
    assert (fault["body"], fault["content_type"], fault["remaining"]) == (
        '{"id": 5, "email": null}',
        "application/json",
        2,
    )
    for _ in range(2):
        wrong = zoom.api("GET", "/users/me", token)
        assert wrong.status_code == 200
        assert wrong.headers["Content-Type"] == "application/json"
        assert wrong.json() == {"id": 5, "email": None}
    real = zoom.api("GET", "/users/me", token)
    assert real.status_code == 200
    assert isinstance(real.json()["email"], str)
    assert zoom.http.get("/_sim/faults").json() == {"faults": []}


def test_zoom_empty_body_defaults_to_a_json_content_type(zoom: ZoomHarness) -> None:
    _arm(zoom.http, target="token", body="")
    response = zoom.exchange("any-code")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["Content-Type"] == "application/json"


def test_microsoft_token_endpoint_and_me_read(ms: Ms) -> None:
    verifier, challenge = pkce_pair()
    code = redirect_params(ms.authorize(code_challenge=challenge, code_challenge_method="S256"))["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": MS_CALLBACK,
        "code_verifier": verifier,
    }
    _arm(ms.http, target="token", body='{"access_token": 5}', content_type="application/json")
    wrong_types = ms.token(data)
    assert wrong_types.status_code == 200
    assert wrong_types.json() == {"access_token": 5}
    token = ms.token(data).json()["access_token"]
    assert isinstance(token, str)
    _arm(ms.http, target="api")
    me = ms.http.get("/v1.0/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.headers["Content-Type"].startswith("text/html")
    _not_json(me)
    assert ms.http.get("/v1.0/me", headers=bearer(token)).json()["userPrincipalName"]


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ({"kind": "500", "body": "x"}, "malformed kind only"),
        ({"kind": "malformed", "body": 5}, "body must be a string"),
        ({"kind": "malformed", "content_type": " "}, "content_type must not be empty"),
    ],
)
def test_malformed_options_are_checked(zoom: ZoomHarness, fault: dict[str, object], message: str) -> None:
    response = zoom.http.post("/_sim/faults", json={"target": "token", **fault})
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert zoom.http.get("/_sim/faults").json() == {"faults": []}
