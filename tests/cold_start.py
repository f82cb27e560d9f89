"""A function's cold start in a fresh interpreter, as Lambda's init phase runs it: which of the
modules it must not load it loaded, and how many runtime objects (clients, secrets) it built."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# What no function's cold start loads: the X-Ray SDK (opt-in), pydantic (the OpenAPI models), and
# the provider clients with their HTTP and retry libraries (they load on the first provider call).
PROVIDER_CLIENTS = ("aws_xray_sdk", "pydantic", "httpx", "authlib", "tenacity", "orgconnect.providers")


def cold_import(
    function: str, *, env: dict[str, str], unwanted: tuple[str, ...], cached: tuple[str, ...]
) -> tuple[list[str], int]:
    """Import ``functions/<function>/app.py`` with ``env``: the loaded modules that start with one
    of ``unwanted``, and the sum of what the ``orgconnect.runtime`` getters ``cached`` hold."""
    code = (
        "import sys, importlib.util, os;"
        f"os.environ.update({env!r});"
        f"spec = importlib.util.spec_from_file_location('app', 'functions/{function}/app.py');"
        "m = importlib.util.module_from_spec(spec); sys.modules['app'] = m; spec.loader.exec_module(m);"
        f"print(sorted(n for n in sys.modules if n.startswith({unwanted!r})));"
        "from orgconnect import runtime;"
        f"print(sum(getattr(runtime, n).cache_info().currsize for n in {cached!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    loaded, built = out.stdout.splitlines()
    return list(ast.literal_eval(loaded)), int(built)
