"""The local SQS event source's poller against a fake SQS: BatchSize, what is deleted after a
partial failure, a raising invocation, and the event's shape."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from devstack import iam
from devstack.sqs_events import SqsMapping, SqsPoller
from devstack.template import FunctionSpec


class FakeSqs:
    def __init__(self, count: int) -> None:
        self.messages = [
            {"MessageId": f"m{i}", "ReceiptHandle": f"r{i}", "Body": f'{{"n": {i}}}', "Attributes": {}}
            for i in range(count)
        ]
        self.asked: list[int] = []
        self.deleted: list[str] = []

    def receive_message(self, **request: Any) -> dict[str, Any]:
        self.asked.append(request["MaxNumberOfMessages"])
        got, self.messages = (
            self.messages[: request["MaxNumberOfMessages"]],
            self.messages[request["MaxNumberOfMessages"] :],
        )
        return {"Messages": got}

    def delete_message_batch(self, **request: Any) -> None:
        self.deleted += [e["ReceiptHandle"] for e in request["Entries"]]


class Environments:
    def __init__(self, handler: Any) -> None:
        self.handler = handler

    @contextmanager
    def invocation(self) -> Iterator[Any]:
        yield self.handler


def poller(sqs: FakeSqs, handler: Any, batch_size: int = 10) -> SqsPoller:
    spec = FunctionSpec("Worker", Path("."), "app.lambda_handler", {}, 30, 128, ())
    mapping = SqsMapping(spec, "http://q", "arn:aws:sqs:us-east-1:123456789012:q", batch_size, True)
    environments: Any = Environments(handler)
    return SqsPoller(mapping, sqs, iam.Policy("Worker", ()), environments=environments)


def test_a_batch_is_at_most_batch_size_and_failed_records_stay() -> None:
    sqs = FakeSqs(5)
    events: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        events.append(event)
        return {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}

    assert poller(sqs, handler, batch_size=3).poll_once() == 3
    assert sqs.asked == [3]
    (event,) = events
    record = event["Records"][0]
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"].endswith(":q")
    assert sqs.deleted == ["r1", "r2"]  # m0 failed: it stays for redelivery


def test_an_invocation_that_raises_leaves_the_whole_batch() -> None:
    sqs = FakeSqs(2)

    def handler(event: dict[str, Any], context: Any) -> None:
        raise RuntimeError("boom")

    assert poller(sqs, handler).poll_once() == 2
    assert sqs.deleted == []


def test_an_empty_queue_invokes_nothing() -> None:
    sqs = FakeSqs(0)
    assert poller(sqs, lambda e, c: None).poll_once() == 0
