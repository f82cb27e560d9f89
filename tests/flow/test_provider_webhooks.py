"""Zoom webhooks end to end on the in-process dev stack: the Zoom simulator signs and delivers its
events (its own signing code, the secret `make dev` configures) to ``POST /webhooks/zoom``."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from devstack.simulators.zoom_webhooks import envelope, signed_request
from tests.flow.harness import Browser, Client, FlowStack
from tests.flow.test_happy_path import redeem


@pytest.fixture(scope="module", autouse=True)
def _only_this_modules_links(flow: FlowStack) -> None:
    """Every flow test links the simulator's one paid Zoom account, and a deauthorization revokes
    every link to it: revoke the earlier tests' connections first (in process), so that each
    delivery here handles only this module's few within the simulator's 3-second timeout."""
    from orgconnect import runtime
    from orgconnect.domain.webhooks_deauthorization import deauthorize_account

    deauthorize_account(
        provider_names=["zoom_enterprise"],
        account_id=flow.info["simulators"]["zoom"]["account_id"],
        event_time=runtime.now(),
        connections=runtime.get_account_connections(),
        vault=runtime.get_connection_vault(),
        now=runtime.now(),
    )


@dataclass
class LinkedZoom:
    """An OU of a fresh client linked to the simulator's paid Zoom account."""

    access_token: str
    ou_id: str
    connection: dict[str, Any]
    client: Client


def link_zoom(flow: FlowStack, client: Client | None = None) -> LinkedZoom:
    client = client or flow.new_client()
    outcome = Browser(flow).run(flow.authorize_url(client))
    assert outcome.kind == "code", outcome.text
    tokens = redeem(flow, client, outcome.params["code"])
    (connection,) = [
        c
        for c in flow.table_items("CONNECTION#")
        if c["ou_id"] == tokens["sub"] and c["status"] == "connected"
    ]
    return LinkedZoom(str(tokens["access_token"]), str(tokens["sub"]), connection, client)


def statuses(flow: FlowStack, linked: LinkedZoom) -> tuple[list[str], list[str]]:
    """The connection statuses in userinfo and in GET /v1/organizational_unit."""
    auth = {"Authorization": f"Bearer {linked.access_token}"}
    info = flow.api.get(f"{flow.info['api_url']}/v1/userinfo", headers=auth)
    ou = flow.api.get(f"{flow.info['api_url']}/v1/organizational_unit", headers=auth)
    assert info.status_code == ou.status_code == 200
    return (
        [c["status"] for c in info.json()["cronofy.data"]["conferencing_connections"]],
        [c["status"] for c in ou.json()["conferencing_connections"]],
    )


def secret_exists(flow: FlowStack, secret_arn: str) -> bool:
    secrets_manager = flow.aws("secretsmanager")
    try:
        secrets_manager.get_secret_value(SecretId=secret_arn)
    except secrets_manager.exceptions.ResourceNotFoundException:
        return False
    return True


def item(flow: FlowStack, prefix: str, **match: str) -> dict[str, Any]:
    (found,) = [i for i in flow.table_items(prefix) if all(i.get(k) == v for k, v in match.items())]
    return found


