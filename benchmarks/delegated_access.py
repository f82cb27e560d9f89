"""Delegated access on the in-process dev stack (run in a fresh process by `make bench`).

Links Zoom to the demo OU, then measures, from the POST to /v1/service_account_authorizations
until the callbacks have arrived at a receiver on 127.0.0.1:

- a batch of 50 emails in one POST, first on the freshly linked connection: wall time and the
  DynamoDB / provider calls (goal: one directory listing per connection for the whole batch);
- one hit (an email whose Zoom user is in the stored directory) and one miss (an email with no
  Zoom user: one lookup expected), both of accounts the batch created.

Every wait is bounded: a missing callback fails the bench with a message, never hangs it.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from werkzeug.wrappers import Request, Response

from devstack.browser import ScriptedBrowser
from devstack.instrument import count_aws_calls
from devstack.integrator import IntegratorConfig, authorization_url, mint_link_token
from devstack.servers import serve_wsgi
from devstack.stack import DevStack, StackOptions

BATCH_SIZE = 50
CALLBACK_TIMEOUT_SECONDS = float(os.environ.get("BENCH_CALLBACK_TIMEOUT", "120"))
# A path segment that names one object (an email, an id), so calls group by endpoint.
_OBJECT_SEGMENT = re.compile(r"^(?!v\d+$).*(@|%40|\d)")


class BenchFailure(RuntimeError):
    """The bench could not measure (a request refused, a callback that never came)."""


class CallbackReceiver:
    """Records the JSON body of every POST, by path; answers 204."""

    def __init__(self) -> None:
        self.received: dict[str, list[dict[str, Any]]] = {}
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self.lock:
            self.received.setdefault(request.path, []).append(json.loads(request.get_data()))
        return Response("", 204)(environ, start_response)

    def count(self, paths: list[str]) -> int:
        """How many of ``paths`` have had their callback."""
        with self.lock:
            return sum(1 for path in paths if self.received.get(path))


def _wait(done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + CALLBACK_TIMEOUT_SECONDS
    while not done():
        if time.monotonic() > deadline:
            raise BenchFailure(f"timed out after {CALLBACK_TIMEOUT_SECONDS:.0f}s waiting for {what}")
        time.sleep(0.01)


def _endpoint(entry: dict[str, Any]) -> str:
    segments = ["{id}" if _OBJECT_SEGMENT.match(s) else s for s in str(entry["path"]).split("/")]
    return f"{entry['method']} {'/'.join(segments)}"


class DelegatedAccessBench:
    """The dev stack, the demo integrator's service-account token and a callback receiver."""

    def __init__(self, info: dict[str, Any], receiver: CallbackReceiver, callback_base: str) -> None:
        self.info = info
        self.receiver = receiver
        self.callback_base = callback_base
        self.http = httpx.Client(timeout=30)
        self.simulators = [s["base_url"] for s in info["simulators"].values()]

    def clear_provider_logs(self) -> None:
        """Empty every simulator's request log, so the next count is one measurement's."""
        for base in self.simulators:
            self.http.delete(f"{base}/_sim/requests").raise_for_status()

    def provider_calls(self) -> dict[str, int]:
        """Every simulator's logged provider calls since the last clear, by simulator and endpoint."""
        calls: Counter[str] = Counter()
        for name, sim in self.info["simulators"].items():
            log = self.http.get(f"{sim['base_url']}/_sim/requests").json()["requests"]
            calls.update(f"{name}: {_endpoint(e)}" for e in log if e.get("kind") == "request")
        return dict(sorted(calls.items()))

    def measure(self, emails: list[str]) -> dict[str, Any]:
        """One POST for ``emails``; wall time and calls until every callback has arrived."""
        entries = []
        for email in emails:
            path = f"/cb/{secrets.token_hex(6)}"
            entries.append(
                (path, {"email": email, "scope": "read_only", "callback_url": self.callback_base + path})
            )
        body: dict[str, Any] = (
            entries[0][1]
            if len(entries) == 1
            else {"service_account_authorizations": [b for _, b in entries]}
        )
        paths = [p for p, _ in entries]
        self.clear_provider_logs()
        with count_aws_calls() as aws:
            start = time.perf_counter()
            response = self.http.post(
                f"{self.info['api_url']}/v1/service_account_authorizations",
                headers={"Authorization": f"Bearer {self.info['service_account_token']}"},
                json=body,
            )
            if response.status_code != 202:
                raise BenchFailure(f"delegated access answered {response.status_code}: {response.text}")
            _wait(lambda: self.receiver.count(paths) == len(paths), f"{len(paths)} callback(s)")
            wall = time.perf_counter() - start
            aws_calls = dict(sorted(aws.items()))
        outcomes = Counter(
            "code" if "code" in self.receiver.received[p][0]["authorization"] else "error" for p in paths
        )
        dynamodb = sum(v for k, v in aws_calls.items() if k.startswith("dynamodb:"))
        return {
            "emails": len(emails),
            "wall time (ms)": round(wall * 1000, 1),
            "callbacks": dict(outcomes),
            "dynamodb_calls": dynamodb,
            "dynamodb_calls per email": round(dynamodb / len(emails), 1),
            "aws_calls": aws_calls,
            "provider_calls": self.provider_calls(),
        }


