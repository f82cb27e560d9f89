"""The OU-token connection function's cold start: importing it builds nothing and loads neither
the provider clients (httpx, Authlib, pydantic) nor the browser flow; they load on first use."""

from __future__ import annotations

import subprocess
import sys

_UNWANTED = (
    "aws_xray_sdk",
    "pydantic",
    "httpx",
    "authlib",
    "tenacity",
    "orgconnect.providers",
    "orgconnect.web.flow",
)


def test_importing_the_function_loads_only_what_it_needs() -> None:
    code = (
        "import sys, importlib.util, os;"
        "os.environ.update(ORGCONNECT_TABLE_NAME='table', ORGCONNECT_PEPPER_SECRET_ID='p');"
        "spec = importlib.util.spec_from_file_location('app', 'functions/organizational_units/app.py');"
        "m = importlib.util.module_from_spec(spec); sys.modules['app'] = m; spec.loader.exec_module(m);"
        f"print(sorted(n for n in sys.modules if n.startswith({_UNWANTED!r})));"
        "from orgconnect import runtime;"
        "cached = (runtime.get_store, runtime.get_hasher, runtime.get_connection_vault);"
        "print(sum(f.cache_info().currsize for f in cached))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "0"]
