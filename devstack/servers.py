"""Run WSGI apps on 127.0.0.1 in background threads, and stop them cleanly.

Every server of the dev stack and of the tests goes through here, so all of them bind loopback
only and can be started on a free port (port 0) and stopped deterministically.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

LOOPBACK = "127.0.0.1"

WSGIApp = Callable[..., Any]


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's request handler without the per-request access log line.

    Access lines would print query strings, and query strings carry codes and link tokens.
    """

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


@dataclass
class RunningServer:
    """A WSGI server serving on loopback in a daemon thread."""

    name: str
    server: BaseWSGIServer
    thread: threading.Thread = field(repr=False)

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def stop(self) -> None:
        """Stop accepting requests and wait for the serving thread to end."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def serve_wsgi(app: WSGIApp, *, name: str, port: int = 0) -> RunningServer:
    """Serve `app` on 127.0.0.1:`port` (0 picks a free port) in a background thread."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server(LOOPBACK, port, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name=f"serve-{name}", daemon=True)
    thread.start()
    return RunningServer(name=name, server=server, thread=thread)
