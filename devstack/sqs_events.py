"""Lambda's SQS event source mapping, locally: the template's ``Type: SQS`` events drive the
functions' own handlers with real SQS events from the embedded moto.

Per function and queue, one poller thread does what Lambda's poller does: ReceiveMessage (up to
``BatchSize``), one invocation with the batch as an SQS event (under the function's local IAM
policy), then DeleteMessageBatch of what succeeded. With ``FunctionResponseTypes:
[ReportBatchItemFailures]`` the records named in ``batchItemFailures`` stay on the queue; an
invocation that raises, or a response naming an unknown record, leaves the whole batch. What is
left becomes visible again after the visibility timeout and SQS itself (moto) moves it to the
dead-letter queue once its receive count reaches the RedrivePolicy's maxReceiveCount.

Short polling only (``WaitTimeSeconds=0``, then a pause when the queue is empty): the moto server
handles one request at a time, so a long poll would hold every other AWS call of the stack.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from devstack import iam, instrument
from devstack.apigw import LambdaContext, load_handler
from devstack.aws import REGION
from devstack.lambda_environments import ExecutionEnvironments
from devstack.template import FunctionSpec, Resolver, functions

log = logging.getLogger("devstack.sqs")
MAX_RECEIVE = 10  # ReceiveMessage's limit per call
IDLE_PAUSE_SECONDS = 0.1


@dataclass(frozen=True)
class SqsMapping:
    """One ``Type: SQS`` event of one function, resolved to the local queue."""

    spec: FunctionSpec
    queue_url: str
    queue_arn: str
    batch_size: int
    report_batch_item_failures: bool


def sqs_mappings(template: Mapping[str, Any], resolver: Resolver) -> list[SqsMapping]:
    """Every SQS event source of the template, with its queue's local URL."""
    urls = {
        arn: resolver.refs[name.rsplit(".", 1)[0]]
        for name, arn in resolver.attrs.items()
        if ":sqs:" in str(arn)
    }
    found = []
    for spec in functions(template):
        for event in spec.events.values():
            if event.get("Type") != "SQS":
                continue
            props = event.get("Properties", {})
            arn = str(resolver.resolve(props["Queue"]))
            if arn not in urls:
                raise ValueError(f"{spec.logical_id}: the SQS event's queue {arn} is not in the template")
            found.append(
                SqsMapping(
                    spec=spec,
                    queue_url=urls[arn],
                    queue_arn=arn,
                    batch_size=int(resolver.resolve(props.get("BatchSize", 10))),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in (resolver.resolve(props.get("FunctionResponseTypes")) or []),
                )
            )
    return found


def sqs_event(records: Sequence[Mapping[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The Lambda event for messages as ReceiveMessage returned them."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": dict(m.get("Attributes", {})),
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "binaryValue": value.get("BinaryValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value.get("DataType"),
                    }
                    for name, value in m.get("MessageAttributes", {}).items()
                },
                "md5OfBody": m.get("MD5OfBody") or hashlib.md5(m["Body"].encode()).hexdigest(),  # noqa: S324
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for m in records
        ]
    }


def failed_ids(result: Any, mapping: SqsMapping, batch_ids: set[str]) -> set[str]:
    """The records to leave on the queue after an invocation returned ``result``."""
    if not mapping.report_batch_item_failures:
        return set()
    if result is None:
        return set()
    failures = result.get("batchItemFailures") if isinstance(result, dict) else None
    if not isinstance(failures, list):
        return set(batch_ids)  # an unreadable response fails the whole batch, as on Lambda
    ids = {f.get("itemIdentifier") for f in failures if isinstance(f, dict)}
    if not ids <= batch_ids or None in ids:
        return set(batch_ids)
    return {str(i) for i in ids}


class SqsPoller:
    """The poller of one mapping (a daemon thread); :meth:`stop` ends it."""

    def __init__(
        self,
        mapping: SqsMapping,
        sqs: Any,
        policy: iam.Policy,
        *,
        visibility_timeout: int | None = None,
        environments: ExecutionEnvironments | None = None,
    ) -> None:
        self.mapping = mapping
        self._sqs = sqs
        self._policy = policy
        self._visibility_timeout = visibility_timeout
        self._environments = environments or ExecutionEnvironments(mapping.spec, load_handler)
        self._stop = threading.Event()
        self.invocations = 0
        self._thread = threading.Thread(target=self._run, name=f"sqs-{mapping.spec.logical_id}", daemon=True)

    def start(self) -> SqsPoller:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=15)

    def _receive(self) -> list[dict[str, Any]]:
        wanted = self.mapping.batch_size
        batch: list[dict[str, Any]] = []
        while len(batch) < wanted:
            request: dict[str, Any] = {
                "QueueUrl": self.mapping.queue_url,
                "MaxNumberOfMessages": min(MAX_RECEIVE, wanted - len(batch)),
                "WaitTimeSeconds": 0,
                "AttributeNames": ["All"],
                "MessageAttributeNames": ["All"],
            }
            if self._visibility_timeout is not None:
                request["VisibilityTimeout"] = self._visibility_timeout
            with instrument.not_counted():
                got = self._sqs.receive_message(**request).get("Messages", [])
            batch += got
            if len(got) < request["MaxNumberOfMessages"]:
                break
        return batch

    def poll_once(self) -> int:
        """Receive one batch and invoke the function with it; the number of records."""
        batch = self._receive()
        if not batch:
            return 0
        ids = {m["MessageId"] for m in batch}
        event = sqs_event(batch, self.mapping.queue_arn)
        self.invocations += 1
        try:
            with self._environments.invocation() as handler, iam.acting_as(self._policy):
                result = handler(event, LambdaContext(self.mapping.spec))
            keep = failed_ids(result, self.mapping, ids)
        except Exception:  # the whole batch returns to the queue, as on Lambda
            log.exception("function %s raised on an SQS batch", self.mapping.spec.logical_id)
            keep = ids
        done = [m for m in batch if m["MessageId"] not in keep]
        if done:
            with instrument.not_counted():
                self._sqs.delete_message_batch(
                    QueueUrl=self.mapping.queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
                )
        return len(batch)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.poll_once():
                    continue
            except Exception:  # the emulator stopping under us, or a transient error: poll again
                if self._stop.is_set():
                    return
                log.exception("polling %s failed", self.mapping.queue_url)
            self._stop.wait(IDLE_PAUSE_SECONDS)


def start_sqs_event_sources(
    template: Mapping[str, Any],
    resolver: Resolver,
    client: Callable[[str], Any],
    *,
    visibility_timeout: int | None = None,
) -> list[SqsPoller]:
    """One running poller per SQS event source of the template. ``visibility_timeout`` (seconds)
    replaces the queues' own on every receive (tests: redelivery without waiting minutes)."""
    policies = iam.policies(template, resolver)
    iam.install()
    pollers = []
    for mapping in sqs_mappings(template, resolver):
        pollers.append(
            SqsPoller(
                mapping,
                client("sqs"),
                policies[mapping.spec.logical_id],
                visibility_timeout=visibility_timeout,
            ).start()
        )
    return pollers


def describe(pollers: list[SqsPoller]) -> list[str]:
    """A line per event source, for dev.json and the start-up summary."""
    lines = []
    for p in pollers:
        partial = ", partial batch failures" if p.mapping.report_batch_item_failures else ""
        queue = p.mapping.queue_arn.rsplit(":", 1)[-1]
        lines.append(f"SQS {queue} -> {p.mapping.spec.logical_id} (batch {p.mapping.batch_size}{partial})")
    return lines
