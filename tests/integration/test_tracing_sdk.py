"""With ORGCONNECT_XRAY_SDK=true the functions use Powertools' Tracer (the X-Ray SDK opens a
UDP socket to the daemon, so this lives with the integration tests, not the socket-free units)."""

from __future__ import annotations

import pytest

from orgconnect.observability import create_tracer


def test_with_the_switch_powertools_tracer_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORGCONNECT_XRAY_SDK", "true")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    from aws_lambda_powertools import Tracer

    assert isinstance(create_tracer(), Tracer)
