"""``make bench``: numbers for the closing notes. Nothing here asserts on time.

1. Cold import time of every function's handler module, in a fresh interpreter each run,
   against ``import boto3`` in the same kind of fresh interpreter (goal: <= 2x boto3).
2. AWS API calls made by one request of each endpoint, cold (first request of a fresh
   process) and warm (goal for the link token: <= 2 DynamoDB calls).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from devstack.template import functions, load_template

ROOT = Path(__file__).resolve().parent.parent
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


LAMBDA_VENV = ROOT / "benchmarks" / ".lambda-venv"


def lambda_like_python() -> str:
    """An interpreter with what a Lambda function has: the runtime's boto3 plus the layer's
    requirements, and nothing else (the dev venv carries awscrt and pyOpenSSL, which botocore
    imports when present and which would inflate both sides of the comparison)."""
    python = LAMBDA_VENV / "bin" / "python"
    if not python.exists():
        uv = shutil.which("uv") or "uv"
        env = {**os.environ, "UV_COMPILE_BYTECODE": "1", "UV_PYTHON_DOWNLOADS": "never"}
        subprocess.run(
            [uv, "venv", "--quiet", "--python", sys.executable, str(LAMBDA_VENV)], check=True, env=env
        )
        requirements = str(ROOT / "layers" / "orgconnect" / "requirements.txt")
        subprocess.run(
            [uv, "pip", "install", "--quiet", "--python", str(python), "boto3", "-r", requirements],
            check=True,
            env=env,
        )
    return str(python)


def _time_fresh(body: str) -> float:
    """Median seconds to run ``body`` in a fresh interpreter (the Lambda cold start's import phase)."""
    code = _IMPORT_PROBE.format(layer=str(ROOT / "layers" / "orgconnect"), body=body)
    env = {**os.environ, **_FUNCTION_ENV}
    python = lambda_like_python()
    samples = []
    for _ in range(RUNS):
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True, env=env)
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def cold_imports() -> dict[str, Any]:
    boto3_seconds = _time_fresh("import boto3")
    results: dict[str, Any] = {"import boto3 (ms)": round(boto3_seconds * 1000, 1), "functions": {}}
    for spec in functions(load_template()):
        module = spec.handler.rpartition(".")[0]
        seconds = _time_fresh(_LOAD_HANDLER.format(path=str(spec.code_dir / f"{module}.py")))
        results["functions"][spec.logical_id] = {
            "import (ms)": round(seconds * 1000, 1),
            "ratio to boto3": round(seconds / boto3_seconds, 2),
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


def main() -> None:
    print(f"python {sys.version.split()[0]}, {RUNS} fresh interpreters per measurement (median)")
    report = {
        "cold_imports": cold_imports(),
        "aws_calls_per_request": aws_calls_per_request(),
        "flow_aws_calls_per_request": flow_calls_per_request(),
    }
    print(json.dumps(report, indent=2))
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
