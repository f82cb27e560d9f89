"""Logger, Metrics and Tracer of every function, HTTP or not (an SQS consumer, a scheduled job).

Importing this module loads Powertools' logging and metrics only: never the event handler, the
web layer or the X-Ray SDK, so a worker function pays for what it uses.

Tracing: the template sets ``Tracing: Active``, so Lambda itself traces every invocation. The
X-Ray SDK (through Powertools' Tracer) adds a subsegment per AWS call, but importing it creates
two botocore X-Ray clients for centralized sampling, which Lambda never uses: about 230 ms of
every cold start (aws/aws-xray-sdk-python#311). It is therefore opt-in: the stack parameter
``XRaySdkTracing=true`` sets ``ORGCONNECT_XRAY_SDK``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics import Metrics

Handler = TypeVar("Handler", bound=Callable[..., Any])

SDK_ENV = "ORGCONNECT_XRAY_SDK"


class HandlerTracer(Protocol):
    """What the functions use of a tracer: the handler decorator (always called with keywords)."""

    def capture_lambda_handler(self, **options: Any) -> Callable[[Handler], Handler]: ...


class LambdaTracingOnly:
    """Stands in for Powertools' Tracer when the SDK is off: the handler runs untouched."""

    def capture_lambda_handler(self, **_: Any) -> Callable[[Handler], Handler]:
        """A decorator that returns the handler as it is."""
        return lambda handler: handler


def create_tracer() -> HandlerTracer:
    """Powertools' Tracer when ``ORGCONNECT_XRAY_SDK=true``, else the pass-through above."""
    if os.environ.get(SDK_ENV, "false").lower() == "true":
        from aws_lambda_powertools.tracing import Tracer

        return cast(HandlerTracer, Tracer())
    return LambdaTracingOnly()


logger = Logger()
tracer = create_tracer()
# The namespace must never be unset: Powertools serializes the buffer every 100 values, even with
# metrics disabled (local runs), and fails without one.
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "orgconnect")


def observed(*, correlation_id_path: str | None = None) -> Callable[[Handler], Handler]:
    """The decorator of every Lambda handler: Lambda context in each log line, the correlation
    id read from ``correlation_id_path`` (a JMESPath into the event; e.g.
    ``correlation_paths.API_GATEWAY_REST``), the X-Ray SDK's subsegments when enabled, and the
    metrics flushed after each invocation. Events are never logged: they carry secrets."""

    def decorate(handler: Handler) -> Handler:
        flushed = metrics.log_metrics(handler)
        traced = tracer.capture_lambda_handler(capture_response=False)(flushed)
        return cast(
            Handler,
            logger.inject_lambda_context(correlation_id_path=correlation_id_path, log_event=False)(traced),
        )

    return decorate
