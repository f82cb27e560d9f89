"""GET /oauth/callback/{provider} (SPEC 3, step 5): the provider sends the administrator back here.

The state is consumed once (S2), must have been minted for this provider (M1) and this browser
(S1); then the code is exchanged with PKCE and the provider account is read and checked.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from orgconnect import runtime, settings
from orgconnect.observability import observed
from orgconnect.web import flow
from orgconnect.web.api import create_html_app

settings.validate(settings.FLOW_FUNCTION)
app = create_html_app()


@app.get("/oauth/callback/<provider>", include_in_schema=False)
def provider_callback(provider: str) -> Response[Any]:
    return flow.callback(runtime.flow_dependencies(), app.current_event, provider)


@observed(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
