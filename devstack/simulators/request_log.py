"""The request log behind ``GET /_sim/requests``: every provider call, secrets redacted."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from werkzeug.wrappers import Request, Response

from devstack.simulators.faults import Fault
from devstack.simulators.http_helpers import redact_params, request_params


class RequestLog:
    """A bounded, numbered log of provider calls and webhook deliveries, oldest first."""

    def __init__(self, lock: threading.RLock, size: int) -> None:
        self._lock = lock
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._seq = 0

    def add(self, entry: dict[str, Any]) -> None:
        """Append ``entry`` (already free of secret values) with the next sequence number."""
        with self._lock:
            self._seq += 1
            self._entries.append({"seq": self._seq, **entry})

    def add_call(
        self, request: Request, response: Response, target: str, fault: Fault | None, now: float
    ) -> None:
        """Record one provider call: parameters redacted, only the scheme of ``Authorization``."""
        auth = request.headers.get("Authorization", "")
        self.add(
            {
                "kind": "request",
                "time": now,
                "method": request.method,
                "path": request.path,
                "target": target,
                "params": redact_params(request_params(request)),
                "auth_scheme": auth.partition(" ")[0] or None,
                "status": response.status_code,
                "fault": fault.kind if fault else None,
            }
        )

    def entries(self) -> list[dict[str, Any]]:
        """A copy of the log, oldest first."""
        with self._lock:
            return [dict(entry) for entry in self._entries]

    def clear(self) -> None:
        """Empty the log (sequence numbers keep counting)."""
        with self._lock:
            self._entries.clear()
