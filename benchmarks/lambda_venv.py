"""The Lambda-like interpreter the cold-start measurements run in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_VENV = ROOT / "benchmarks" / ".lambda-venv"


PRECOMPILED = os.environ.get("BENCH_PRECOMPILED") == "1"


def without_bytecode_cache() -> dict[str, str]:
    """The environment for a measured interpreter. By default orgconnect's own modules are
    compiled at import, as ``sam build`` ships them (source only, and Lambda's file system is
    read-only), so caches left by earlier runs or tests are removed. ``BENCH_PRECOMPILED=1``
    measures a build that ships bytecode instead (``compileall --invalidation-mode unchecked-hash``)."""
    caches = [*ROOT.glob("layers/orgconnect/**/__pycache__"), *ROOT.glob("functions/**/__pycache__")]
    if PRECOMPILED:
        if not caches:
            subprocess.run(
                [
                    *(sys.executable, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash"),
                    *(str(ROOT / "layers" / "orgconnect" / "orgconnect"), str(ROOT / "functions")),
                ],
                check=True,
            )
    else:
        for cache in caches:
            shutil.rmtree(cache, ignore_errors=True)
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
