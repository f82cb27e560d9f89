"""POST /v1/conferencing (SPEC 2.4): a meeting link for an account token's conferencing profile.

The account (delegated access) was matched to a user of its OU's conferencing connection; the
meeting is created for that user with the connection's admin credentials. ``201
{"conferencing": {"provider_name", "profile_id", "join_url", "meeting_id", "password"?}}``.
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
from orgconnect.web.conferencing import (
    REQUEST_BODY,
    MeetingLinkPorts,
    create_meeting_link,
    register_conferencing_errors,
)
from orgconnect.web.errors import documented_errors, json_response
from orgconnect.web.no_store import with_no_store
from orgconnect.web.openapi import json_body
from orgconnect.web.ou_token import caller_grant

# The API family plus the provider apps and the connection secrets (the meeting's credentials).
settings.validate((*settings.API_FUNCTION, settings.ProviderSettings, settings.VaultSettings))
app = create_api()
register_conferencing_errors(app)

PATH = "/v1/conferencing"


def _ports() -> MeetingLinkPorts:
    profiles = delegated_runtime.conferencing_profiles()
    return MeetingLinkPorts(
        load_account=delegated_runtime.accounts().get,
        load_profiles=profiles.for_account,
        load_connection=profiles.connection,
        connection_statuses=profiles.connection_statuses,
        tokens=delegated_runtime.connection_tokens,  # Server-to-Server connections too
        adapter=delegated_runtime.conferencing_adapter,
    )


@app.post(
    PATH,
    summary="Create a meeting link for an account's conferencing profile (account token)",
    description=(
        '`{"profile_id": "default" | "pro_…", "summary", "start", "end", "tzid"}` (ISO 8601 times, '
        "end after start, an IANA tzid). The meeting is created with the Organizational Unit "
        "connection's admin credentials for the matched provider user. 422 when the profile is not "
        "connected, absent, refused by the provider (the description says what to fix) or its "
        "connection needs reauthorization; 503 with Retry-After when the provider is unavailable."
    ),
    tags=["Conferencing"],
    responses={
        201: json_body("The meeting", "ConferencingOut"),
        403: {"description": "Not an account token (insufficient_scope)"},
        **documented_errors(400, 401, 413, 415, 422, 429, 503),
    },
)
def create_conferencing() -> Response[Any]:
    grant = caller_grant(
        app, tokens=runtime.get_token_store(), hasher=runtime.get_hasher(), now=runtime.now()
    )
    body = create_meeting_link(app, grant, _ports())
    logger.info(
        "meeting link created",
        extra={"client_id": grant.client_id, "sub": grant.sub, "provider_name": body["provider_name"]},
    )
    metrics.add_metric(name="MeetingLinksCreated", unit=MetricUnit.Count, value=1)
    return json_response(201, {"conferencing": body})


app.document_body("post", PATH, REQUEST_BODY)
app.document_security("post", PATH, "accountToken")


@observed(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The answer carries the meeting's password.
    return with_no_store(app.resolve(event, context))
