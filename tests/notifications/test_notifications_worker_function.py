"""The NotificationsWorkerFunction handler: its import builds nothing and loads no HTTP client, its
sample SQS event is a queued notification, unreadable records fail alone (partial batch failures)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from orgconnect.domain.notifications import Notification
from tests.cold_start import PROVIDER_CLIENTS, cold_import

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "functions" / "notifications_worker" / "app.py"
SAMPLE = ROOT / "events" / "sqs" / "NotificationsWorkerFunction.json"


def test_importing_the_function_builds_nothing_and_loads_no_http_client() -> None:
    started = cold_import(
        "notifications_worker",
        env={"ORGCONNECT_TABLE_NAME": "table", "ORGCONNECT_NOTIFICATIONS_QUEUE_URL": "q"},
        unwanted=PROVIDER_CLIENTS,
        cached=("get_store", "get_sealer", "get_secrets_client", "get_notification_publisher"),
    )
    assert started == ([], 0)


def test_the_sample_sqs_event_is_a_queued_notification() -> None:
    (record,) = json.loads(SAMPLE.read_text())["Records"]
    assert record["eventSource"] == "aws:sqs"
    notification = Notification.from_message(json.loads(record["body"]))
    assert notification.payload()["notification"]["status"] == "revoked"


class _Context:
    function_name, memory_limit_in_mb, aws_request_id = "worker", 512, "req-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:worker"


def test_unreadable_records_fail_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    from orgconnect import delegated_runtime, settings

    for name, value in {"ORGCONNECT_TABLE_NAME": "table", "POWERTOOLS_METRICS_DISABLED": "true"}.items():
        monkeypatch.setenv(name, value)
    settings.reset()
    spec = importlib.util.spec_from_file_location("notifications_worker_app", APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handled: list[str] = []

    class Worker:
        def handle(self, notification: Notification) -> str:
            handled.append(notification.notification_id)
            return "delivered"

    monkeypatch.setattr(delegated_runtime, "notifications_worker", Worker)
    event: dict[str, Any] = json.loads(SAMPLE.read_text())
    record = event["Records"][0]
    event["Records"] = [
        {**record, "messageId": "bad-json", "body": "not json"},
        {**record, "messageId": "not-ours", "body": "{}"},
        record,
    ]
    answer = module.lambda_handler(event, _Context())
    assert answer == {"batchItemFailures": [{"itemIdentifier": "bad-json"}, {"itemIdentifier": "not-ours"}]}
    assert handled == ["ntf_0123456789abcdef01234567"]
    settings.reset()
