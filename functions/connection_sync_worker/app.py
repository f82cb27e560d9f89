"""The connection sync worker (docs/sync.md): an SQS event source with partial batch failures, and
the scheduled reconcile (an EventBridge schedule).

Each SQS record is one sync message (``orgconnect.workers.connection_sync``): a new sync, or one
bounded chunk of a running one, which queues the next chunk itself. A record that raises (a
provider outage, SQS refusing the next message) is reported in ``batchItemFailures``: SQS
redelivers it and the chunk resumes at the saved cursor; after maxReceiveCount receives it goes
to the dead-letter queue. A scheduled event queues one new sync per linked connection and renews
the Teams/Meet user-change subscriptions about to expire.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from orgconnect import settings, sync_runtime
from orgconnect.observability import logger, metrics, observed
from orgconnect.workers.connection_sync import SyncMessage
from orgconnect.workers.connection_sync_driver import fan_out, handle_message

settings.validate(settings.CONNECTION_SYNC_WORKER_FUNCTION)
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class MalformedMessage(Exception):
    """A record whose body is not a sync message (it fails, and ends in the DLQ for an operator)."""


def record_handler(record: SQSRecord) -> str:
    """One sync message: its outcome, or an exception that fails this record only."""
    try:
        message = SyncMessage.from_message(json.loads(record.body))
    except (ValueError, KeyError, TypeError) as error:
        raise MalformedMessage(type(error).__name__) from None
    try:
        outcome = handle_message(sync_runtime.connection_sync_job(), sync_runtime.sync_queue(), message)
    except Exception as error:
        logger.warning(
            "connection sync chunk will be retried",
            extra={
                "connection_id": message.connection_id,
                "sync_id": message.sync_id,
                "receive_count": record.attributes.approximate_receive_count,
                "why": type(error).__name__,
            },
        )
        metrics.add_metric(name="ConnectionSyncChunkFailed", unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name="ConnectionSyncChunks", unit=MetricUnit.Count, value=1)
    return outcome


def scheduled_reconcile() -> dict[str, Any]:
    """The schedule: one new-sync message per linked connection."""
    queued = fan_out(sync_runtime.linked_connections(), sync_runtime.sync_queue())
    metrics.add_metric(name="ConnectionSyncsScheduled", unit=MetricUnit.Count, value=queued)
    _renew_user_subscriptions()
    return {"scheduled": queued}


def _renew_user_subscriptions() -> None:
    """Teams/Meet user-change subscriptions that expire within 3 days are extended or replaced
    (docs/webhooks.md); a failure is logged and the next run tries again."""
    from orgconnect import runtime, subscriptions_runtime

    try:
        outcome = subscriptions_runtime.renew_subscriptions(runtime.now())
    except Exception as error:  # the syncs are queued already; the 3-day margin covers a missed run
        logger.error("user-change subscriptions not renewed", extra={"why": type(error).__name__})
        metrics.add_metric(name="SubscriptionRenewalsFailed", unit=MetricUnit.Count, value=1)
        return
    logger.info(
        "user-change subscriptions renewed",
        extra={
            "renewed": outcome.renewed,
            "replaced": outcome.replaced,
            "dropped": outcome.dropped,
            "failed": outcome.failed,
        },
    )
    metrics.add_metric(name="SubscriptionRenewalsFailed", unit=MetricUnit.Count, value=len(outcome.failed))


@observed()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("detail-type") == "Scheduled Event":
        return scheduled_reconcile()
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
