"""The notifications worker: an SQS event source with partial batch failures (docs/notifications.md).

Each record is one queued notification (``orgconnect.domain.notifications.Notification``); the
application logic is ``orgconnect.workers.notifications``. A record that raises (the client's URL
answered non-2xx or was unreachable after the retries, or is not an allowed destination) is
reported in ``batchItemFailures``: SQS redelivers it after the visibility timeout and moves it to
the dead-letter queue after maxReceiveCount receives.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from orgconnect import delegated_runtime, settings
from orgconnect.domain.notifications import Notification
from orgconnect.observability import logger, metrics, observed

settings.validate(settings.NOTIFICATIONS_WORKER_FUNCTION)
# A batch whose every record failed is reported like any other (see the delegated-access worker).
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class MalformedMessage(Exception):
    """A record whose body is not a queued notification (it ends in the DLQ for an operator)."""


def record_handler(record: SQSRecord) -> str:
    """One queued notification: its outcome, or an exception that fails this record only."""
    try:
        notification = Notification.from_message(json.loads(record.body))
    except (ValueError, KeyError, TypeError) as error:
        raise MalformedMessage(type(error).__name__) from None
    context = {
        "notification_id": notification.notification_id,
        "type": str(notification.type),
        "client_id": notification.client_id,
    }
    try:
        outcome = delegated_runtime.notifications_worker().handle(notification)
    except Exception as error:
        logger.warning(
            "notification will be retried",
            extra={
                **context,
                "receive_count": record.attributes.approximate_receive_count,
                "why": type(error).__name__,
                "detail": str(error),
            },
        )
        metrics.add_metric(name="NotificationsFailed", unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name="NotificationsDelivered", unit=MetricUnit.Count, value=1)
    logger.info("notification handled", extra={**context, "outcome": outcome})
    return outcome


@observed()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
