"""``make bench``: numbers for the closing notes. Nothing here asserts on time.

1. Cold import time of every function's handler module, in a fresh Lambda-like interpreter
   each run, against ``import boto3`` measured in the same rounds (goal: <= 1.5x boto3).
2. Cold start with the first request: handler import plus one representative request per
   function, in a fresh Lambda-like interpreter against the dev stack (first_request.py), so
   work moved from the import into the first request shows.
3. AWS API calls made by one request of each endpoint, cold (first request of a fresh
   process) and warm (goal for the link token: <= 2 DynamoDB calls).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from typing import Any

from benchmarks.lambda_venv import ROOT, lambda_like_python
from devstack.template import functions, load_template

RUNS = int(os.environ.get("BENCH_RUNS", "7"))

_IMPORT_PROBE = """
import sys, time, importlib.util
sys.path.insert(0, {layer!r})
start = time.perf_counter()
{body}
print(time.perf_counter() - start)
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
    "POWERTOOLS_SERVICE_NAME": "orgconnect",
    "POWERTOOLS_METRICS_NAMESPACE": "orgconnect",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _time_fresh(body: str) -> float:
    """Seconds to run ``body`` in a fresh interpreter (the Lambda cold start's import phase)."""
    code = _IMPORT_PROBE.format(layer=str(ROOT / "layers" / "orgconnect"), body=body)
    env = {**os.environ, **_FUNCTION_ENV}
    out = subprocess.run(
        [lambda_like_python(), "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return float(out.stdout.strip().splitlines()[-1])


def cold_imports() -> dict[str, Any]:
    """Median handler import per function and of ``import boto3``, measured in the same rounds
    (the machine's load changes over a run; interleaving keeps the ratios comparable)."""
    bodies = {"import boto3": "import boto3"}
    for spec in functions(load_template()):
        module = spec.handler.rpartition(".")[0]
        bodies[spec.logical_id] = _LOAD_HANDLER.format(path=str(spec.code_dir / f"{module}.py"))
    samples: dict[str, list[float]] = {name: [] for name in bodies}
    for _ in range(RUNS):
        for name, body in bodies.items():
            samples[name].append(_time_fresh(body))
    boto3_seconds = statistics.median(samples.pop("import boto3"))
    results: dict[str, Any] = {"import boto3 (ms)": round(boto3_seconds * 1000, 1), "functions": {}}
    for name, seconds in samples.items():
        median = statistics.median(seconds)
        results["functions"][name] = {
            "import (ms)": round(median * 1000, 1),
            "ratio to boto3": round(median / boto3_seconds, 2),
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


def main() -> None:
    print(f"python {sys.version.split()[0]}, {RUNS} fresh interpreters per measurement (median)")
    report = {
        "cold_imports": cold_imports(),
        "cold_start_with_first_request": cold_start_with_first_request(),
        "aws_calls_per_request": aws_calls_per_request(),
        "flow_aws_calls_per_request": flow_calls_per_request(),
    }
    print(json.dumps(report, indent=2))
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
