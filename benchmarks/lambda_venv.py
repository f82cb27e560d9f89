"""The Lambda-like interpreter the cold-start measurements run in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_VENV = ROOT / "benchmarks" / ".lambda-venv"


def measured_environment() -> dict[str, str]:
    """The environment for a measured interpreter: orgconnect's modules compiled as the layer's
    build ships them (``compileall --invalidation-mode unchecked-hash``, layers/orgconnect/Makefile;
    the venv's dependencies are compiled by uv), and nothing written at run time (Lambda's file
    system is read-only)."""
    # Caches left by tests or earlier runs may be timestamp-checked ones; compile afresh.
    for cache in [*ROOT.glob("layers/orgconnect/**/__pycache__"), *ROOT.glob("functions/**/__pycache__")]:
        shutil.rmtree(cache, ignore_errors=True)
    subprocess.run(
        [
            *(sys.executable, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash"),
            *(str(ROOT / "layers" / "orgconnect" / "orgconnect"), str(ROOT / "functions")),
        ],
        check=True,
    )
    return {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}


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
