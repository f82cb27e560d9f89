"""POST /v1/service_account_authorizations refusals on the dev stack: 401, 403 for other kinds of
token, and 422 in the errors format (nothing queued)."""

from __future__ import annotations

import pytest

from tests.delegated.conftest import CallbackReceiver
from tests.delegated.test_delegated_access_flow import one, request_access, wait_callbacks
from tests.flow.harness import FlowStack

GOOD = {"email": "ada@example.com", "scope": "read_only", "callback_url": "https://app.example/cb"}


@pytest.mark.parametrize(
    ("body", "field", "key"),
    [
        ({**GOOD, "email": "not an email"}, "email", "errors.invalid"),
        ({**GOOD, "email": ""}, "email", "errors.required"),
        ({k: v for k, v in GOOD.items() if k != "scope"}, "scope", "errors.required"),
        ({**GOOD, "scope": "read_write delete_calendar"}, "scope", "errors.invalid"),
        ({**GOOD, "callback_url": "http://app.example/cb"}, "callback_url", "errors.invalid"),
        ({**GOOD, "callback_url": "https://app.example/cb#x"}, "callback_url", "errors.invalid"),
        (
            {**GOOD, "service_account_authorizations": [GOOD]},
            "service_account_authorizations",
            "errors.invalid",
        ),
        ({"service_account_authorizations": []}, "service_account_authorizations", "errors.invalid"),
        ({"service_account_authorizations": [GOOD] * 51}, "service_account_authorizations", "errors.invalid"),
        (
            {"service_account_authorizations": [GOOD, {**GOOD, "email": "x"}]},
            "service_account_authorizations[1].email",
            "errors.invalid",
        ),
    ],
)
def test_invalid_requests_are_422_in_the_errors_format(
    delegated_stack: FlowStack, body: dict[str, object], field: str, key: str
) -> None:
    response = request_access(delegated_stack, body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][field][0]["key"] == key


def test_the_service_account_delegated_scope_bounds_the_scope(
    delegated_stack: FlowStack, receiver: CallbackReceiver
) -> None:
    # The demo service account was authorized with delegated_scope=read_write.
    for scope in ("read_write", "free_busy create_event"):
        path, body = one(receiver, "nobody@example.com", scope=scope)
        assert request_access(delegated_stack, body).status_code == 202
        wait_callbacks(receiver, path)


def test_bad_tokens_are_401(delegated_stack: FlowStack) -> None:
    response = request_access(delegated_stack, GOOD, token="not-a-token")
    assert response.status_code == 401
    assert "invalid_token" in response.headers["WWW-Authenticate"]
    missing = delegated_stack.api.post(
        f"{delegated_stack.info['api_url']}/v1/service_account_authorizations", json=GOOD
    )
    assert missing.status_code == 401


def test_an_account_token_is_403_insufficient_scope(
    delegated_stack: FlowStack, receiver: CallbackReceiver
) -> None:
    from tests.delegated.test_delegated_access_flow import redeem

    path, body = one(receiver, delegated_stack.info["demo"]["zoom_active"][20])
    assert request_access(delegated_stack, body).status_code == 202
    (callback,) = wait_callbacks(receiver, path)
    token = redeem(delegated_stack, callback["authorization"]["code"], receiver.url(path)).json()[
        "access_token"
    ]
    response = request_access(delegated_stack, GOOD, token=token)
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


def test_a_code_redeems_only_with_the_callback_url(
    delegated_stack: FlowStack, receiver: CallbackReceiver
) -> None:
    from tests.delegated.test_delegated_access_flow import redeem

    path, body = one(receiver, delegated_stack.info["demo"]["zoom_active"][21])
    assert request_access(delegated_stack, body).status_code == 202
    (callback,) = wait_callbacks(receiver, path)
    refused = redeem(delegated_stack, callback["authorization"]["code"], delegated_stack.info["redirect_uri"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_pycronofy_requests_delegated_access(delegated_stack: FlowStack, receiver: CallbackReceiver) -> None:
    import pycronofy

    client = pycronofy.Client(access_token=delegated_stack.info["service_account_token"])
    client.request_handler.base_url = delegated_stack.info["api_url"]
    path, body = one(receiver, delegated_stack.info["demo"]["zoom_active"][22])
    client.authorize_with_service_account(body["email"], "read_only", body["callback_url"], state="py")
    (callback,) = wait_callbacks(receiver, path)
    assert callback["authorization"]["state"] == "py" and "code" in callback["authorization"]
