"""POST /v1/organizational_unit_authorization_link_tokens (SPEC section 2.1).

An integrator, authenticated by its client secret, mints a single-use link token that seeds
the Organizational Unit authorization flow for one of its service accounts.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from orgconnect import runtime, settings
from orgconnect.domain.clients import authenticate_api_key, bearer_token
from orgconnect.domain.link_tokens import mint_link_token
from orgconnect.observability import logger, metrics, observed
from orgconnect.web.api import create_api
from orgconnect.web.errors import documented_errors
from orgconnect.web.no_store import with_no_store
from orgconnect.web.openapi import json_body
from orgconnect.web.request import json_object_body

settings.validate(settings.LINK_TOKENS_FUNCTION)
app = create_api()


@app.post(
    "/v1/organizational_unit_authorization_link_tokens",
    summary="Create an Organizational Unit authorization link token",
    description=(
        "Authenticated with `Authorization: Bearer {client_secret}`. The token is single-use, "
        "expires after the configured TTL (default 30 minutes) and is bound to this application "
        "and the service account."
    ),
    tags=["Organizational Units"],
    responses={
        200: json_body("The link token", "LinkTokenResponse"),
        **documented_errors(400, 401, 413, 415, 422, 429, 503),
    },
)
def create_link_token() -> dict[str, Any]:
    hasher = runtime.get_hasher()
    caller = authenticate_api_key(
        bearer_token(app.current_event.headers.get("authorization")),
        store=runtime.get_clients(),
        hasher=hasher,
    )
    body = json_object_body(app)
    token = mint_link_token(
        caller,
        body.get("service_account_id"),
        store=runtime.get_link_tokens(),
        hasher=hasher,
        now=runtime.now(),
        ttl_seconds=settings.load(settings.LinkTokenSettings).link_token_ttl_seconds,
    )
    logger.info("link token minted", extra={"client_id": caller.client_id})
    metrics.add_metric(name="LinkTokensMinted", unit=MetricUnit.Count, value=1)
    return {"organizational_unit_authorization_link_token": {"ou_link_token": token}}


app.document_body("post", "/v1/organizational_unit_authorization_link_tokens", "LinkTokenRequest")
app.document_security("post", "/v1/organizational_unit_authorization_link_tokens", "clientSecret")


@observed(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The answers carry a secret (the link token) or an Organizational Unit's details.
    return with_no_store(app.resolve(event, context))
