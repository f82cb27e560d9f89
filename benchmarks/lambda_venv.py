"""The Lambda-like interpreter the cold-start measurements run in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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
