"""Fault injection (``/_sim/faults``): the next N matching provider calls answer with a fault.

Kinds: an HTTP status (``"500"``, ``"503"``, any 4xx/5xx: the provider's error body),
``"429"`` (the provider's rate-limit answer), ``"timeout"`` (held for ``delay_seconds``, then
504), ``"invalid_grant"`` / ``"invalid_client"`` (the provider's token-endpoint errors) and
``"malformed"`` (200 with a body that is not the JSON the client expects: an HTML page by
default, or exactly ``body`` with ``content_type``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol

from werkzeug.wrappers import Request, Response

from devstack.simulators.http_helpers import ControlError

#: Fault kinds understood by every simulator besides plain HTTP statuses ("500", "503", ...).
SPECIAL_FAULT_KINDS = frozenset({"timeout", "invalid_grant", "invalid_client", "429", "malformed"})

#: What a ``malformed`` fault answers by default: what a captive portal or a misrouted proxy sends.
MALFORMED_HTML = (
    "<!doctype html><html><head><title>Service temporarily unavailable</title></head>"
    "<body><h1>Service temporarily unavailable</h1><p>Please try again later.</p></body></html>"
)
MALFORMED_HTML_TYPE = "text/html; charset=utf-8"

REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class Fault:
    """An injected fault: the next ``remaining`` calls matching ``target`` answer with ``kind``.

    ``body`` and ``content_type`` are the answer of a ``malformed`` fault (None: the HTML page).
    """

    fault_id: int
    target: str
    kind: str
    remaining: int
    delay_seconds: float
    path_prefix: str | None = None
    body: str | None = None
    content_type: str | None = None

    def matches(self, target: str, path: str) -> bool:
        """Whether a call to ``path`` on a route of ``target`` triggers this fault."""
        if self.target not in ("*", target):
            return False
        return self.path_prefix is None or path.startswith(self.path_prefix)

    def public(self) -> dict[str, Any]:
        """JSON form for the control API."""
        shown: dict[str, Any] = {
            "id": self.fault_id,
            "target": self.target,
            "kind": self.kind,
            "remaining": self.remaining,
            "delay_seconds": self.delay_seconds,
            "path_prefix": self.path_prefix,
        }
        if self.kind == "malformed":
            shown.update(body=self.body, content_type=self.content_type)
        return shown


class ProviderErrors(Protocol):
    """The provider-specific answers a fault borrows (hooks of ``Simulator``)."""

    def error_response(self, status: int, message: str, request: Request) -> Response:
        """The provider's error body for an HTTP status."""

    def oauth_error_response(self, error: str, description: str, status: int = 400) -> Response:
        """The provider's token-endpoint error."""

    def rate_limited_response(self, request: Request, target: str) -> Response:
        """The provider's 429."""


class FaultBoard:
    """The armed faults, and the event that lets go of requests held by ``timeout`` faults."""

    def __init__(self, lock: threading.RLock, default_delay_seconds: float) -> None:
        self._lock = lock
        self.default_delay_seconds = default_delay_seconds
        self._faults: list[Fault] = []
        self._seq = 0
        self._release = threading.Event()

    def add(
        self,
        target: str,
        kind: str,
        count: int = 1,
        *,
        delay_seconds: float | None = None,
        path_prefix: str | None = None,
        body: str | None = None,
        content_type: str | None = None,
    ) -> Fault:
        """Arm a fault for the next ``count`` calls to routes of ``target`` (``ControlError(400)``)."""
        if kind not in SPECIAL_FAULT_KINDS and not (kind.isdigit() and 400 <= int(kind) <= 599):
            raise ControlError(400, f"unknown fault kind {kind!r}")
        if count < 1:
            raise ControlError(400, "count must be at least 1")
        if kind != "malformed" and (body is not None or content_type is not None):
            raise ControlError(400, "body and content_type belong to the malformed kind only")
        if content_type is not None and not content_type.strip():
            raise ControlError(400, "content_type must not be empty")
        with self._lock:
            self._seq += 1
            fault = Fault(
                fault_id=self._seq,
                target=target,
                kind=kind,
                remaining=count,
                delay_seconds=self.default_delay_seconds if delay_seconds is None else delay_seconds,
                path_prefix=path_prefix,
                body=body,
                content_type=content_type,
            )
            self._faults.append(fault)
            return fault

    def public(self) -> list[dict[str, Any]]:
        """The armed faults in their JSON form."""
        with self._lock:
            return [f.public() for f in self._faults]

    def clear(self) -> None:
        """Disarm every fault (held requests are not released: see ``release_held``)."""
        with self._lock:
            self._faults.clear()

    def take(self, target: str, path: str) -> Fault | None:
        """The first fault matching this call, counted down (and disarmed when spent)."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(target, path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def release_held(self) -> None:
        """Answer every request currently held by a ``timeout`` fault now."""
        with self._lock:
            release, self._release = self._release, threading.Event()
        release.set()

    def hold(self, seconds: float) -> None:
        """Block for ``seconds`` or until ``release_held`` is called."""
        with self._lock:
            release = self._release
        release.wait(seconds)

    def answer(self, fault: Fault, request: Request, target: str, provider: ProviderErrors) -> Response:
        """What a call hit by ``fault`` answers, in ``provider``'s shapes."""
        if fault.kind == "timeout":
            self.hold(fault.delay_seconds)
            return provider.error_response(504, "Gateway Timeout", request)
        if fault.kind == "429":
            return provider.rate_limited_response(request, target)
        if fault.kind == "invalid_grant":
            return provider.oauth_error_response("invalid_grant", "Invalid Token!")
        if fault.kind == "invalid_client":
            return provider.oauth_error_response("invalid_client", "Invalid client_id or client_secret", 401)
        if fault.kind == "malformed":
            return malformed_response(fault)
        status = int(fault.kind)
        return provider.error_response(status, REASONS.get(status, "Injected fault"), request)


def malformed_response(fault: Fault) -> Response:
    """200 with the fault's body: the HTML page by default; a given body is JSON unless typed."""
    if fault.body is None:
        body, content_type = MALFORMED_HTML, fault.content_type or MALFORMED_HTML_TYPE
    else:
        body, content_type = fault.body, fault.content_type or "application/json"
    response = Response(body.encode("utf-8"), status=200)
    response.headers["Content-Type"] = content_type
    response.headers["Cache-Control"] = "no-store"
    return response
