"""A dev stack of its own for the delegated-access tests: the real SQS event source, with a
1-second visibility timeout (redelivery without waiting the queue's 12 minutes) and callbacks
retried twice with short backoff; plus a callback receiver on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from devstack.servers import RunningServer, serve_wsgi
from tests.flow.harness import FlowStack
from tests.package_stack import package_stack

CALLBACK_ATTEMPTS = 2


@dataclass
class CallbackReceiver:
    """Records every POST by path; ``fail[path] = n`` answers 503 to the next n posts there."""

    received: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    fail: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: RunningServer | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self.lock:
            self.attempts[request.path] = self.attempts.get(request.path, 0) + 1
            if self.fail.get(request.path, 0) > 0:
                self.fail[request.path] -= 1
                return Response("unavailable", 503)(environ, start_response)
            self.received.setdefault(request.path, []).append(json.loads(request.get_data()))
        return Response("", 204)(environ, start_response)

    def url(self, path: str) -> str:
        assert self.server is not None
        return f"{self.server.url}{path}"


@pytest.fixture(scope="package")
def delegated_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlowStack]:
    env = {
        "ORGCONNECT_CALLBACK_ATTEMPTS": str(CALLBACK_ATTEMPTS),
        "ORGCONNECT_CALLBACK_BACKOFF_SECONDS": "0.05",
        "ORGCONNECT_CALLBACK_TIMEOUT_SECONDS": "2",
    }
    with package_stack(Path(tmp_path_factory.mktemp("delegated")), "delegated", env) as flow:
        yield flow


@pytest.fixture(scope="package")
def receiver() -> Iterator[CallbackReceiver]:
    app = CallbackReceiver()
    app.server = serve_wsgi(app, name="callbacks")
    yield app
    app.server.stop()
