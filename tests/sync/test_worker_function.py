"""The sync worker function itself: its import loads no provider client and builds nothing; an
SQS record that is not a sync message fails alone (partial batch failure); a scheduled event
queues one sync per linked connection."""

from __future__ import annotations

import json
from typing import Any

from devstack.apigw import LambdaContext, load_handler
from devstack.template import functions, load_template
from tests.cold_start import PROVIDER_CLIENTS, cold_import
from tests.sync.conftest import LinkedZoom


def test_importing_the_worker_builds_nothing_and_loads_no_provider_client() -> None:
    unwanted = (*PROVIDER_CLIENTS, "orgconnect.web")
    started = cold_import(
        "connection_sync_worker",
        env={"ORGCONNECT_TABLE_NAME": "table", "ORGCONNECT_CONNECTION_SYNC_QUEUE_URL": "q"},
        unwanted=unwanted,
        cached=("get_store",),
    )
    assert started == ([], 0)


def test_a_junk_record_fails_alone_and_a_schedule_queues_the_linked_connections(linked: LinkedZoom) -> None:
    (spec,) = [s for s in functions(load_template()) if s.logical_id == "ConnectionSyncWorkerFunction"]
    handler = load_handler(spec, 2000)
    record: dict[str, Any] = {
        "messageId": "m-junk",
        "receiptHandle": "r",
        "body": json.dumps({"kind": "sync", "connection_id": "not-a-connection"}),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
        "awsRegion": "us-east-1",
    }
    answer = handler({"Records": [record]}, LambdaContext(spec))
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-junk"}]}
    scheduled = handler(
        {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}, LambdaContext(spec)
    )
    from orgconnect import sync_runtime

    linked_now = sync_runtime.linked_connections()  # the Zoom link (and any Server-to-Server one)
    assert linked.connection_id in linked_now and scheduled == {"scheduled": len(linked_now)}
