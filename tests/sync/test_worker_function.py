"""The sync worker function itself: its import loads no provider client and builds nothing; an
SQS record that is not a sync message fails alone (partial batch failure); a scheduled event
queues one sync per linked connection."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from devstack.apigw import LambdaContext, load_handler
from devstack.template import functions, load_template
from tests.sync.conftest import LinkedZoom

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_worker_builds_nothing_and_loads_no_provider_client() -> None:
    unwanted = (
        "aws_xray_sdk",
        "pydantic",
        "httpx",
        "authlib",
        "tenacity",
        "orgconnect.providers",
        "orgconnect.web",
    )
    code = (
        "import sys, importlib.util, os;"
        "sys.path.insert(0, 'layers/orgconnect');"
        "os.environ.update(ORGCONNECT_TABLE_NAME='table', ORGCONNECT_CONNECTION_SYNC_QUEUE_URL='q');"
        "spec = importlib.util.spec_from_file_location('app', 'functions/connection_sync_worker/app.py');"
        "m = importlib.util.module_from_spec(spec); sys.modules['app'] = m; spec.loader.exec_module(m);"
        f"print(sorted(n for n in sys.modules if n.startswith({unwanted!r})));"
        "from orgconnect import runtime;"
        "print(runtime.get_store.cache_info().currsize)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["[]", "0"]


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