def deliver(flow: FlowStack, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return flow.api.post(f"{flow.info['api_url']}/webhooks/zoom", content=body, headers=headers)


def zoom_secret(flow: FlowStack) -> str:
    return str(flow.info["simulators"]["zoom"]["webhook_secret_token"])


def deauthorization(flow: FlowStack, account_id: str, *, now: float | None = None) -> dict[str, Any]:
    moment = time.time() if now is None else now
    payload = {"account_id": account_id, "user_id": "u1", "client_id": "c1", "user_data_retention": "false"}
    return envelope("app_deauthorized", payload, moment)


def test_zoom_deauthorization_revokes_the_connection_and_deletes_its_secret(flow: FlowStack) -> None:
    linked = link_zoom(flow)
    secret_arn = linked.connection["secret_arn"]
    assert statuses(flow, linked) == (["connected"], ["connected"])
    assert secret_exists(flow, secret_arn)

    # The Zoom admin uninstalls the app: the simulator revokes its tokens and sends the event.
    result = flow.simulator("zoom").send_webhook_event({"event": "app_deauthorized"})
    assert result["status"] == 200, result

    assert statuses(flow, linked) == (["revoked"], ["revoked"])
    assert not secret_exists(flow, secret_arn)
    connection = item(flow, "CONNECTION#", connection_id=linked.connection["connection_id"])
    link = item(flow, "PROVIDERACCOUNT#", connection_id=linked.connection["connection_id"])
    assert connection["status"] == "revoked"
    assert "secret_arn" not in connection and "secret_arn" not in link

    # The same event again (Zoom retries, or the admin's second click): harmless, still 200.
    again = flow.simulator("zoom").send_webhook_event({"event": "app_deauthorized"})
    assert again["status"] == 200, again
    assert statuses(flow, linked) == (["revoked"], ["revoked"])


def test_linking_the_account_again_after_a_deauthorization_restores_the_same_connection(
    flow: FlowStack,
) -> None:
    first = link_zoom(flow)
    assert flow.simulator("zoom").send_webhook_event({"event": "app_deauthorized"})["status"] == 200
    assert not secret_exists(flow, first.connection["secret_arn"])

    again = link_zoom(flow, first.client)

    assert again.ou_id == first.ou_id
    # The same connection (so its profiles reconnect without a new match), with a new secret.
    assert again.connection["connection_id"] == first.connection["connection_id"]
    assert secret_exists(flow, again.connection["secret_arn"])
    assert statuses(flow, again) == (["connected"], ["connected"])
    link = item(flow, "PROVIDERACCOUNT#", connection_id=first.connection["connection_id"])
    assert link["secret_arn"] == again.connection["secret_arn"]


def test_a_replayed_delivery_is_answered_200_and_changes_nothing(flow: FlowStack) -> None:
    linked = link_zoom(flow)
    body, headers = signed_request(
        zoom_secret(flow), deauthorization(flow, linked.connection["provider_account_id"]), time.time()
    )
    first, replay = deliver(flow, body, headers), deliver(flow, body, headers)
    assert (first.status_code, replay.status_code) == (200, 200)
    assert statuses(flow, linked) == (["revoked"], ["revoked"])
    assert not secret_exists(flow, linked.connection["secret_arn"])


def test_an_old_deauthorization_replayed_after_the_account_is_linked_again_leaves_it_alone(
    flow: FlowStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orgconnect import runtime

    linked = link_zoom(flow)
    account_id = linked.connection["provider_account_id"]
    event_time = time.time()
    body, headers = signed_request(
        zoom_secret(flow), deauthorization(flow, account_id, now=event_time), event_time
    )
    assert deliver(flow, body, headers).status_code == 200

    # The app is installed and the account linked again a little later (our clock moved on).
    real_now = runtime.now
    monkeypatch.setattr(runtime, "now", lambda: real_now() + 10)
    relinked = link_zoom(flow)
    assert statuses(flow, relinked) == (["connected"], ["connected"])
    # The old event, captured and replayed within the window, with a fresh signature.
    body, headers = signed_request(
        zoom_secret(flow), deauthorization(flow, account_id, now=event_time), time.time() + 10
    )
    assert deliver(flow, body, headers).status_code == 200
    assert statuses(flow, relinked) == (["connected"], ["connected"])
    assert secret_exists(flow, relinked.connection["secret_arn"])


def _tampered(secret: str, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body, headers = signed_request(secret, event, time.time())
    return body.replace(b"u1", b"u2"), headers


@pytest.mark.parametrize(
    "problem", ["wrong-secret", "tampered-body", "no-signature", "no-timestamp", "stale", "future"]
)
def test_a_delivery_that_is_not_genuine_and_fresh_is_401_and_changes_nothing(
    flow: FlowStack, problem: str
) -> None:
    linked = link_zoom(flow)
    event = deauthorization(flow, linked.connection["provider_account_id"])
    secret = zoom_secret(flow)
    if problem == "wrong-secret":
        body, headers = signed_request("not-the-secret-token", event, time.time())
    elif problem == "tampered-body":
        body, headers = _tampered(secret, event)
    elif problem in ("stale", "future"):
        # Signed correctly, but ten minutes away from our clock (the window is five).
        body, headers = signed_request(secret, event, time.time() + (-600 if problem == "stale" else 600))
    else:
        body, headers = signed_request(secret, event, time.time())
        del headers["x-zm-signature" if problem == "no-signature" else "x-zm-request-timestamp"]

    answer = deliver(flow, body, headers)

    assert answer.status_code == 401
    assert answer.json()["error"] == "unauthorized"
    assert statuses(flow, linked) == (["connected"], ["connected"])
    assert secret_exists(flow, linked.connection["secret_arn"])


def test_our_clock_moving_past_the_window_makes_a_delivery_stale(
    flow: FlowStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orgconnect import runtime

    linked = link_zoom(flow)
    body, headers = signed_request(
        zoom_secret(flow), deauthorization(flow, linked.connection["provider_account_id"]), time.time()
    )
    real_now = runtime.now
    monkeypatch.setattr(runtime, "now", lambda: real_now() + 400)
    assert deliver(flow, body, headers).status_code == 401
    monkeypatch.setattr(runtime, "now", real_now)
    assert statuses(flow, linked) == (["connected"], ["connected"])


def test_the_url_validation_challenge_is_answered(flow: FlowStack) -> None:
    result = flow.simulator("zoom").send_webhook_event({"event": "endpoint.url_validation"})
    assert result["status"] == 200
    assert result["validated"] is True


def test_an_unknown_account_is_acknowledged_and_logged(flow: FlowStack, service_logs: list[str]) -> None:
    body, headers = signed_request(zoom_secret(flow), deauthorization(flow, "NoSuchAccount42"), time.time())
    assert deliver(flow, body, headers).status_code == 200
    assert any("no connection" in line and "NoSuchAccount42" in line for line in service_logs)


def test_user_events_are_verified_applied_and_acknowledged(flow: FlowStack, service_logs: list[str]) -> None:
    sim = flow.simulator("zoom")
    email = flow.info["demo"]["zoom_active"][1]
    result = sim.send_webhook_event({"event": "user.updated", "email": email})
    assert result["status"] == 200
    assert result["response_json"] == {"received": True}
    assert any("user event applied" in line for line in service_logs)
    # Neither the body (the user's email) nor the signature reaches the log.
    assert not any(email in line for line in service_logs)


def test_other_providers_have_no_webhook_endpoint(flow: FlowStack) -> None:
    answer = flow.api.post(f"{flow.info['api_url']}/webhooks/webex", json={"event": "x"})
    assert answer.status_code == 404
    assert answer.json()["error"] == "not_found"


def test_nothing_secret_reaches_the_log(flow: FlowStack, service_logs: list[str]) -> None:
    secret = zoom_secret(flow)
    body, headers = signed_request(
        secret, envelope("endpoint.url_validation", {"plainToken": "pt-123456"}, time.time()), time.time()
    )
    answer = deliver(flow, body, headers)
    assert answer.status_code == 200
    logged = "\n".join(service_logs)
    for value in (secret, headers["x-zm-signature"], "pt-123456", answer.json()["encryptedToken"]):
        assert value not in logged
