"""Cold start as Lambda pays it: handler import plus the first request, in a fresh Lambda-like
interpreter per function (run in a fresh process by ``make bench``).

The dev stack runs here (moto server, the provider simulators, the local API Gateway) and the
whole OU flow is driven as an integrator and a browser would. The first request each function
receives in a run is not served in-process: it goes to a new interpreter of the Lambda-like venv
(no moto, no dev dependencies), which imports the handler and answers that one request over
HTTP against the same moto server and simulators; its answer goes back into the flow, so a
broken cold path fails the run. Later requests are served in-process as usual.

The baseline is what any function with one DynamoDB read pays: ``import boto3``, a client, one
``GetItem``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any
from unittest import mock

import httpx

from benchmarks.lambda_venv import (
    ROOT,
    lambda_like_python,
    measured_environment,
    shipped_handler,
    shipped_layer,
)
from devstack import apigw
from devstack.browser import ScriptedBrowser
from devstack.integrator import IntegratorConfig, authorization_url, mint_link_token
from devstack.lambda_environments import LambdaHandler
from devstack.stack import DevStack, StackOptions
from devstack.template import FunctionSpec

RUNS = int(os.environ.get("BENCH_RUNS", "7"))

_COLD_CHILD = """
import json, sys, time
started = time.perf_counter()
import importlib.util
sys.path.insert(0, {layer!r})
spec = importlib.util.spec_from_file_location("app", {path!r})
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module
spec.loader.exec_module(module)
imported = time.perf_counter()


class Context:
    def __init__(self, attributes):
        self.__dict__.update(attributes)

    def get_remaining_time_in_millis(self):
        return 10_000


request = json.loads(sys.stdin.read())
result = module.{handler}(request["event"], Context(request["context"]))
answered = time.perf_counter()
print("\\n" + json.dumps({{"result": result, "import": imported - started, "first": answered - imported}}))
"""

_BASELINE_CHILD = """
import json, time
started = time.perf_counter()
import boto3
imported = time.perf_counter()
boto3.client("dynamodb").get_item(TableName={table!r}, Key={{"pk": {{"S": "bench"}}, "sk": {{"S": "bench"}}}})
answered = time.perf_counter()
print("\\n" + json.dumps({{"import": imported - started, "first": answered - imported}}))
"""


def _child_env() -> dict[str, str]:
    # The stack's function environment (it set os.environ, as Lambda would) at Lambda's log level.
    return {**measured_environment(), "POWERTOOLS_LOG_LEVEL": "WARNING"}


def _run_child(code: str, stdin: str = "") -> dict[str, Any]:
    out = subprocess.run(
        [lambda_like_python(), "-c", code],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        env=_child_env(),
        cwd=ROOT,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


class ColdFirstRequests:
    """Wraps each function's handler: the first call of a run goes to a cold Lambda-like process."""

    def __init__(self) -> None:
        self.pending: set[str] = set()
        self.samples: dict[str, list[dict[str, float]]] = {}
        self._lock = threading.Lock()
        self._load = apigw.load_handler

    def arm(self, logical_ids: set[str]) -> None:
        """The next request of each of these functions is measured cold."""
        with self._lock:
            self.pending = set(logical_ids)

    def load_handler(self, spec: FunctionSpec, instance: int = 0) -> LambdaHandler:
        """Stands in for ``devstack.apigw.load_handler`` while the stack starts."""
        warm = self._load(spec, instance)
        module, _, name = spec.handler.rpartition(".")
        code = _COLD_CHILD.format(
            layer=shipped_layer(), path=shipped_handler(spec.code_dir, module), handler=name
        )

        def handler(event: dict[str, Any], context: Any) -> Any:
            with self._lock:
                cold = spec.logical_id in self.pending
                self.pending.discard(spec.logical_id)
            if not cold:
                return warm(event, context)
            attributes = {k: v for k, v in vars(context).items() if not k.startswith("_")}
            measured = _run_child(code, json.dumps({"event": event, "context": attributes}))
            self.samples.setdefault(spec.logical_id, []).append(
                {"import": measured["import"], "first": measured["first"]}
            )
            return measured["result"]

        return handler


def one_flow(config: IntegratorConfig) -> None:
    """Every function once: mint a link token, run the OU flow, redeem the code, read userinfo."""
    url = authorization_url(config, mint_link_token(config), "bench", "zoom_enterprise")
    outcome = ScriptedBrowser(redirect_uri=config.redirect_uri, app_url=config.app_url).run(
        url, ou_name="Bench"
    )
    assert outcome.kind == "code", outcome.text
    with httpx.Client(timeout=30) as http:
        token = http.post(
            f"{config.api_url}/oauth/token",
            json={
                "grant_type": "authorization_code",
                "code": outcome.params["code"],
                "redirect_uri": config.redirect_uri,
                "client_id": config.client_id,
                "client_secret": config.client_secret,
            },
        )
        assert token.status_code == 200, token.text
        userinfo = http.get(
            f"{config.api_url}/v1/userinfo",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        )
        assert userinfo.status_code == 200, userinfo.text


def _ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


def measure(runs: int = RUNS) -> dict[str, Any]:
    """Median import, first request and their sum per function, and the boto3 baseline."""
    for key in [k for k in os.environ if k.startswith(("AWS_", "ORGCONNECT_", "POWERTOOLS_"))]:
        del os.environ[key]
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    cold = ColdFirstRequests()
    stack = DevStack(StackOptions(state_dir=Path(tempfile.mkdtemp())))
    with mock.patch.object(apigw, "load_handler", cold.load_handler):  # the gateway loads them at start
        info = stack.start()
    try:
        config = IntegratorConfig().fill(info)
        functions = {spec.logical_id for spec in stack_functions()}
        one_flow(config)  # the stack's own first requests (in-process) are not measured
        baseline: list[dict[str, float]] = []
        for _ in range(runs):
            cold.arm(functions)
            one_flow(config)
            baseline.append(_run_child(_BASELINE_CHILD.format(table=os.environ["ORGCONNECT_TABLE_NAME"])))
    finally:
        stack.stop()
    base_import = [s["import"] for s in baseline]
    base_total = [s["import"] + s["first"] for s in baseline]
    report: dict[str, Any] = {
        "baseline: import boto3 + client + GetItem (ms)": _ms(base_total),
        "baseline: import boto3 (ms)": _ms(base_import),
        "functions": {},
    }
    for logical_id, samples in sorted(cold.samples.items()):
        total = [s["import"] + s["first"] for s in samples]
        report["functions"][logical_id] = {
            "import (ms)": _ms([s["import"] for s in samples]),
            "first request (ms)": _ms([s["first"] for s in samples]),
            "import + first request (ms)": _ms(total),
            "ratio to baseline": round(statistics.median(total) / statistics.median(base_total), 2),
            "runs": len(samples),
        }
    return report


def stack_functions() -> list[FunctionSpec]:
    """The functions behind API routes (every function the flow reaches)."""
    from devstack.template import functions, load_template

    return [spec for spec in functions(load_template()) if spec.routes]


def main() -> None:
    print(json.dumps({"cold_start_with_first_request": measure()}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
