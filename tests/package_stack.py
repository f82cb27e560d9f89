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
def running_stack(options: StackOptions, env: Mapping[str, str] | None = None) -> Iterator[FlowStack]:
    """Start a dev stack from a process environment without AWS or orgconnect settings, then set
    ``env`` over its environment for the in-process functions; stop it and restore on exit."""
    from orgconnect import runtime

    saved = dict(os.environ)
    for key in [k for k in os.environ if k.startswith(("AWS_", "ORGCONNECT_", "POWERTOOLS_"))]:
        del os.environ[key]
    stack = DevStack(options)
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


@contextmanager
def package_stack(state_dir: Path, name: str, env: Mapping[str, str] | None = None) -> Iterator[FlowStack]:
    """A stack named ``orgconnect-{name}-…`` (SQS messages visible again after 1 s) run by
    ``running_stack`` with ``env``."""
    prefix = f"orgconnect-{name}-{secrets.token_hex(3)}"
    options = StackOptions(state_dir=state_dir, sqs_visibility_timeout=1, stack_prefix=prefix)
    with running_stack(options, env) as flow:
        yield flow
