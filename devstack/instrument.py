"""Count the AWS API calls a piece of code makes (every botocore client, whoever created it).

Used by the tests and by `make bench` (AWS calls per request)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.client import BaseClient

_local = threading.local()
#: Name prefixes of the threads that run queue workers and schedules (devstack/sqs_events.py, schedules.py).
BACKGROUND_THREADS = ("sqs-", "schedule-")


@contextmanager
def not_counted() -> Iterator[None]:
    """AWS calls the local stack makes on its own behalf (an event source polling its queue), which
    no function made and no count should include."""
    _local.plumbing = True
    try:
        yield
    finally:
        _local.plumbing = False


@contextmanager
def count_aws_calls(*, requests_only: bool = False) -> Iterator[Counter[str]]:
    """Yield a Counter of ``service:Operation`` filled while the block runs. ``requests_only``:
    only calls made while serving HTTP requests, not those of the queue workers and schedules the
    stack runs meanwhile on their own threads (``sqs-…``, ``schedule-…``)."""
    calls: Counter[str] = Counter()
    # A private botocore hook every client call goes through (not in the type stubs).
    original = getattr(BaseClient, "_make_api_call")  # noqa: B009

    def counting(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        background = threading.current_thread().name.startswith(BACKGROUND_THREADS)
        if not getattr(_local, "plumbing", False) and not (requests_only and background):
            calls[f"{self.meta.service_model.service_name}:{operation_name}"] += 1
        return original(self, operation_name, api_params)

    setattr(BaseClient, "_make_api_call", counting)  # noqa: B010
    try:
        yield calls
    finally:
        setattr(BaseClient, "_make_api_call", original)  # noqa: B010
