"""POST /v1/organizational_unit_authorization_link_tokens (SPEC section 2.1).

An integrator, authenticated by its client secret, mints a single-use link token that seeds
the Organizational Unit authorization flow for one of its service accounts.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from orgconnect import runtime
from orgconnect.domain.clients import authenticate_api_key, bearer_token
from orgconnect.domain.link_tokens import mint_link_token
from orgconnect.settings import get_settings
from orgconnect.web.api import create_api, logger, metrics, tracer
from orgconnect.web.errors import documented_errors
from orgconnect.web.no_store import with_no_store
from orgconnect.web.request import json_object_body

app = create_api()


class LinkTokenRequest(BaseModel):
    """The request body."""

    service_account_id: str = Field(
        description="The service account (ser_…) the authorization must include.",
        pattern=r"^ser_[0-9a-f]{24}$",
        examples=["ser_5f2c8e1a9b3d4c6e7f8a9b0c"],
    )


class LinkToken(BaseModel):
    ou_link_token: str = Field(description="Single-use token for the ou_link_token parameter.")


class LinkTokenResponse(BaseModel):
    organizational_unit_authorization_link_token: LinkToken


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
        200: {"description": "The link token", "content": {"application/json": {"model": LinkTokenResponse}}},
        **documented_errors(400, 401, 413, 415, 422, 429, 503),
    },
)
def create_link_token() -> dict[str, Any]:
    store, hasher = runtime.get_store(), runtime.get_hasher()
    caller = authenticate_api_key(
        bearer_token(app.current_event.headers.get("authorization")), store=store, hasher=hasher
    )
    body = json_object_body(app)
    token = mint_link_token(
        caller,
        body.get("service_account_id"),
        store=store,
        hasher=hasher,
        now=runtime.now(),
        ttl_seconds=get_settings().link_token_ttl_seconds,
    )
    logger.info("link token minted", extra={"client_id": caller.client_id})
    metrics.add_metric(name="LinkTokensMinted", unit=MetricUnit.Count, value=1)
    return LinkTokenResponse(
        organizational_unit_authorization_link_token=LinkToken(ou_link_token=token)
    ).model_dump()


app.document_body("post", "/v1/organizational_unit_authorization_link_tokens", LinkTokenRequest)
app.document_security("post", "/v1/organizational_unit_authorization_link_tokens", "clientSecret")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The answers carry a secret (the link token) or an Organizational Unit's details.
    return with_no_store(app.resolve(event, context))
