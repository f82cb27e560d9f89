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

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from orgconnect import settings, sqs_batch, sync_runtime
from orgconnect.observability import logger, metrics, observed
from orgconnect.workers.connection_sync import SyncMessage
from orgconnect.workers.connection_sync_driver import fan_out, handle_message

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

settings.validate(settings.CONNECTION_SYNC_WORKER_FUNCTION)
CHUNKS = sqs_batch.RecordReport(
    retried="connection sync chunk will be retried",
    failed_metric="ConnectionSyncChunkFailed",
    done_metric="ConnectionSyncChunks",
)


def record_handler(record: SQSRecord) -> str:
    """One sync message: its outcome, or an exception that fails this record only."""
    message = sqs_batch.parse_body(record, SyncMessage.from_message)
    return CHUNKS.run(
        record,
        lambda: handle_message(sync_runtime.connection_sync_job(), sync_runtime.sync_queue(), message),
        {"connection_id": message.connection_id, "sync_id": message.sync_id},
    )


process_batch = sqs_batch.partial_batch_handler(record_handler)


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
    return process_batch(event, context)
