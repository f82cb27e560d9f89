"""Zoom webhooks: signatures (checked independently), user events, app_deauthorized, url_validation."""

from __future__ import annotations

from typing import Any

import httpx

from devstack.simulators.zoom_webhooks import sign
from tests.simulators.conftest import Receiver, ZoomHarness, verify_zoom_signature


def _configure(zoom: ZoomHarness, receiver: Receiver) -> None:
    reply = zoom.http.post(
        "/_sim/webhooks/config", json={"url": receiver.url, "secret_token": receiver.secret_token}
    )
    assert reply.status_code == 200


def test_signature_matches_the_reference_test_vector() -> None:
    body = (
        b'{"event":"app_deauthorized","event_ts":1700000000000,"payload":{"account_id":"AAA","user_id":"UUU",'
        b'"signature":"sig","deauthorization_time":"2019-06-17T13:52:28.632Z","client_id":"CCC"}}'
    )
    expected = "v0=0ebd9658a385f7f0f4df34ed928f28ca66b44ebc1fafb07daae6eb16f271c04d"
    assert sign("test_secret_token", "1700000000", body) == expected


def test_user_added_through_the_control_api_sends_a_signed_user_created(
    zoom: ZoomHarness, receiver: Receiver
) -> None:
    _configure(zoom, receiver)
    assert (
        zoom.http.post("/_sim/users", json={"email": "morpheus@example.com", "status": "pending"}).status_code
        == 201
    )
    [delivery] = receiver.events("user.created")
    assert verify_zoom_signature(receiver.secret_token, delivery["headers"], delivery["body"])
    assert delivery["headers"]["x-zm-request-timestamp"] == "1700000000"
    assert delivery["json"]["event_ts"] == 1_700_000_000_000
    payload = delivery["json"]["payload"]
    assert payload["account_id"] == zoom.info["account_id"]
    assert payload["object"]["email"] == "morpheus@example.com"
    assert payload["operator"] == zoom.info["admin_email"]
    assert not verify_zoom_signature("another-secret", delivery["headers"], delivery["body"])


def test_control_api_status_changes_and_renames_send_events(zoom: ZoomHarness, receiver: Receiver) -> None:
    _configure(zoom, receiver)
    pending = zoom.sim.demo.emails(zoom_status="pending")[0]
    active = zoom.sim.demo.emails(zoom_status="active")[1]
    zoom.http.patch(f"/_sim/users/{pending}", json={"status": "active"})
    zoom.http.patch(f"/_sim/users/{active}", json={"status": "inactive"})
    zoom.http.patch(f"/_sim/users/{active}", json={"status": "active"})
    zoom.http.patch(f"/_sim/users/{active}", json={"email": "renamed@example.com"})
    zoom.http.delete("/_sim/users/renamed@example.com")
    names = [r["json"]["event"] for r in receiver.received]
    assert names == [
        "user.invitation_accepted",
        "user.deactivated",
        "user.activated",
        "user.updated",
        "user.deleted",
    ]
    updated = receiver.events("user.updated")[0]["json"]["payload"]
    assert updated["object"]["email"] == "renamed@example.com"
    assert updated["old_object"]["email"] == active
    assert all(
        verify_zoom_signature(receiver.secret_token, r["headers"], r["body"]) for r in receiver.received
    )


def test_rest_changes_send_events(zoom: ZoomHarness, receiver: Receiver) -> None:
    _configure(zoom, receiver)
    token = zoom.s2s_token()
    created = zoom.api(
        "POST",
        "/users",
        token,
        json={"action": "ssoCreate", "user_info": {"email": "cypher@example.com", "type": 1}},
    ).json()
    zoom.api("PUT", f"/users/{created['id']}/status", token, json={"action": "deactivate"})
    zoom.api("DELETE", f"/users/{created['id']}", token)
    assert [r["json"]["event"] for r in receiver.received] == [
        "user.created",
        "user.deactivated",
        "user.disassociated",
    ]
    assert receiver.received[0]["json"]["payload"]["creation_type"] == "ssoCreate"


