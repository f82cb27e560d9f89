"""``make bench``: numbers for the closing notes. Nothing here asserts on time.

1. Cold import time of every function's handler module, in a fresh Lambda-like interpreter
   each run, against ``import boto3`` measured in the same rounds (goal: <= 1.5x boto3).
2. Cold start with the first request: handler import plus one representative request per
   function, in a fresh Lambda-like interpreter against the dev stack (first_request.py), so
   work moved from the import into the first request shows.
3. AWS API calls made by one request of each endpoint, cold (first request of a fresh
   process) and warm (goal for the link token: <= 2 DynamoDB calls).
4. Delegated access on the dev stack (delegated_access.py): DynamoDB and provider calls of a hit
   and a miss, and the wall time and calls of a batch of 50 until every callback has arrived.
5. Zoom directory listing at 10,000 and 100,000 users through the client-side rate limiter
   (directory_listing.py): list calls, wall time against the rate-limit floor, 429s.
6. Connection syncs (connection_sync.py): DynamoDB writes of a 10,000-user reconcile with 1%
   changed, and CPU of the in-memory match of 100,000 accounts against 100,000 users.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from typing import Any

from benchmarks.lambda_venv import (
    ROOT,
    lambda_like_python,
    measured_environment,
    shipped_handler,
    shipped_layer,
)
from devstack.template import functions, load_template

RUNS = int(os.environ.get("BENCH_RUNS", "7"))
# The stack's start plus a batch of 50 take seconds; this bounds a stuck run, not a slow one.
DELEGATED_ACCESS_TIMEOUT_SECONDS = 300
# A 10,000-user backfill on in-process moto takes tens of seconds; this bounds a stuck run.
CONNECTION_SYNC_TIMEOUT_SECONDS = 900

_IMPORT_PROBE = """
import sys, time, importlib.util
sys.path.insert(0, {layer!r})
start, cpu = time.perf_counter(), time.process_time()
{body}
print(time.perf_counter() - start, time.process_time() - cpu)
"""
_LOAD_HANDLER = """
spec = importlib.util.spec_from_file_location("app", {path!r})
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module
spec.loader.exec_module(module)
"""
_FUNCTION_ENV = {
    "ORGCONNECT_TABLE_NAME": "bench-table",
    "ORGCONNECT_PEPPER_SECRET_ID": "bench-secret",
    "ORGCONNECT_DELEGATED_ACCESS_QUEUE_URL": "bench-queue",
    "POWERTOOLS_SERVICE_NAME": "orgconnect",
    "POWERTOOLS_METRICS_NAMESPACE": "orgconnect",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _time_fresh(body: str) -> tuple[float, float]:
    """Wall and CPU seconds to run ``body`` in a fresh interpreter (a cold start's import phase)."""
    code = _IMPORT_PROBE.format(layer=shipped_layer(), body=body)
    env = {**measured_environment(), **_FUNCTION_ENV}
    out = subprocess.run(
        [lambda_like_python(), "-c", code], capture_output=True, text=True, check=True, env=env
    )
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def cold_imports() -> dict[str, Any]:
    """Median handler import per function and of ``import boto3``, measured in the same rounds
    (the machine's load changes over a run; interleaving keeps the ratios comparable). CPU time
    is reported beside wall time: on a shared machine it is the steadier of the two."""
    bodies = {"import boto3": "import boto3"}
    for spec in functions(load_template()):
        module = spec.handler.rpartition(".")[0]
        bodies[spec.logical_id] = _LOAD_HANDLER.format(path=shipped_handler(spec.code_dir, module))
    walls: dict[str, list[float]] = {name: [] for name in bodies}
    cpus: dict[str, list[float]] = {name: [] for name in bodies}
    for _ in range(RUNS):
        for name, body in bodies.items():
            wall, cpu = _time_fresh(body)
            walls[name].append(wall)
            cpus[name].append(cpu)
    boto3_wall, boto3_cpu = statistics.median(walls["import boto3"]), statistics.median(cpus["import boto3"])
    results: dict[str, Any] = {
        "import boto3 (ms)": round(boto3_wall * 1000, 1),
        "import boto3 (cpu ms)": round(boto3_cpu * 1000, 1),
        "functions": {},
    }
    for name in list(bodies)[1:]:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        results["functions"][name] = {
            "import (ms)": round(wall * 1000, 1),
            "ratio to boto3": round(wall / boto3_wall, 2),
            "import (cpu ms)": round(cpu * 1000, 1),
            "cpu ratio to boto3": round(cpu / boto3_cpu, 2),
        }
    return results


def aws_calls_per_request() -> dict[str, Any]:
    """Run the link-token endpoint against moto and count the AWS calls of a cold and a warm request."""
    code = (ROOT / "benchmarks" / "aws_calls_probe.py").read_text()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def flow_calls_per_request() -> dict[str, Any]:
    """The authorization flow's steps against the in-process dev stack (benchmarks/flow_calls_probe.py)."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.flow_calls_probe"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def cold_start_with_first_request() -> dict[str, Any]:
    """Handler import plus one representative first request per function (first_request.py)."""
    env = {**os.environ, "POWERTOOLS_LOG_LEVEL": "WARNING"}
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.first_request"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=env,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1])["cold_start_with_first_request"])


def delegated_access() -> dict[str, Any]:
    """Delegated access hit, miss and batch of 50 (delegated_access.py), bounded in time."""
    try:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.delegated_access"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=DELEGATED_ACCESS_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        sys.exit(f"delegated access bench did not finish in {DELEGATED_ACCESS_TIMEOUT_SECONDS}s")
    if out.returncode != 0:
        sys.exit(
            out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "delegated access bench failed"
        )
    return dict(json.loads(out.stdout.strip().splitlines()[-1])["delegated_access"])


def directory_listing() -> list[dict[str, Any]]:
    """The Zoom directory listing runs (directory_listing.py); its table goes to the terminal."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.directory_listing"],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return list(json.loads(out.stdout.strip().splitlines()[-1])["directory_listing"])


def connection_sync() -> dict[str, Any]:
    """Connection syncs (connection_sync.py): DynamoDB writes of a reconcile, CPU of the match."""
    try:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.connection_sync"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=CONNECTION_SYNC_TIMEOUT_SECONDS,
            env={**os.environ, "POWERTOOLS_LOG_LEVEL": "WARNING"},
        )
    except subprocess.TimeoutExpired:
        sys.exit(f"connection sync bench did not finish in {CONNECTION_SYNC_TIMEOUT_SECONDS}s")
    if out.returncode != 0:
        sys.exit(
            out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "connection sync bench failed"
        )
    return dict(json.loads(out.stdout.strip().splitlines()[-1])["connection_sync"])


def main() -> None:
    print(f"python {sys.version.split()[0]}, {RUNS} fresh interpreters per measurement (median)")
    report = {
        "cold_imports": cold_imports(),
        "cold_start_with_first_request": cold_start_with_first_request(),
        "aws_calls_per_request": aws_calls_per_request(),
        "flow_aws_calls_per_request": flow_calls_per_request(),
        "delegated_access": delegated_access(),
        "directory_listing": directory_listing(),
        "connection_sync": connection_sync(),
    }
    print(json.dumps(report, indent=2))
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