def link_zoom(config: IntegratorConfig) -> None:
    """The demo OU links Zoom through the scripted browser (as the matching tests do)."""
    url = authorization_url(config, mint_link_token(config), "bench", "zoom_enterprise")
    outcome = ScriptedBrowser(redirect_uri=config.redirect_uri, app_url=config.app_url).run(
        url, ou_name="Bench"
    )
    if outcome.kind != "code":
        raise BenchFailure(f"linking Zoom did not end in a code: {outcome.text}")


def _link_synced() -> bool:
    from orgconnect import runtime
    from orgconnect.store.dynamodb import from_item

    store = runtime.get_store()
    items = store.client.scan(TableName=store.table_name)["Items"]  # the bench's own small table
    return any(from_item(i)["sk"] == "SYNC" and from_item(i).get("state") == "done" for i in items)


def run(info: dict[str, Any], receiver: CallbackReceiver, callback_base: str) -> dict[str, Any]:
    """The batch on a freshly linked connection, then one hit and one miss."""
    link_zoom(IntegratorConfig().fill(info))
    # The link queued the connection's sync (docs/sync.md): the batch starts once it is done.
    _wait(_link_synced, "the linked connection's sync")
    demo = info["demo"]
    everyone = demo["zoom_active"] + demo["zoom_pending"] + demo["zoom_inactive"] + demo["no_zoom"]
    if len(everyone) < BATCH_SIZE:
        raise BenchFailure(f"the demo directory has {len(everyone)} emails, the batch needs {BATCH_SIZE}")
    bench = DelegatedAccessBench(info, receiver, callback_base)
    return {
        "batch of 50, fresh connection (one POST)": bench.measure(everyone[:BATCH_SIZE]),
        "hit (Zoom user in the stored directory)": bench.measure([demo["zoom_active"][1]]),
        "miss (no Zoom user)": bench.measure([demo["no_zoom"][0]]),
    }


def main() -> None:
    for key in [k for k in os.environ if k.startswith(("AWS_", "ORGCONNECT_", "POWERTOOLS_"))]:
        del os.environ[key]
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    receiver = CallbackReceiver()
    server = serve_wsgi(receiver, name="bench-callbacks")
    stack = DevStack(StackOptions(state_dir=Path(tempfile.mkdtemp())))
    try:
        info = stack.start()
        results = run(info, receiver, server.url)
    except BenchFailure as failure:
        sys.exit(f"delegated access bench failed: {failure}")
    finally:
        stack.stop()
        server.stop()
    print(json.dumps({"delegated_access": results}))


if __name__ == "__main__":
    main()
