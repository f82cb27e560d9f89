"""One in-process dev stack for the flow tests (real moto server, simulators, local API Gateway)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.stack import DevStack, StackOptions
from tests.flow.harness import Browser, FlowStack

# Short provider timeouts keep the timeout-fault tests quick (the simulator holds for longer).
PROVIDER_TIMEOUT = "1"


@pytest.fixture(scope="session")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlowStack]:
    saved = dict(os.environ)
    for key in [k for k in os.environ if k.startswith(("AWS_", "ORGCONNECT_", "POWERTOOLS_"))]:
        del os.environ[key]
    stack = DevStack(StackOptions(state_dir=Path(tmp_path_factory.mktemp("flowstack"))))
    try:
        info = stack.start()
        os.environ["ORGCONNECT_PROVIDER_TIMEOUT_SECONDS"] = PROVIDER_TIMEOUT
        from orgconnect import runtime

        runtime.reset()
        yield FlowStack(stack, info)
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)
        from orgconnect import runtime

        runtime.reset()


@pytest.fixture
def browser(flow: FlowStack) -> Browser:
    return Browser(flow)


@pytest.fixture(autouse=True)
def _clean_simulators(flow: FlowStack) -> Iterator[None]:
    """Faults or forced errors of one test never leak into the next."""
    yield
    for started in flow.stack.simulators.values():
        started.simulator.clear_faults()


@pytest.fixture
def service_logs() -> Iterator[list[str]]:
    """Every line the service logger writes during the test, formatted as in production (DEBUG)."""
    import logging

    from orgconnect.web.api import logger

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
        logger.removeHandler(handler)
        logger.setLevel(previous)
