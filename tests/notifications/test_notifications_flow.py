"""Notifications end to end on a dev stack of its own (the real SQS event sources, local IAM): the
operator CLI sets a client's URL; the Zoom simulator's deauthorization, and a refresh refused with
``invalid_grant``, arrive as signed ``connection_status_changed`` notifications at a receiver on
127.0.0.1 that verifies them with the documented recipe; a receiver that keeps failing gets the
notification retried, then dead-lettered."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest

from orgconnect.cli import main
from tests.flow.harness import Browser, Client, FlowStack, wait_for
from tests.flow.s2s_helpers import redeem
from tests.notifications.conftest import NOTIFICATION_ATTEMPTS
from tests.notifications.receiver import NotificationReceiver

MAX_RECEIVES = 8  # template.yaml: NotificationsQueue maxReceiveCount


def cli(capsys: pytest.CaptureFixture[str], flow: FlowStack, *args: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["admin", *args, "--dev", str(flow.stack.dev_file)]) == 0, capsys.readouterr().err
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def set_url(
    capsys: pytest.CaptureFixture[str], flow: FlowStack, receiver: NotificationReceiver, client: Client
) -> str:
    """The client's URL on the receiver, at a path of its own; the receiver knows the secret."""
    path = f"/n/{secrets.token_hex(6)}"
    out = cli(
        capsys, flow, "set-notification-url", "--client-id", client.client_id, "--url", receiver.url(path)
    )
    assert out["notification_url"] == receiver.url(path)
    receiver.secrets[path] = out["notification_secret"]
    return path


def link_zoom(flow: FlowStack, browser: Browser) -> tuple[Client, str, dict[str, Any]]:
    """A fresh client whose new OU is linked to the simulator's Zoom account."""
    client = flow.new_client()
    outcome = browser.run(flow.authorize_url(client))
    assert outcome.kind == "code", outcome.text
    token = redeem(flow, client, outcome.params["code"])
    me = flow.api.get(f"{flow.info['api_url']}/v1/userinfo", headers={"Authorization": f"Bearer {token}"})
    (connection,) = me.json()["cronofy.data"]["conferencing_connections"]
    (item,) = [
        c for c in flow.table_items("CONNECTION#") if c["connection_id"] == connection["connection_id"]
    ]
    return client, token, item


def test_a_zoom_deauthorization_arrives_signed_at_the_clients_url(
    notify_stack: FlowStack,
    notification_receiver: NotificationReceiver,
    browser: Browser,
    capsys: pytest.CaptureFixture[str],
) -> None:
    flow, receiver = notify_stack, notification_receiver
    client, _, connection = link_zoom(flow, browser)
    failing_client, _, failing_connection = link_zoom(flow, Browser(flow))
    path = set_url(capsys, flow, receiver, client)
    failing = set_url(capsys, flow, receiver, failing_client)
    receiver.fail[failing] = 10_000

    result = flow.simulator("zoom").send_webhook_event({"event": "app_deauthorized"})
    assert result["status"] == 200, result

    wait_for(lambda: bool(receiver.received.get(path)), timeout=20)
    ((notification,),) = [[n["notification"] for n in receiver.received[path]]]
    assert notification["type"] == "connection_status_changed"
    assert notification["id"].startswith("ntf_") and notification["occurred_at"].endswith("Z")
    assert {
        k: notification[k] for k in ("organizational_unit_id", "connection_id", "provider_name", "status")
    } == {
        "organizational_unit_id": connection["ou_id"],
        "connection_id": connection["connection_id"],
        "provider_name": "zoom_enterprise",
        "status": "revoked",
    }
    assert path not in receiver.refused  # verified with the documented recipe

    # The other client's receiver keeps answering 503: tried on every receive, then dead-lettered.
    sqs = flow.aws("sqs")
    dlq = flow.info["queues"]["NotificationsDeadLetterQueue"]

    def dead_lettered() -> list[dict[str, Any]]:
        got = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
            "Messages", []
        )
        return [m for m in got if failing_connection["connection_id"] in m["Body"]]

    wait_for(lambda: bool(dead_lettered()), timeout=60)
    assert receiver.attempts[failing] == NOTIFICATION_ATTEMPTS * MAX_RECEIVES
    (message,) = dead_lettered()
    body = message["Body"]
    assert "secret" not in body and "token" not in body and receiver.secrets[failing] not in body

    # The same event again changes nothing and notifies nobody again.
    again = flow.simulator("zoom").send_webhook_event({"event": "app_deauthorized"})
    assert again["status"] == 200, again
    assert len(receiver.received[path]) == 1


def test_a_refused_refresh_arrives_as_needs_reauthorization(
    notify_stack: FlowStack,
    notification_receiver: NotificationReceiver,
    browser: Browser,
    capsys: pytest.CaptureFixture[str],
) -> None:
    flow, receiver = notify_stack, notification_receiver
    client, token, connection = link_zoom(flow, browser)
    path = set_url(capsys, flow, receiver, client)
    secrets_manager = flow.aws("secretsmanager")
    stored = json.loads(secrets_manager.get_secret_value(SecretId=connection["secret_arn"])["SecretString"])
    # The access token expires (as an hour later would) and Zoom refuses the refresh token.
    secrets_manager.put_secret_value(
        SecretId=connection["secret_arn"], SecretString=json.dumps({**stored, "expires_at": 0})
    )
    flow.simulator("zoom").add_fault("token", "invalid_grant")
    collection = f"{flow.info['api_url']}/v1/organizational_unit/conferencing_connections"
    test_url = f"{collection}/{connection['connection_id']}/test"
    answer = flow.api.post(test_url, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.json()["test"]["passed"] is False, answer.text

    wait_for(lambda: bool(receiver.received.get(path)), timeout=20)
    (notification,) = [n["notification"] for n in receiver.received[path]]
    assert notification["type"] == "connection_status_changed"
    assert notification["status"] == "needs_reauthorization"
    assert notification["connection_id"] == connection["connection_id"]


def test_a_delegated_access_match_arrives_as_profile_connected(
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
    # The demo OU gets a Zoom connection; its client a notification URL.
    outcome = Browser(flow).run(flow.authorize_url(demo, provider="zoom_enterprise"))
    assert outcome.kind == "code", outcome.text
    path = set_url(capsys, flow, receiver, demo)
    callback = f"/cb/{secrets.token_hex(6)}"
    receiver.answer[callback] = (204, {})  # the delegated-access callback: not what is tested here
    email = flow.info["demo"]["zoom_active"][3]
    queued = flow.api.post(
        f"{flow.info['api_url']}/v1/service_account_authorizations",
        headers={"Authorization": f"Bearer {flow.info['service_account_token']}"},
        json={"email": email, "scope": "read_only", "callback_url": receiver.url(callback)},
    )
    assert queued.status_code == 202, queued.text

    wait_for(lambda: bool(receiver.received.get(path)), timeout=30)
    (notification,) = [n["notification"] for n in receiver.received[path]]
    assert notification["type"] == "profile_connected" and notification["profile_connected"] is True
    assert notification["provider_name"] == "zoom"
    (account,) = [a for a in flow.table_items("ACCOUNT#") if a.get("email") == email]
    assert notification["account_id"] == account["account_id"]
    assert notification["profile_id"].startswith("pro_") and notification["connection_id"].startswith("cnx_")
