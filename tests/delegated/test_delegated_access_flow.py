"""Delegated access end to end on the in-process dev stack with the real SQS event source: the
request is queued, the worker finds the email, the callback carries a code that redeems for an
account token whose userinfo shows the calendar profile."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from tests.delegated.conftest import CALLBACK_ATTEMPTS, CallbackReceiver
from tests.flow.harness import Browser, FlowStack, wait_for


def request_access(flow: FlowStack, body: dict[str, Any], token: str | None = None) -> httpx.Response:
    return flow.api.post(
        f"{flow.info['api_url']}/v1/service_account_authorizations",
        headers={"Authorization": f"Bearer {token or flow.info['service_account_token']}"},
        json=body,
    )


def one(receiver: CallbackReceiver, email: str, **extra: Any) -> tuple[str, dict[str, Any]]:
    path = f"/cb/{secrets.token_hex(6)}"
    return path, {"email": email, "scope": "read_only", "callback_url": receiver.url(path), **extra}


def wait_callbacks(receiver: CallbackReceiver, path: str, count: int = 1) -> list[dict[str, Any]]:
    wait_for(lambda: len(receiver.received.get(path, [])) >= count, timeout=20)
    return receiver.received[path]


def redeem(flow: FlowStack, code: str, redirect_uri: str) -> httpx.Response:
    return flow.api.post(
        f"{flow.info['api_url']}/oauth/token",
        json={
            "client_id": flow.info["client_id"],
            "client_secret": flow.info["client_secret"],
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
        },
    )


def test_a_demo_user_gets_a_code_that_redeems_for_an_account_token(
    delegated_stack: FlowStack, receiver: CallbackReceiver
) -> None:
    flow = delegated_stack
    email = flow.info["demo"]["zoom_active"][1]
    path, body = one(receiver, email.upper(), state="st-1")
    response = request_access(flow, body)
    assert response.status_code == 202, response.text
    assert response.content == b""
    (callback,) = wait_callbacks(receiver, path)
    assert set(callback["authorization"]) == {"code", "state"}
    assert callback["authorization"]["state"] == "st-1"
    token = redeem(flow, callback["authorization"]["code"], receiver.url(path))
    assert token.status_code == 200, token.text
    answer = token.json()
    assert answer["expires_in"] == 3600
    assert answer["account_id"] == answer["sub"] and answer["sub"].startswith("acc_")
    assert answer["scope"] == "read_only"
    profile = answer["linking_profile"]
    assert profile["provider_name"] == "google_workspace"
    assert profile["profile_id"].startswith("pro_") and profile["profile_name"] == email
    info = flow.api.get(
        f"{flow.info['api_url']}/v1/userinfo", headers={"Authorization": f"Bearer {answer['access_token']}"}
    )
    assert info.status_code == 200, info.text
    data = info.json()
    assert data["sub"] == answer["sub"] and data["cronofy.type"] == "account" and data["email"] == email
    assert data["cronofy.data"]["authorization"] == {"scope": "read_only", "status": "active"}
    (shown,) = data["cronofy.data"]["profiles"]
    assert shown["profile_id"] == profile["profile_id"] and shown["profile_connected"] is True
    assert data["cronofy.data"]["conferencing_profiles"] == []
    # The account token's refresh rotates like the other grants'.
    refreshed = flow.api.post(
        f"{flow.info['api_url']}/oauth/token",
        json={
            "client_id": flow.info["client_id"],
            "client_secret": flow.info["client_secret"],
            "grant_type": "refresh_token",
            "refresh_token": answer["refresh_token"],
        },
    )
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["linking_profile"] == profile


def test_a_redelivered_request_reuses_the_account(
    delegated_stack: FlowStack, receiver: CallbackReceiver
) -> None:
    flow = delegated_stack
    email = flow.info["demo"]["zoom_active"][2]
    subs = []
    for _ in range(2):
        path, body = one(receiver, email)
        assert request_access(flow, body).status_code == 202
        (callback,) = wait_callbacks(receiver, path)
        subs.append(redeem(flow, callback["authorization"]["code"], receiver.url(path)).json()["sub"])
    assert subs[0] == subs[1]
    accounts = [a for a in flow.table_items("ACCOUNT#") if a["email"] == email]
    assert len(accounts) == 1


def test_an_unknown_email_gets_an_error_callback(
    delegated_stack: FlowStack, receiver: CallbackReceiver
) -> None:
    path, body = one(receiver, "nobody.here@example.com", state="s")
    assert request_access(delegated_stack, body).status_code == 202
    (callback,) = wait_callbacks(receiver, path)
    assert callback["authorization"]["error"] == "not_found"
    assert callback["authorization"]["error_key"] == "account_not_found"
    assert callback["authorization"]["state"] == "s"
    assert callback["authorization"]["error_description"]
    assert "code" not in callback["authorization"]


def test_a_batch_gets_one_callback_per_email(delegated_stack: FlowStack, receiver: CallbackReceiver) -> None:
    emails = delegated_stack.info["demo"]["zoom_active"][3:15]
    entries = [one(receiver, e, state=e) for e in emails]
    response = request_access(delegated_stack, {"service_account_authorizations": [b for _, b in entries]})
    assert response.status_code == 202, response.text
    for path, body in entries:
        (callback,) = wait_callbacks(receiver, path)
        assert callback["authorization"]["state"] == body["email"] and "code" in callback["authorization"]


def test_a_callback_failing_once_is_retried_and_delivered_once(
    delegated_stack: FlowStack, receiver: CallbackReceiver
) -> None:
    path, body = one(receiver, delegated_stack.info["demo"]["zoom_active"][16])
    receiver.fail[path] = 1
    assert request_access(delegated_stack, body).status_code == 202
    (callback,) = wait_callbacks(receiver, path)
    assert "code" in callback["authorization"]
    assert receiver.attempts[path] == 2


def test_a_callback_that_keeps_failing_is_dead_lettered(
    delegated_stack: FlowStack, receiver: CallbackReceiver
) -> None:
    flow = delegated_stack
    path, body = one(receiver, flow.info["demo"]["zoom_active"][17])
    receiver.fail[path] = 10_000
    sqs = flow.aws("sqs")
    dlq = flow.info["queues"]["DelegatedAccessDeadLetterQueue"]
    assert request_access(flow, body).status_code == 202
    max_receives = 5  # template.yaml: maxReceiveCount

    def dead_lettered() -> list[dict[str, Any]]:
        got = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
            "Messages", []
        )
        return [m for m in got if path in m["Body"]]

    wait_for(lambda: bool(dead_lettered()), timeout=30)
    # Every receive tried the callback CALLBACK_ATTEMPTS times; then SQS moved the message.
    assert receiver.attempts[path] == CALLBACK_ATTEMPTS * max_receives
    assert path not in receiver.received
    (message,) = dead_lettered()
    assert "token" not in message["Body"] and "secret" not in message["Body"]
    # Five deliveries of one message made one account.
    assert len([a for a in flow.table_items("ACCOUNT#") if a["email"] == body["email"]]) == 1


def test_an_email_of_a_second_tenant_linked_to_the_ou_is_found_through_it(
    delegated_stack: FlowStack, receiver: CallbackReceiver
) -> None:
    flow = delegated_stack
    demo = flow.demo_client()
    # Seed 002: the administrator links the Microsoft 365 tenant to the service account's OU.
    browser = Browser(flow)
    start = browser.get(flow.authorize_url(demo, provider=None, capability="calendars"))
    google = flow.info["simulators"]["google"]["base_url"]
    microsoft = flow.info["simulators"]["microsoft"]["base_url"]
    admin = flow.simulator("microsoft")
    ms_admin = next(u.user_principal_name for u in admin.users.values() if admin.is_global_admin(u))
    outcome = browser.drive(
        browser.get(start.headers["location"]),
        choose="microsoft_365",
        sign_in_as={google: flow.simulator("google").admin.primary_email, microsoft: ms_admin},
    )
    assert outcome.kind == "code", outcome.text
    # The tenant's admin credentials are kept, in a secret named on its link.
    (link,) = [
        i
        for i in flow.table_items("PROVIDERACCOUNT#")
        if i["client_id"] == demo.client_id and i["provider_name"] == "microsoft_365"
    ]
    assert "/service-accounts/" in link["secret_arn"]
    ou_token = redeem(flow, outcome.params["code"], demo.redirect_uri).json()["access_token"]
    refused = request_access(flow, {"email": "a@example.com", "scope": "read_only"}, token=ou_token)
    assert refused.status_code == 403 and refused.json()["error"] == "insufficient_scope"
    email = flow.info["demo"]["other_tenant"][2]
    path, body = one(receiver, email)
    assert request_access(flow, body).status_code == 202
    (callback,) = wait_callbacks(receiver, path)
    assert "code" in callback["authorization"], callback
    answer = redeem(flow, callback["authorization"]["code"], receiver.url(path)).json()
    assert answer["linking_profile"]["provider_name"] == "microsoft_365"
    assert answer["linking_profile"]["profile_name"] == email
