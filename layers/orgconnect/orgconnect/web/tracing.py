"""X-Ray tracing: the Lambda service's own segments always, the X-Ray SDK only when asked for.

The template sets ``Tracing: Active``, so every invocation is traced by Lambda itself. The SDK
(through Powertools' Tracer) adds a subsegment per AWS call, but importing it creates two
botocore X-Ray clients for centralized sampling, which Lambda never uses: about 230 ms of every
cold start (aws/aws-xray-sdk-python#311). It is therefore opt-in: stack parameter
``XRaySdkTracing=true`` sets ``ORGCONNECT_XRAY_SDK``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

Handler = TypeVar("Handler", bound=Callable[..., Any])

SDK_ENV = "ORGCONNECT_XRAY_SDK"


class HandlerTracer(Protocol):
    """What the functions use of a tracer: the handler decorator (always called with keywords)."""

    def capture_lambda_handler(self, **options: Any) -> Callable[[Handler], Handler]: ...


class LambdaTracingOnly:
    """Stands in for Powertools' Tracer when the SDK is off: the handler runs untouched."""

    def capture_lambda_handler(self, **_: Any) -> Callable[[Handler], Handler]:
        return lambda handler: handler


def create_tracer() -> HandlerTracer:
    """Powertools' Tracer when ``ORGCONNECT_XRAY_SDK=true``, else the pass-through above."""
    if os.environ.get(SDK_ENV, "false").lower() == "true":
        from aws_lambda_powertools import Tracer

        return cast(HandlerTracer, Tracer())
    return LambdaTracingOnly()
