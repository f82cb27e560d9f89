"""Nothing secret or personal reaches the logs of delegated access: not the service-account token,
not the code, not the callback URL, not the email (at DEBUG, as formatted in production)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, cast

import pytest

from orgconnect.observability import logger
from tests.delegated.conftest import CallbackReceiver
from tests.delegated.test_delegated_access_flow import one, request_access, wait_callbacks
from tests.flow.harness import FlowStack


@pytest.fixture
def logged() -> Iterator[list[str]]:
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(logger.registered_formatter)
    previous = logger.log_level
    logger.addHandler(handler)
    logger.setLevel("DEBUG")
    try:
        yield lines
    finally:
        cast(Any, logger).removeHandler(handler)  # delegated to the stdlib logger
        logger.setLevel(previous)


def test_no_token_code_email_or_callback_url_in_the_logs(
    delegated_stack: FlowStack, receiver: CallbackReceiver, logged: list[str]
) -> None:
    flow = delegated_stack
    found, unknown = flow.info["demo"]["zoom_active"][26], "who.is.this@example.com"
    paths = []
    for email in (found, unknown):
        path, body = one(receiver, email)
        assert request_access(flow, body).status_code == 202
        paths.append(path)
    code = wait_callbacks(receiver, paths[0])[0]["authorization"]["code"]
    wait_callbacks(receiver, paths[1])
    text = "\n".join(logged)
    assert "delegated access answered" in text  # the worker's lines were captured
    for secret in (flow.info["service_account_token"], code, found, unknown, *paths):
        assert secret not in text
