"""The notifications worker: an SQS event source with partial batch failures (docs/notifications.md).

Each record is one queued notification (``orgconnect.domain.notifications.Notification``); the
application logic is ``orgconnect.workers.notifications``. A record that raises (the client's URL
answered non-2xx or was unreachable after the retries, or is not an allowed destination) is
reported in ``batchItemFailures``: SQS redelivers it after the visibility timeout and moves it to
the dead-letter queue after maxReceiveCount receives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orgconnect import delegated_runtime, settings, sqs_batch
from orgconnect.domain.notifications import Notification
from orgconnect.observability import observed

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

settings.validate(settings.NOTIFICATIONS_WORKER_FUNCTION)
NOTIFICATIONS = sqs_batch.RecordReport(
    retried="notification will be retried",
    failed_metric="NotificationsFailed",
    done_metric="NotificationsDelivered",
    handled="notification handled",
    failure_detail=True,  # the delivery errors name a status, a refusal or an error type: no secret, no body
)


def record_handler(record: SQSRecord) -> str:
    """One queued notification: its outcome, or an exception that fails this record only."""
    notification = sqs_batch.parse_body(record, Notification.from_message)
    context = {
        "notification_id": notification.notification_id,
        "type": str(notification.type),
        "client_id": notification.client_id,
    }
    return NOTIFICATIONS.run(
        record, lambda: delegated_runtime.notifications_worker().handle(notification), context
    )


process_batch = sqs_batch.partial_batch_handler(record_handler)


@observed()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_batch(event, context)
