"""A dev stack of a test package's own (its own queues, prefix and state), with the process
environment the in-process functions read set to it, and put back afterwards."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from devstack.stack import DevStack, StackOptions
from tests.flow.harness import FlowStack


@contextmanager
def package_stack(state_dir: Path, name: str, env: Mapping[str, str] | None = None) -> Iterator[FlowStack]:
    """Start a stack named ``orgconnect-{name}-…`` (SQS messages visible again after 1 s), then
    set ``env`` over its environment for the package's functions; stop it and restore on exit."""
    from orgconnect import runtime

    saved = dict(os.environ)
    for key in [k for k in os.environ if k.startswith(("AWS_", "ORGCONNECT_", "POWERTOOLS_"))]:
        del os.environ[key]
    stack = DevStack(
        StackOptions(
            state_dir=state_dir,
            sqs_visibility_timeout=1,
            stack_prefix=f"orgconnect-{name}-{secrets.token_hex(3)}",
        )
    )
    try:
        info = stack.start()
        os.environ.update(env or {})
        runtime.reset()
        yield FlowStack(stack, info)
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)
        runtime.reset()
