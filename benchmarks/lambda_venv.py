"""The Lambda-like interpreter the cold-start measurements run in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_VENV = ROOT / "benchmarks" / ".lambda-venv"
SHIPPED = ROOT / "benchmarks" / ".shipped"


def measured_environment() -> dict[str, str]:
    """The environment for a measured interpreter: nothing is written at run time (Lambda's file
    system is read-only); the code it imports is :func:`shipped_layer` and :func:`shipped_handler`."""
    return {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}


@lru_cache(maxsize=1)
def shipped_tree() -> Path:
    """A copy of the layer's package and the functions, compiled as the layer's build ships them
    (``compileall --invalidation-mode unchecked-hash``, layers/orgconnect/Makefile; the venv's
    dependencies are compiled by uv). A copy, because unchecked-hash files in the working tree's
    ``__pycache__`` would hide every later edit from the tests and the dev stack."""
    shutil.rmtree(SHIPPED, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(
        ROOT / "layers" / "orgconnect" / "orgconnect", SHIPPED / "layer" / "orgconnect", ignore=ignore
    )
    shutil.copytree(ROOT / "functions", SHIPPED / "functions", ignore=ignore)
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(SHIPPED)],
        check=True,
    )
    return SHIPPED


def shipped_layer() -> str:
    """The directory a measured interpreter puts on ``sys.path`` for the layer (``/opt/python``)."""
    return str(shipped_tree() / "layer")


def shipped_handler(code_dir: Path, module: str) -> str:
    """The compiled copy of a function's handler module (``/var/task``)."""
    return str(shipped_tree() / "functions" / code_dir.name / f"{module}.py")


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
