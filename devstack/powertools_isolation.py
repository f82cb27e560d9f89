"""Each request of the local stack sees its own event in Powertools' event handler.

``ApiGatewayResolver.resolve`` keeps the request being handled on the ``BaseRouter`` *class*
(``BaseRouter.current_event = ...``): one per process, which is right on Lambda, where a process
serves one request at a time. The local stack serves every function's requests on threads of one
process, so a request could read another's event (seen as a 422 "email is required" for a body
that was sent, while a simulator's webhook was being handled). Here those two attributes are kept
per thread; production code is untouched.
"""

from __future__ import annotations

import threading
from abc import ABCMeta
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

_PER_REQUEST = ("current_event", "lambda_context")


class _PerThread(threading.local):
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}


_state = _PerThread()


class _PerThreadRouterState(ABCMeta):
    """BaseRouter's metaclass here: its per-request attributes are set for this thread only."""

    def __setattr__(cls, name: str, value: Any) -> None:
        if cls is BaseRouter and name in _PER_REQUEST:
            _state.values[name] = value
        else:
            super().__setattr__(name, value)


def _per_thread(name: str) -> property:
    def get(_router: Any) -> Any:
        try:
            return _state.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def put(_router: Any, value: Any) -> None:
        _state.values[name] = value

    return property(get, put)


def isolate_requests_per_thread() -> None:
    """Keep ``BaseRouter.current_event`` and ``lambda_context`` per thread (idempotent)."""
    if type(BaseRouter) is _PerThreadRouterState:
        return
    for name in _PER_REQUEST:
        type.__setattr__(BaseRouter, name, _per_thread(name))
    setattr(BaseRouter, "__class__", _PerThreadRouterState)  # noqa: B010 (mypy: __class__ of a class)
