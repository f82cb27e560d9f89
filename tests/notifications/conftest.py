"""A dev stack of its own for the notification flow tests: the real SQS event sources, a 1-second
visibility timeout (a redelivery without waiting 12 minutes), notifications tried twice per
receive with short backoff; and a notification receiver on 127.0.0.1."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.stack import DevStack, StackOptions
from tests.flow.harness import Browser, FlowStack
from tests.notifications.receiver import NotificationReceiver

NOTIFICATION_ATTEMPTS = 2


@pytest.fixture(scope="package")
def notify_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlowStack]:
    from orgconnect import runtime

    saved = dict(os.environ)
    for key in [k for k in os.environ if k.startswith(("AWS_", "ORGCONNECT_", "POWERTOOLS_"))]:
        del os.environ[key]
    stack = DevStack(
        StackOptions(
            state_dir=Path(tmp_path_factory.mktemp("notify")),
            sqs_visibility_timeout=1,
            stack_prefix=f"orgconnect-notify-{secrets.token_hex(3)}",
        )
    )
    try:
        info = stack.start()
        os.environ["ORGCONNECT_NOTIFICATION_ATTEMPTS"] = str(NOTIFICATION_ATTEMPTS)
        os.environ["ORGCONNECT_NOTIFICATION_BACKOFF_SECONDS"] = "0.05"
        os.environ["ORGCONNECT_NOTIFICATION_TIMEOUT_SECONDS"] = "2"
        runtime.reset()
        yield FlowStack(stack, info)
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)
        runtime.reset()


@pytest.fixture(scope="package")
def notification_receiver() -> Iterator[NotificationReceiver]:
    running = NotificationReceiver().start()
    yield running
    running.stop()


@pytest.fixture
def browser(notify_stack: FlowStack) -> Browser:
    return Browser(notify_stack)
