"""A notification receiver on 127.0.0.1 that checks every POST with the verification recipe of
docs/notifications.md (the code block itself, executed), as an integrator would."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from devstack.servers import RunningServer, serve_wsgi

DOCS = Path(__file__).resolve().parents[2] / "docs" / "notifications.md"
Verifier = Callable[[str, str | None, str | None, bytes], bool]


def documented_verifier() -> Verifier:
    """``verify_notification`` from the page's Python block (so the documented recipe is tested)."""
    text = DOCS.read_text()
    (code,) = [
        block
        for block in re.findall(r"```python\n(.*?)```", text, re.S)
        if "def verify_notification" in block
    ]
    namespace: dict[str, Any] = {}
    exec(compile(code, str(DOCS), "exec"), namespace)  # noqa: S102 - our own documentation
    verifier: Verifier = namespace["verify_notification"]
    return verifier


@dataclass
class NotificationReceiver:
    """Records verified notifications by path; ``fail[path] = n`` answers 503 to the next n POSTs,
    ``answer[path] = (status, headers)`` answers that instead. Unverified POSTs get 401."""

    secrets: dict[str, str] = field(default_factory=dict)  # path -> the client's secret
    received: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    fail: dict[str, int] = field(default_factory=dict)
    answer: dict[str, tuple[int, dict[str, str]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    verify: Verifier = field(default_factory=documented_verifier)
    server: RunningServer | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data()
        path = request.path
        with self.lock:
            self.attempts[path] = self.attempts.get(path, 0) + 1
            if path in self.answer:
                status, headers = self.answer[path]
                return Response("", status, headers)(environ, start_response)
            if self.fail.get(path, 0) > 0:
                self.fail[path] -= 1
                return Response("unavailable", 503)(environ, start_response)
            secret = self.secrets.get(path, "")
            timestamp = request.headers.get("Orgconnect-Timestamp")
            signature = request.headers.get("Orgconnect-Signature")
            if not self.verify(secret, timestamp, signature, body):
                self.refused[path] = self.refused.get(path, 0) + 1
                return Response("bad signature", 401)(environ, start_response)
            self.received.setdefault(path, []).append(json.loads(body))
        return Response("", 204)(environ, start_response)

    def url(self, path: str) -> str:
        assert self.server is not None
        return f"{self.server.url}{path}"

    def start(self) -> NotificationReceiver:
        self.server = serve_wsgi(self, name="notifications")
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
