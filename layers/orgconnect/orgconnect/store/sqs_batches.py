"""SendMessageBatch for the queues that must take every message of a request (delegated access,
connection sync): ten a call, the refused entries sent once more (SQS's advice for partial
failures), then TemporarilyUnavailable, so the caller's request or message is retried whole.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from orgconnect.domain.errors import TemporarilyUnavailable

SQS_BATCH = 10  # SendMessageBatch's limit


def send_all(sqs: Any, queue_url: str, messages: Sequence[Mapping[str, Any]]) -> None:
    """Queue every message as compact JSON; TemporarilyUnavailable when SQS fails or leaves one unsent."""
    from botocore.exceptions import BotoCoreError, ClientError

    for start in range(0, len(messages), SQS_BATCH):
        entries = [
            {"Id": str(i), "MessageBody": json.dumps(dict(m), separators=(",", ":"))}
            for i, m in enumerate(messages[start : start + SQS_BATCH])
        ]
        try:
            failed = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed")
            if failed:
                again = [e for e in entries if e["Id"] in {f["Id"] for f in failed}]
                failed = sqs.send_message_batch(QueueUrl=queue_url, Entries=again).get("Failed")
        except (ClientError, BotoCoreError) as error:
            raise TemporarilyUnavailable(f"SendMessageBatch: {type(error).__name__}") from error
        if failed:
            raise TemporarilyUnavailable("SendMessageBatch left messages unsent")
