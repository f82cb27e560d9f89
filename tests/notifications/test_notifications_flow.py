"""Notifications end to end on a dev stack of its own (the real SQS event sources, local IAM): the
operator CLI sets a client's URL; the Zoom simulator's deauthorization, and a refresh refused with
``invalid_grant``, arrive as signed ``connection_status_changed`` notifications at a receiver on
127.0.0.1 that verifies them with the documented recipe; a receiver that keeps failing gets the
notification retried, then dead-lettered."""

from __future__ import annotations

from typing import Any

from tests.flow.harness import Browser, wait_for
from tests.notifications.conftest import NOTIFICATION_ATTEMPTS
from tests.notifications.integrator import Integrator

MAX_RECEIVES = 8  # template.yaml: NotificationsQueue maxReceiveCount


def test_a_zoom_deauthorization_arrives_signed_at_the_clients_url(
    integrator: Integrator, browser: Browser
) -> None:
    flow, receiver = integrator.flow, integrator.receiver
    client, _, connection = integrator.link_zoom(browser)
    failing_client, _, failing_connection = integrator.link_zoom(Browser(flow))
    path = integrator.listen(client)
    failing = integrator.listen(failing_client)
    receiver.fail[failing] = 10_000

    result = flow.simulator("zoom").send_webhook_event({"event": "app_deauthorized"})
    assert result["status"] == 200, result

    (notification,) = integrator.received(path, 1, timeout=20)
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


def test_a_refused_refresh_arrives_as_needs_reauthorization(integrator: Integrator, browser: Browser) -> None:
    client, token, connection = integrator.link_zoom(browser)
    path = integrator.listen(client)
    integrator.refuse_the_refresh(connection, token)

    (notification,) = integrator.received(path, 1, timeout=20)
    assert notification["type"] == "connection_status_changed"
    assert notification["status"] == "needs_reauthorization"
    assert notification["connection_id"] == connection["connection_id"]


def test_a_delegated_access_match_arrives_as_profile_connected(integrator: Integrator) -> None:
    flow = integrator.flow
    # The demo OU gets a Zoom connection; its client a notification URL.
    path = integrator.listen(integrator.link_demo_to_zoom())
    email = flow.info["demo"]["zoom_active"][3]
    integrator.delegate(email)

    (notification,) = integrator.received(path, 1)
    assert notification["type"] == "profile_connected" and notification["profile_connected"] is True
    assert notification["provider_name"] == "zoom"
    (account,) = [a for a in flow.table_items("ACCOUNT#") if a.get("email") == email]
    assert notification["account_id"] == account["account_id"]
    assert notification["profile_id"].startswith("pro_") and notification["connection_id"].startswith("cnx_")
