"""What the SQS worker functions share: Powertools' BatchProcessor with partial batch failures, the
reading of a record's JSON body, and how a record's outcome is logged and counted.

A record that raises is reported in ``batchItemFailures``: SQS redelivers it after the visibility
timeout and moves it to the dead-letter queue after maxReceiveCount receives. A batch whose every
record failed is reported like any other (not as a function error): the same records return to
the queue, without an invocation error per dead-lettering attempt.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from msgspec import Struct

from orgconnect.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

#: A function's batch handler: (SQS event, Lambda context) -> the partial batch response.
BatchHandler = Callable[[dict[str, Any], "LambdaContext"], dict[str, Any]]


class MalformedMessage(Exception):
    """A record whose body is not the queue's message (it fails, and ends in the DLQ for an operator)."""


def parse_body[Message](record: SQSRecord, parse: Callable[[Any], Message]) -> Message:
    """``parse`` of the record's JSON body; MalformedMessage (naming the error's type only) when
    the body is not JSON or ``parse`` refuses it (ValueError, KeyError, TypeError)."""
    try:
        return parse(json.loads(record.body))
    except (ValueError, KeyError, TypeError) as error:
        raise MalformedMessage(type(error).__name__) from None


class RecordReport(Struct, frozen=True):
    """How a queue's records are logged and counted: a failure is a warning (the record is
    retried) and ``failed_metric``; a success counts ``done_metric`` and, with ``handled``, logs
    the outcome."""

    retried: str
    failed_metric: str
    done_metric: str
    handled: str | None = None
    #: Logs the failure's text too: only where it never holds a secret or a body.
    failure_detail: bool = False

    def run[Outcome](
        self, record: SQSRecord, handle: Callable[[], Outcome], context: Mapping[str, Any]
    ) -> Outcome:
        """``handle()``'s outcome, or its exception (which fails this record only), logged with
        ``context`` and the record's receive count, and counted."""
        try:
            outcome = handle()
        except Exception as error:
            why = {"receive_count": record.attributes.approximate_receive_count, "why": type(error).__name__}
            detail = {"detail": str(error)} if self.failure_detail else {}
            logger.warning(self.retried, extra={**context, **why, **detail})
            metrics.add_metric(name=self.failed_metric, unit=MetricUnit.Count, value=1)
            raise
        metrics.add_metric(name=self.done_metric, unit=MetricUnit.Count, value=1)
        if self.handled:
            logger.info(self.handled, extra={**context, "outcome": outcome})
        return outcome


def partial_batch_handler(record_handler: Callable[[SQSRecord], Any]) -> BatchHandler:
    """A handler of SQS batches that runs ``record_handler`` per record and answers the partial
    batch response (the failed records' ids)."""
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def handle_batch(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return dict(
            process_partial_response(
                event=event, record_handler=record_handler, processor=processor, context=context
            )
        )

    return handle_batch