def test_app_deauthorized_revokes_tokens_and_is_delivered(zoom: ZoomHarness, receiver: Receiver) -> None:
    _configure(zoom, receiver)
    tokens = zoom.user_tokens()
    result = zoom.http.post("/_sim/webhooks/send", json={"event": "app_deauthorized"}).json()
    assert result["status"] == 200
    assert result["revoked_tokens"] == 2
    assert zoom.api("GET", "/users/me", tokens["access_token"]).status_code == 401
    [delivery] = receiver.events("app_deauthorized")
    assert verify_zoom_signature(receiver.secret_token, delivery["headers"], delivery["body"])
    payload = delivery["json"]["payload"]
    assert payload["client_id"] == zoom.info["oauth_client_id"]
    assert payload["account_id"] == zoom.info["account_id"]
    assert payload["user_data_retention"] == "false"
    assert set(payload) >= {"user_id", "signature", "deauthorization_time"}


def test_url_validation_challenge_is_checked(zoom: ZoomHarness, receiver: Receiver) -> None:
    _configure(zoom, receiver)
    good = zoom.http.post("/_sim/webhooks/send", json={"event": "endpoint.url_validation"}).json()
    assert good["validated"] is True
    challenge = receiver.events("endpoint.url_validation")[0]
    assert verify_zoom_signature(receiver.secret_token, challenge["headers"], challenge["body"])
    receiver.secret_token = "wrong-secret"  # the receiver now answers with the wrong key
    bad = zoom.http.post("/_sim/webhooks/send", json={"event": "endpoint.url_validation"}).json()
    assert bad["validated"] is False
    receiver.answer_challenge = False
    silent = zoom.http.post("/_sim/webhooks/send", json={"event": "endpoint.url_validation"}).json()
    assert silent["validated"] is False


def test_deliveries_are_recorded_in_the_request_log(zoom: ZoomHarness, receiver: Receiver) -> None:
    _configure(zoom, receiver)
    zoom.http.post("/_sim/users", json={"email": "tank@example.com"})
    log = zoom.http.get("/_sim/requests").json()["requests"]
    webhook = [entry for entry in log if entry["kind"] == "webhook"]
    assert webhook[-1]["event"] == "user.created"
    assert webhook[-1]["status"] == 200
    assert webhook[-1]["url"] == receiver.url


def test_unreachable_receiver_is_recorded_not_raised(zoom: ZoomHarness) -> None:
    zoom.http.post("/_sim/webhooks/config", json={"url": "http://127.0.0.1:9/hook", "secret_token": "s"})
    assert zoom.http.post("/_sim/users", json={"email": "dozer@example.com"}).status_code == 201
    webhook = [e for e in zoom.sim.requests() if e["kind"] == "webhook"]
    assert webhook[-1]["status"] is None
    assert webhook[-1]["error"] == "ConnectError"


def test_receiver_may_call_back_into_the_simulator_during_delivery(
    zoom: ZoomHarness, receiver: Receiver
) -> None:
    _configure(zoom, receiver)
    seen: list[Any] = []
    token = zoom.s2s_token()

    def call_back(event: dict[str, Any]) -> None:
        # Like orgconnect's webhook handler: look the user up while the event is being delivered.
        email = event["payload"]["object"]["email"]
        seen.append(
            httpx.get(
                f"{zoom.url}/v2/users/{email}", headers={"Authorization": f"Bearer {token}"}, timeout=5
            ).json()["status"]
        )

    receiver.on_event = call_back
    zoom.http.post("/_sim/users", json={"email": "apoc@example.com", "status": "pending"})
    assert seen == ["pending"]


def test_send_user_event_for_an_existing_user(zoom: ZoomHarness, receiver: Receiver) -> None:
    _configure(zoom, receiver)
    reply = zoom.http.post(
        "/_sim/webhooks/send", json={"event": "user.updated", "email": zoom.info["admin_email"]}
    )
    assert reply.json()["status"] == 200
    assert (
        receiver.events("user.updated")[0]["json"]["payload"]["object"]["email"] == zoom.info["admin_email"]
    )
    assert (
        zoom.http.post("/_sim/webhooks/send", json={"event": "user.updated", "email": "x@y.z"}).status_code
        == 404
    )
    assert zoom.http.post("/_sim/webhooks/send", json={"event": "meeting.started"}).status_code == 400


def test_send_without_configuration_is_a_conflict(zoom: ZoomHarness) -> None:
    assert zoom.http.post("/_sim/webhooks/send", json={"event": "app_deauthorized"}).status_code == 409
    config = zoom.http.get("/_sim/webhooks/config").json()
    assert config == {"url": None, "secret_token_set": True}
