"""The webhook function's cold start loads neither the browser flow nor the provider clients, and
builds nothing (no client, no secret read) at import."""

from __future__ import annotations

import subprocess
import sys

_UNWANTED = (
    "aws_xray_sdk",
    "pydantic",
    "httpx",
    "authlib",
    "orgconnect.web.flow",
    "orgconnect.providers",
    "orgconnect.store.organization",
)


def test_importing_the_webhook_function_loads_only_what_it_needs() -> None:
    code = (
        "import sys, importlib.util, os;"
        "os.environ.update(ORGCONNECT_TABLE_NAME='table');"
        "spec = importlib.util.spec_from_file_location('app', 'functions/provider_webhooks/app.py');"
        "m = importlib.util.module_from_spec(spec); sys.modules['app'] = m; spec.loader.exec_module(m);"
        f"print(sorted(n for n in sys.modules if n.startswith({_UNWANTED!r})));"
        "from orgconnect import runtime;"
        "print(sum(f.cache_info().currsize for f in (runtime.get_store, runtime.get_secrets_client,"
        " runtime.get_provider_apps, runtime.get_account_connections)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "0"]
