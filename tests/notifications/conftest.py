"""A dev stack of its own for the notification flow tests: the real SQS event sources, a 1-second
visibility timeout (a redelivery without waiting 12 minutes), notifications tried twice per
receive with short backoff; and a notification receiver on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.flow.harness import Browser, FlowStack
from tests.notifications.integrator import Integrator
from tests.notifications.receiver import NotificationReceiver
from tests.package_stack import package_stack

NOTIFICATION_ATTEMPTS = 2


@pytest.fixture(scope="package")
def notify_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlowStack]:
    env = {
        "ORGCONNECT_NOTIFICATION_ATTEMPTS": str(NOTIFICATION_ATTEMPTS),
        "ORGCONNECT_NOTIFICATION_BACKOFF_SECONDS": "0.05",
        "ORGCONNECT_NOTIFICATION_TIMEOUT_SECONDS": "2",
    }
    with package_stack(Path(tmp_path_factory.mktemp("notify")), "notify", env) as flow:
        yield flow


@pytest.fixture(scope="package")
def notification_receiver() -> Iterator[NotificationReceiver]:
    running = NotificationReceiver().start()
    yield running
    running.stop()


@pytest.fixture
def browser(notify_stack: FlowStack) -> Browser:
    return Browser(notify_stack)


@pytest.fixture
def integrator(
    notify_stack: FlowStack, notification_receiver: NotificationReceiver, capsys: pytest.CaptureFixture[str]
) -> Integrator:
    return Integrator(notify_stack, notification_receiver, capsys)
