"""Notifications from provider webhooks and relinks, end to end on the notifications dev stack: a
Zoom user deactivated (the simulator's signed ``user.deactivated``) arrives as
``profile_disconnected`` and reactivated as ``profile_connected``; a connection that needed
reauthorization and is restored through its relink url arrives as ``connection_status_changed``
``connected``. (Named to run before the store and unit modules of this package, whose fixtures
move the process environment away from the package's stack.)"""

from __future__ import annotations

import json
import secrets
from typing import Any

import httpx
import pytest

from tests.flow.harness import Browser, Client, FlowStack, wait_for
from tests.notifications.receiver import NotificationReceiver
from tests.notifications.test_notifications_flow import cli, link_zoom


def _listen(
    capsys: pytest.CaptureFixture[str], flow: FlowStack, receiver: NotificationReceiver, client: Client
) -> str:
    """The client's URL on the receiver, at a path of its own. A client whose URL an earlier test
    set keeps its secret: a rotation without grace gives one the receiver knows."""
    path = f"/n/{secrets.token_hex(6)}"
    out = cli(
        capsys, flow, "set-notification-url", "--client-id", client.client_id, "--url", receiver.url(path)
    )
    if "notification_secret" not in out:
        out = cli(
            capsys, flow, "rotate-notification-secret", "--client-id", client.client_id, "--grace-hours", "0"
        )
    receiver.secrets[path] = out["notification_secret"]
    return path


def _received(receiver: NotificationReceiver, path: str, count: int) -> list[dict[str, Any]]:
    wait_for(lambda: len(receiver.received.get(path, [])) >= count, timeout=30)
    return [n["notification"] for n in receiver.received[path]]


def test_zoom_user_events_arrive_as_profile_disconnected_and_connected(
    notify_stack: FlowStack,
    notification_receiver: NotificationReceiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    flow, receiver = notify_stack, notification_receiver
    demo = Client(
        flow.info["client_id"],
        flow.info["client_secret"],
        flow.info["redirect_uri"],
        flow.info["service_account_id"],
    )
    outcome = Browser(flow).run(flow.authorize_url(demo, provider="zoom_enterprise"))
    assert outcome.kind == "code", outcome.text
    path = _listen(capsys, flow, receiver, demo)
    callback = f"/cb/{secrets.token_hex(6)}"
    receiver.answer[callback] = (204, {})
    email = flow.info["demo"]["zoom_active"][9]
    queued = flow.api.post(
        f"{flow.info['api_url']}/v1/service_account_authorizations",
        headers={"Authorization": f"Bearer {flow.info['service_account_token']}"},
        json={"email": email, "scope": "read_only", "callback_url": receiver.url(callback)},
    )
    assert queued.status_code == 202, queued.text
    (matched,) = _received(receiver, path, 1)
    assert matched["type"] == "profile_connected"

    zoom = flow.info["simulators"]["zoom"]["base_url"]
    assert httpx.patch(f"{zoom}/_sim/users/{email}", json={"status": "inactive"}).status_code == 200
    _, disconnected = _received(receiver, path, 2)
    assert disconnected["type"] == "profile_disconnected" and disconnected["profile_connected"] is False
    assert disconnected["profile_id"] == matched["profile_id"]
    assert httpx.patch(f"{zoom}/_sim/users/{email}", json={"status": "active"}).status_code == 200
    _, _, connected = _received(receiver, path, 3)
    assert connected["type"] == "profile_connected" and connected["profile_id"] == matched["profile_id"]


def test_a_relink_that_restores_a_connection_arrives_as_connected(
    notify_stack: FlowStack,
    notification_receiver: NotificationReceiver,
    browser: Browser,
    capsys: pytest.CaptureFixture[str],
) -> None:
    flow, receiver = notify_stack, notification_receiver
    client, token, connection = link_zoom(flow, browser)
    path = _listen(capsys, flow, receiver, client)
    secrets_manager = flow.aws("secretsmanager")
    stored = json.loads(secrets_manager.get_secret_value(SecretId=connection["secret_arn"])["SecretString"])
    secrets_manager.put_secret_value(
        SecretId=connection["secret_arn"], SecretString=json.dumps({**stored, "expires_at": 0})
    )
    flow.simulator("zoom").add_fault("token", "invalid_grant")
    collection = f"{flow.info['api_url']}/v1/organizational_unit/conferencing_connections"
    answer = flow.api.post(
        f"{collection}/{connection['connection_id']}/test", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200 and answer.json()["test"]["passed"] is False, answer.text
    (needs,) = _received(receiver, path, 1)
    assert needs["status"] == "needs_reauthorization"

    relink = (
        f"{flow.info['app_url']}/organizational_unit_oauth/relink?connection_id={connection['connection_id']}"
    )
    relinked = Browser(flow).run(relink)
    assert relinked.kind == "page" and "data-testid=relinked" in relinked.text, relinked.text
    _, restored = _received(receiver, path, 2)
    assert restored["type"] == "connection_status_changed" and restored["status"] == "connected"
    assert restored["connection_id"] == connection["connection_id"]
