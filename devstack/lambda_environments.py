"""Lambda's concurrency model, locally: one execution environment serves one invocation at a time.

A function's handler module keeps per-request state (Powertools' resolver holds the current event
and route), so parallel requests must not share one loaded module. Like Lambda scaling out, a busy
function gets another environment: its handler module loaded again under another name.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from devstack.template import FunctionSpec

LambdaHandler = Callable[[dict[str, Any], Any], Any]


class ExecutionEnvironments:
    """The warm environments of one function; ``load(instance)`` imports a fresh handler."""

    def __init__(self, spec: FunctionSpec, load: Callable[[FunctionSpec, int], LambdaHandler]) -> None:
        self.spec = spec
        self._load = load
        self._lock = threading.Lock()
        self._idle: list[LambdaHandler] = [load(spec, 0)]
        self.created = 1

    @contextmanager
    def invocation(self) -> Iterator[LambdaHandler]:
        """A handler no other invocation is using until this one returns."""
        with self._lock:
            handler = self._idle.pop() if self._idle else None
            if handler is None:
                instance = self.created
                self.created += 1
        if handler is None:
            handler = self._load(self.spec, instance)
        try:
            yield handler
        finally:
            with self._lock:
                self._idle.append(handler)
