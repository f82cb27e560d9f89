"""Zoom user events end to end: the Zoom simulator changes a user, signs the event with its own
code and the secret `make dev` configures, and delivers it to ``POST /webhooks/zoom``; the matched
profile in the account's userinfo follows at once, without a reconcile or a directory listing."""

from __future__ import annotations

import time
from typing import Any

import pytest

from devstack.simulators.zoom_webhooks import envelope, signed_request
from tests.delegated.conftest import CallbackReceiver
from tests.webhooks.conftest import DemoOu, account_token, conferencing_profile


def _directory_item(ou: DemoOu, connection_id: str, email: str) -> dict[str, Any]:
    (item,) = [
        i for i in ou.flow.table_items(f"DIRECTORY#{connection_id}") if i["sk"] == f"USER#{email.lower()}"
    ]
    return item


def _user_payload(ou: DemoOu, email: str) -> dict[str, Any]:
    """The payload of a Zoom user event about ``email``'s Zoom user."""
    user = ou.zoom_user(email)
    return {"account_id": user["account_id"], "object": {"id": user["id"], "email": email}}


def _signed(ou: DemoOu, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """``event`` signed with the simulator's signing code and secret: the body and headers."""
    secret = str(ou.flow.info["simulators"]["zoom"]["webhook_secret_token"])
    return signed_request(secret, event, time.time())


def _post(ou: DemoOu, body: bytes, headers: dict[str, str]) -> int:
    """POST a delivery to ``/webhooks/zoom`` as Zoom would: our answer's status."""
    answer = ou.flow.api.post(f"{ou.flow.info['api_url']}/webhooks/zoom", content=body, headers=headers)
    return answer.status_code


def _deliver(ou: DemoOu, event: dict[str, Any]) -> int:
    """Sign ``event`` and post it as Zoom would."""
    return _post(ou, *_signed(ou, event))


def test_deactivation_disconnects_activation_reconnects_and_an_email_change_keeps_the_profile(
    demo_ou: DemoOu, receiver: CallbackReceiver
) -> None:
    ou, flow = demo_ou, demo_ou.flow
    connection_id = ou.ensure_connected()["connection_id"]
    email = flow.info["demo"]["zoom_active"][2]
    token = account_token(flow, receiver, email)
    first = conferencing_profile(flow, token)
    assert first["profile_connected"] is True and first["profile_name"] == email.lower()
    ou.clear_zoom_requests()

    ou.change_zoom_user(email, status="inactive")
    assert ou.webhook_answers("user.deactivated") == [200]
    gone = conferencing_profile(flow, token)
    assert gone["profile_id"] == first["profile_id"] and gone["profile_connected"] is False
    assert "profile_relink_url" not in gone  # an administrator must activate the user at Zoom
    assert _directory_item(ou, connection_id, email)["status"] == "inactive"

    ou.change_zoom_user(email, status="active")
    assert ou.webhook_answers("user.activated") == [200]
    assert conferencing_profile(flow, token)["profile_connected"] is True

    renamed = email.replace("@", ".renamed@").lower()
    ou.change_zoom_user(email, email=renamed)
    assert ou.webhook_answers("user.updated") == [200]
    kept = conferencing_profile(flow, token)
    assert kept == {**first, "profile_name": renamed}  # same profile id, connected, the new address
    assert _directory_item(ou, connection_id, email)["type"] == "directory_user_moved"
    assert _directory_item(ou, connection_id, renamed)["provider_user_id"] == ou.zoom_user(renamed)["id"]
    # Only the webhook deliveries: no listing, no lookup of the user at Zoom.
    assert [r for r in ou.zoom_requests() if r.get("kind") != "webhook"] == []


def test_a_replayed_or_older_event_is_answered_200_and_changes_nothing(
    demo_ou: DemoOu, receiver: CallbackReceiver
) -> None:
    ou, flow = demo_ou, demo_ou.flow
    ou.ensure_connected()
    email = flow.info["demo"]["zoom_active"][3]
    token = account_token(flow, receiver, email)
    zoom_clock = flow.simulator("zoom").clock.now()
    payload = _user_payload(ou, email)

    deactivated = envelope("user.deactivated", payload, zoom_clock + 1)
    assert _deliver(ou, deactivated) == 200
    assert conferencing_profile(flow, token)["profile_connected"] is False
    activated = envelope("user.activated", payload, zoom_clock + 3)
    assert _deliver(ou, activated) == 200
    assert conferencing_profile(flow, token)["profile_connected"] is True

    # The deactivation again (Zoom retried it, or it was captured): older than the activation.
    assert _deliver(ou, deactivated) == 200
    assert _deliver(ou, envelope("user.deactivated", payload, zoom_clock + 2)) == 200
    assert _deliver(ou, activated) == 200  # the activation replayed
    assert conferencing_profile(flow, token)["profile_connected"] is True


@pytest.mark.parametrize("tamper", ["signature", "body"])
def test_w2_a_bad_signature_is_refused_and_changes_nothing(
    demo_ou: DemoOu, receiver: CallbackReceiver, tamper: str
) -> None:
    ou, flow = demo_ou, demo_ou.flow
    ou.ensure_connected()
    email = flow.info["demo"]["zoom_active"][5]
    token = account_token(flow, receiver, email)
    body, headers = _signed(ou, envelope("user.deactivated", _user_payload(ou, email), time.time()))
    if tamper == "signature":
        headers["x-zm-signature"] = "v0=" + "0" * 64
    else:
        body = body.replace(b"user.deactivated", b"user.deleted    ")
    assert _post(ou, body, headers) == 401
    assert conferencing_profile(flow, token)["profile_connected"] is True
