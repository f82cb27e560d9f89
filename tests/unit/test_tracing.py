"""Observability: one module a worker imports without the web layer; the X-Ray SDK is opt-in
(off, handlers run untouched and the SDK is not imported)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from typing import Any

import pytest

from orgconnect.observability import LambdaTracingOnly, create_tracer, logger, metrics, observed
from tests.cold_start import cold_import


def test_without_the_switch_the_handler_is_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORGCONNECT_XRAY_SDK", raising=False)
    tracer = create_tracer()
    assert isinstance(tracer, LambdaTracingOnly)

    def handler(event: dict[str, int], context: object) -> int:
        return event["n"] + 1

    assert tracer.capture_lambda_handler(capture_response=False)(handler) is handler


# What a cold start must not load: the X-Ray SDK (opt-in), pydantic (the OpenAPI models are
# loaded by the document builder only), the provider clients (first provider call), and for the
# API functions anything of the browser flow.
_NEVER = ("aws_xray_sdk", "pydantic", "httpx", "authlib")
_FLOW = ("orgconnect.web.flow", "orgconnect.store.flows", "orgconnect.providers")


@pytest.mark.parametrize(
    ("function", "unwanted"),
    [
        ("link_tokens", _NEVER + _FLOW),
        ("token", _NEVER + _FLOW),
        ("userinfo", _NEVER + _FLOW),
        ("authorize", _NEVER),
        ("provider_callback", _NEVER),
    ],
)
def test_importing_a_function_loads_only_what_it_needs(function: str, unwanted: tuple[str, ...]) -> None:
    env = {"ORGCONNECT_TABLE_NAME": "table", "ORGCONNECT_PEPPER_SECRET_ID": "p"}
    started = cold_import(function, env=env, unwanted=unwanted, cached=("get_store", "get_hasher"))
    # Nothing built at import either (no client, no secret read): with SnapStart every restored
    # environment would share it.
    assert started == ([], 0)


def test_a_worker_imports_observability_and_settings_without_the_web_layer() -> None:
    code = (
        "import sys, os;"
        "os.environ.update(ORGCONNECT_TABLE_NAME='table');"
        "from orgconnect import settings;"
        "from orgconnect.observability import logger, metrics, observed, tracer;"
        "settings.validate(settings.WORKER_FUNCTION);"
        "handler = observed()(lambda event, context: len(event['Records']));"
        "loaded = [m for m in sys.modules if m.startswith("
        "('aws_lambda_powertools.event_handler', 'orgconnect.web', 'pydantic'))];"
        "print(sorted(loaded), 'aws_lambda_powertools.logging' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "True"]


def _capture_logs() -> tuple[list[str], logging.Handler]:
    lines: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    capture = Capture()
    capture.setFormatter(logger.registered_formatter)
    return lines, capture


class _Context:
    function_name, memory_limit_in_mb, aws_request_id = "worker", 256, "req-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:worker"


def test_observed_runs_a_non_http_handler_with_the_lambda_context_in_its_logs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    lines, capture = _capture_logs()
    logger.addHandler(capture)

    @observed()
    def handler(event: dict[str, Any], context: object) -> int:
        logger.info("batch read")
        metrics.add_metric(name="BatchesRead", unit="Count", value=1)
        return len(event["Records"])

    try:
        assert handler({"Records": [{"body": "a"}, {"body": "b"}]}, _Context()) == 2
    finally:
        logger.removeHandler(capture)
    logged = json.loads(lines[-1])
    assert logged["message"] == "batch read"
    assert logged["function_name"] == "worker"
    assert logged["function_request_id"] == "req-1"


def test_observed_never_logs_the_event_even_when_the_environment_asks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    event = {"headers": {"Authorization": "Bearer secret-in-the-event"}}
    lines, capture = _capture_logs()
    logger.addHandler(capture)
    try:
        logger.inject_lambda_context()(lambda e, c: None)(event, _Context())
        assert any("secret-in-the-event" in line for line in lines)  # what observed() prevents
        lines.clear()
        observed()(lambda e, c: None)(event, _Context())
    finally:
        logger.removeHandler(capture)
    assert not any("secret-in-the-event" in line for line in lines)
