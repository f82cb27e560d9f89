"""The Organizational Unit OAuth pages (SPEC 3): start, continue, provider choice, consent; and
Enterprise Connect's authorization and provider choice (SPEC 4).

Browser-facing: every answer is an HTML page or a redirect with the flow's security headers.
The logic lives in ``orgconnect.web.flow``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from orgconnect import runtime, settings
from orgconnect.observability import metrics, observed
from orgconnect.web import enterprise_connect, flow
from orgconnect.web.api import create_html_app

settings.validate(settings.FLOW_FUNCTION)
app = create_html_app()


@app.get("/organizational_unit_oauth", include_in_schema=False)
def start() -> Response[Any]:
    metrics.add_metric(name="FlowsStarted", unit="Count", value=1)
    return flow.start(runtime.flow_dependencies(), app.current_event)


@app.get("/organizational_unit_oauth/relink", include_in_schema=False)
def relink() -> Response[Any]:
    metrics.add_metric(name="RelinksStarted", unit="Count", value=1)
    return flow.relink(runtime.flow_dependencies(), app.current_event)


@app.get("/organizational_unit_oauth/continue", include_in_schema=False)
def resume() -> Response[Any]:
    return flow.resume(runtime.flow_dependencies(), app.current_event)


@app.get("/organizational_unit_oauth/providers/<provider>", include_in_schema=False)
def choose(provider: str) -> Response[Any]:
    return flow.choose(runtime.flow_dependencies(), app.current_event, provider)


@app.post("/organizational_unit_oauth/consent", include_in_schema=False)
def decide() -> Response[Any]:
    return flow.decide(runtime.flow_dependencies(), app.current_event)


@app.get("/enterprise_connect/oauth/authorize", include_in_schema=False)
def enterprise_connect_authorize() -> Response[Any]:
    metrics.add_metric(name="EnterpriseConnectStarted", unit="Count", value=1)
    return enterprise_connect.authorize(runtime.flow_dependencies(), app.current_event)


@app.get("/enterprise_connect/oauth/providers/<provider>", include_in_schema=False)
def enterprise_connect_choose(provider: str) -> Response[Any]:
    return enterprise_connect.choose(runtime.flow_dependencies(), app.current_event, provider)


@observed(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
