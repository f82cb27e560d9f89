"""The delegated-access worker: an SQS event source with partial batch failures (SPEC 4).

Each record is one queued request (``orgconnect.domain.delegated_access``); the application logic
is ``orgconnect.workers.delegated_access``. A record that raises (a provider outage, a callback
that stays undeliverable) is reported in ``batchItemFailures``: SQS redelivers it after the
visibility timeout and moves it to the dead-letter queue after maxReceiveCount receives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orgconnect import delegated_runtime, settings, sqs_batch
from orgconnect.domain.delegated_access import DelegatedAccessRequest
from orgconnect.observability import observed
from orgconnect.workers.provisioning_departures import AccountDeparture, is_departure

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

settings.validate(settings.DELEGATED_ACCESS_WORKER_FUNCTION)
REQUESTS = sqs_batch.RecordReport(
    retried="delegated access will be retried",
    failed_metric="DelegatedAccessFailed",
    done_metric="DelegatedAccessAnswered",
    handled="delegated access answered",
)


def _departure_or_request(body: Any) -> str | DelegatedAccessRequest:
    """A departure (a revocation with request_pii_erasure, docs/provisioning.md) is handled here
    and its outcome returned; any other body is a delegated-access request."""
    if is_departure(body):
        return delegated_runtime.departures().handle(AccountDeparture.from_message(body))
    return DelegatedAccessRequest.from_message(body)


def record_handler(record: SQSRecord) -> str:
    """One queued request: its outcome, or an exception that fails this record only."""
    request = sqs_batch.parse_body(record, _departure_or_request)
    if isinstance(request, str):
        return request
    return REQUESTS.run(
        record,
        lambda: delegated_runtime.worker().handle(request, record.message_id),
        {"message_id": record.message_id},
    )


process_batch = sqs_batch.partial_batch_handler(record_handler)


@observed()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_batch(event, context)
