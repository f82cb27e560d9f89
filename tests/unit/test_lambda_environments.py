"""The local API Gateway gives each concurrent invocation its own execution environment, as Lambda
does: per-request state in a handler module (Powertools' resolver) is never shared between threads."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from devstack.lambda_environments import ExecutionEnvironments
from devstack.template import FunctionSpec


def _spec() -> FunctionSpec:
    return FunctionSpec(
        logical_id="Fn",
        code_dir=Path("."),
        handler="app.lambda_handler",
        environment={},
        timeout=3,
        memory=128,
        routes=(),
    )


def test_sequential_invocations_reuse_one_warm_environment() -> None:
    loads: list[int] = []

    def load(_: FunctionSpec, instance: int) -> Any:
        loads.append(instance)
        return lambda event, context: instance

    environments = ExecutionEnvironments(_spec(), load)
    for _ in range(3):
        with environments.invocation() as handler:
            assert handler({}, None) == 0
    assert loads == [0]


def test_parallel_invocations_never_share_an_environment() -> None:
    environments = ExecutionEnvironments(_spec(), lambda _, instance: lambda event, context: instance)
    inside = threading.Barrier(4)
    seen: list[int] = []

    def invoke() -> None:
        with environments.invocation() as handler:
            seen.append(handler({}, None))
            inside.wait(timeout=10)  # all four hold an environment at once

    threads = [threading.Thread(target=invoke) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == [0, 1, 2, 3]
    assert environments.created == 4
