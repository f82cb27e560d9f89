"""The delegated-access worker: an SQS event source with partial batch failures (SPEC 4).

Each record is one queued request (``orgconnect.domain.delegated_access``); the application logic
is ``orgconnect.workers.delegated_access``. A record that raises (a provider outage, a callback
that stays undeliverable) is reported in ``batchItemFailures``: SQS redelivers it after the
visibility timeout and moves it to the dead-letter queue after maxReceiveCount receives.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from orgconnect import delegated_runtime, settings
from orgconnect.domain.delegated_access import DelegatedAccessRequest
from orgconnect.observability import logger, metrics, observed
from orgconnect.workers.provisioning_departures import AccountDeparture, is_departure

settings.validate(settings.DELEGATED_ACCESS_WORKER_FUNCTION)
# A batch whose every record failed is reported like any other (not as a function error): the
# same records return to the queue, without an invocation error per dead-lettering attempt.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class MalformedMessage(Exception):
    """A record whose body is not a queued request (it fails, and ends in the DLQ for an operator)."""


def record_handler(record: SQSRecord) -> str:
    """One queued request: its outcome, or an exception that fails this record only."""
    try:
        body = json.loads(record.body)
        if is_departure(body):  # a revocation with request_pii_erasure (docs/provisioning.md)
            return delegated_runtime.departures().handle(AccountDeparture.from_message(body))
        request = DelegatedAccessRequest.from_message(body)
    except (ValueError, KeyError, TypeError) as error:
        raise MalformedMessage(type(error).__name__) from None
    try:
        outcome = delegated_runtime.worker().handle(request, record.message_id)
    except Exception as error:
        logger.warning(
            "delegated access will be retried",
            extra={
                "message_id": record.message_id,
                "receive_count": record.attributes.approximate_receive_count,
                "why": type(error).__name__,
            },
        )
        metrics.add_metric(name="DelegatedAccessFailed", unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name="DelegatedAccessAnswered", unit=MetricUnit.Count, value=1)
    logger.info("delegated access answered", extra={"message_id": record.message_id, "outcome": outcome})
    return outcome


@observed()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
