"""POST /v1/service_account_authorizations (SPEC 4; Cronofy's delegated access).

A service-account token (Enterprise Connect) asks for access to one calendar account or to a
batch of 1 to 50; each email becomes one SQS message for the delegated-access worker, which
answers at the callback_url. ``202`` with no body once every message is queued.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from orgconnect import delegated_runtime, runtime, settings
from orgconnect.observability import logger, metrics, observed
from orgconnect.web.api import create_api
from orgconnect.web.errors import documented_errors
from orgconnect.web.no_store import with_no_store
from orgconnect.web.ou_token import caller_grant
from orgconnect.web.service_account_authorizations import (
    REQUEST_BODY,
    NotAServiceAccountToken,
    accept,
    insufficient_scope_response,
)

settings.validate(settings.SERVICE_ACCOUNT_AUTHORIZATIONS_FUNCTION)
app = create_api()
app.exception_handler(NotAServiceAccountToken)(insufficient_scope_response)

PATH = "/v1/service_account_authorizations"


@app.post(
    PATH,
    summary="Request delegated access to calendar accounts (service-account token)",
    description=(
        'One `{email, scope, callback_url, state}` or `{"service_account_authorizations": [1-50 of '
        "them]}`. `scope` must stay within the service account's `delegated_scope`; `callback_url` "
        "must be https (http only for loopback). 202 with no body: the answer arrives later as a "
        'POST of `{"authorization": {"code", "state"}}` (or `error`, `error_key`, '
        "`error_description`, `state`) to the callback_url; redeem the code at `/oauth/token` with "
        "`redirect_uri` = the callback_url."
    ),
    tags=["Enterprise Connect"],
    responses={
        202: {"description": "Accepted; each callback_url will receive the outcome"},
        403: {"description": "Not a service-account token (insufficient_scope)"},
        **documented_errors(400, 401, 413, 415, 422, 429, 503),
    },
)
def create_authorizations() -> Response[Any]:
    grant = caller_grant(
        app, tokens=runtime.get_token_store(), hasher=runtime.get_hasher(), now=runtime.now()
    )
    requests = accept(
        app,
        grant,
        load_tenant=delegated_runtime.calendar_tenant,
        queue=delegated_runtime.delegated_access_queue,
    )
    logger.info(
        "delegated access queued",
        extra={"client_id": grant.client_id, "service_account_id": grant.sub, "count": len(requests)},
    )
    metrics.add_metric(name="DelegatedAccessRequested", unit=MetricUnit.Count, value=len(requests))
    return Response(status_code=202)


app.document_body("post", PATH, REQUEST_BODY)
app.document_security("post", PATH, "serviceAccountToken")


@observed(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return with_no_store(app.resolve(event, context))
