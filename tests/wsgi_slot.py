"""One loopback WSGI server for a test module, whose app each test plugs in (a fresh simulator a test)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from devstack.servers import RunningServer, serve_wsgi


class Slot:
    """The WSGI app the server serves: whatever a test last plugged in."""

    def __init__(self) -> None:
        self.app: Callable[..., Any] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        assert self.app is not None
        return self.app(environ, start_response)


@contextmanager
def slot_server(name: str) -> Iterator[tuple[RunningServer, Slot]]:
    """A server on 127.0.0.1 (a free port) serving an empty Slot; stopped when the block ends."""
    slot = Slot()
    server = serve_wsgi(slot, name=name)
    try:
        yield server, slot
    finally:
        server.stop()
