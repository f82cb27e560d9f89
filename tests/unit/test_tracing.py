"""The X-Ray SDK is opt-in: off, handlers run untouched and the SDK is not imported."""

from __future__ import annotations

import subprocess
import sys

import pytest

from orgconnect.observability import LambdaTracingOnly, create_tracer


def test_without_the_switch_the_handler_is_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORGCONNECT_XRAY_SDK", raising=False)
    tracer = create_tracer()
    assert isinstance(tracer, LambdaTracingOnly)

    def handler(event: dict[str, int], context: object) -> int:
        return event["n"] + 1

    assert tracer.capture_lambda_handler(capture_response=False)(handler) is handler


def test_importing_a_function_does_not_load_the_xray_sdk() -> None:
    code = (
        "import sys, importlib.util, os;"
        "os.environ.update(ORGCONNECT_TABLE_NAME='table', ORGCONNECT_PEPPER_SECRET_ID='p');"
        "spec = importlib.util.spec_from_file_location('app', 'functions/link_tokens/app.py');"
        "m = importlib.util.module_from_spec(spec); sys.modules['app'] = m; spec.loader.exec_module(m);"
        "print('aws_xray_sdk' in sys.modules, 'httpx' in sys.modules, 'authlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "False"]
