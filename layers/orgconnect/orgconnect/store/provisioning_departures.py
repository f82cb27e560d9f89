"""Account departures (workers/provisioning_departures.py) sent to the delegated-access queue."""

from __future__ import annotations

import json
from typing import Any

from orgconnect.domain.errors import TemporarilyUnavailable


class SqsAccountDepartures:
    """One SendMessage per departing account (a revocation names one subject)."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self._queue_url = queue_url

    def send(self, message: dict[str, str]) -> None:
        """Queue ``message``; TemporarilyUnavailable when SQS fails (the caller answers 503)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._sqs.send_message(
                QueueUrl=self._queue_url, MessageBody=json.dumps(message, separators=(",", ":"))
            )
        except (ClientError, BotoCoreError) as error:
            raise TemporarilyUnavailable(f"SendMessage: {type(error).__name__}") from error
