"""The process's HTTP connections to the providers: one pooled httpx client per provider origin,
kept alive across Lambda invocations, and the timeouts of a call. httpx loads on first use."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from msgspec import Struct

if TYPE_CHECKING:
    import httpx


class Timeouts(Struct, frozen=True):
    """Seconds to connect and to wait for each read (and write, and a pooled connection)."""

    connect: float = 3.0
    read: float = 10.0

    def for_httpx(self) -> httpx.Timeout:
        import httpx

        return httpx.Timeout(self.read, connect=self.connect)


_pool: dict[tuple[str, object], httpx.Client] = {}
_pool_lock = threading.Lock()


def pooled_client(origin: str, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """The process's httpx client for ``origin`` (kept alive across Lambda invocations)."""
    import httpx

    key = (origin, transport)
    with _pool_lock:
        client = _pool.get(key)
        if client is None:
            # Never follow redirects: the bearer token must not travel to another host.
            client = httpx.Client(transport=transport, follow_redirects=False)
            _pool[key] = client
        return client


def close_pooled_clients() -> None:
    """Close every pooled client (tests; a process that is about to end)."""
    with _pool_lock:
        clients = list(_pool.values())
        _pool.clear()
    for client in clients:
        client.close()


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
