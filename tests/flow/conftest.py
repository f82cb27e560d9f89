"""One in-process dev stack for the flow tests (real moto server, simulators, local API Gateway),
and for the race tests a second one whose DynamoDB is AWS's DynamoDB Local."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.dynamodb_local import DynamoDBLocal
from devstack.stack import DevStack, StackOptions
from tests.conftest import DYNAMODB_LOCAL, MOTO
from tests.flow.harness import Browser, FlowStack
from tests.package_stack import running_stack

# Short provider timeouts keep the timeout-fault tests quick (the simulator holds for longer).
PROVIDER_TIMEOUT = "1"


def _clear_service_environment() -> None:
    for key in [k for k in os.environ if k.startswith(("AWS_", "ORGCONNECT_", "POWERTOOLS_"))]:
        del os.environ[key]


def _use_environment(env: dict[str, str]) -> None:
    """Make ``env`` the process environment the in-process functions read, and drop their caches."""
    from orgconnect import runtime

    os.environ.clear()
    os.environ.update(env)
    runtime.reset()


@pytest.fixture(scope="session")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlowStack]:
    options = StackOptions(state_dir=Path(tmp_path_factory.mktemp("flowstack")))
    with running_stack(options, {"ORGCONNECT_PROVIDER_TIMEOUT_SECONDS": PROVIDER_TIMEOUT}) as stack:
        yield stack


@pytest.fixture(scope="session")
def _flow_on_dynamodb_local(
    dynamodb_local: DynamoDBLocal, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FlowStack, dict[str, str]]]:
    """A second dev stack, on the session's DynamoDB Local, with the environment its functions read.

    The functions run in this process and read os.environ, which can hold one stack's settings
    at a time: this stack's apply only while a test uses it (``flow_on_each_dynamodb``).
    """
    saved = dict(os.environ)
    _clear_service_environment()
    stack = DevStack(
        StackOptions(
            state_dir=Path(tmp_path_factory.mktemp("flowstack-dynamodb-local")),
            dynamodb="local",
            dynamodb_endpoint_url=dynamodb_local.endpoint_url,
        )
    )
    try:
        try:
            info = stack.start()
            os.environ["ORGCONNECT_PROVIDER_TIMEOUT_SECONDS"] = PROVIDER_TIMEOUT
            env = dict(os.environ)
        finally:
            _use_environment(saved)
        yield FlowStack(stack, info), env
    finally:
        stack.stop()


@pytest.fixture(params=[MOTO, DYNAMODB_LOCAL])
def flow_on_each_dynamodb(request: pytest.FixtureRequest, flow: FlowStack) -> Iterator[FlowStack]:
    """The flow stack once with moto's DynamoDB and once with DynamoDB Local, for race tests only
    (ids ``[moto]``, ``[dynamodb-local]``): moto serializes requests, DynamoDB Local does not."""
    if request.param == MOTO:
        yield flow
        return
    stack, env = request.getfixturevalue("_flow_on_dynamodb_local")
    saved = dict(os.environ)
    _use_environment(env)
    try:
        yield stack
    finally:
        _use_environment(saved)


@pytest.fixture
def browser(flow: FlowStack) -> Browser:
    return Browser(flow)


@pytest.fixture(autouse=True)
def _clean_simulators(flow: FlowStack) -> Iterator[None]:
    """Faults or forced errors of one test never leak into the next."""
    yield
    for started in flow.stack.simulators.values():
        started.simulator.clear_faults()
