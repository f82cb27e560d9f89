"""The Organizational Unit's conferencing connections, managed with an OU token (SPEC 2.5;
issue 11 items 1 and 2): add one with Zoom Server-to-Server credentials, test it again, remove
one; read and replace a connection's provisioning policy, read the provisioning log
(docs/provisioning.md).

The credentials are tested before anything is stored, kept only in Secrets Manager (one secret
per connection) and never returned or logged. Bodies are read after authentication
(docs/architecture.md, Authentication before validation).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from orgconnect import runtime, settings
from orgconnect.domain.conferencing_connections import (
    ConnectionManagement,
    add_server_to_server_connection,
    remove_connection,
    retest_connection,
)
from orgconnect.domain.model import OrganizationalUnit
from orgconnect.domain.provisioning_log import decode_cursor
from orgconnect.domain.provisioning_policy_management import PolicyManagement, read_policy, replace_policy
from orgconnect.observability import logger, metrics, observed
from orgconnect.web.api import create_api
from orgconnect.web.browser import app_base_url
from orgconnect.web.conferencing_connections import (
    CONNECTION_ANSWER,
    NEW_CONNECTION_REQUEST,
    TEST_ANSWER,
    check_body,
    connection_body,
    register_connection_errors,
)
from orgconnect.web.errors import documented_errors, json_response
from orgconnect.web.no_store import with_no_store
from orgconnect.web.openapi import json_body
from orgconnect.web.ou_token import InsufficientScope, insufficient_scope_response, organizational_unit_of
from orgconnect.web.provisioning_events import EVENTS_ANSWER, PROVISIONING_EVENTS_PATH, events_body
from orgconnect.web.provisioning_policy import (
    POLICY_ANSWER,
    POLICY_REQUEST,
    provisioning_body,
    register_policy_errors,
)
from orgconnect.web.request import json_object_body

settings.validate(
    (settings.TableSettings, settings.PepperSettings, settings.ProviderSettings, settings.VaultSettings)
)
app = create_api()
app.exception_handler(InsufficientScope)(insufficient_scope_response)
register_connection_errors(app)
register_policy_errors(app)

COLLECTION = "/v1/organizational_unit/conferencing_connections"
ITEM = COLLECTION + "/<connection_id>"  # Powertools' path parameter syntax
TEST = ITEM + "/test"
PROVISIONING = ITEM + "/provisioning"
_FORBIDDEN: dict[int, Any] = {403: {"description": "A valid token that is not an Organizational Unit token"}}
_NOT_FOUND: dict[int, Any] = {
    404: {"description": "No such connection in this Organizational Unit (any other OU's id too)"}
}


def _organizational_unit(deps: ConnectionManagement) -> OrganizationalUnit:
    return organizational_unit_of(
        app,
        tokens=runtime.get_token_store(),
        hasher=runtime.get_hasher(),
        now=deps.now,
        load=deps.connections.get_organizational_unit,
    )


@app.post(
    COLLECTION,
    summary="Add a conferencing connection with Server-to-Server credentials",
    description=(
        "Tests the credentials first (a token, its scopes, a read of the account and its users, "
        "the plan), then stores them in Secrets Manager and links the account to the OU. "
        "A failed test is a 422 naming what is wrong; the secret is never returned."
    ),
    tags=["Organizational Units"],
    responses={
        201: {
            "description": "The connection",
            "content": {"application/json": {"schema": CONNECTION_ANSWER}},
        },
        **documented_errors(400, 401, 413, 415, 422, 429, 503),
        **_FORBIDDEN,
        409: json_body("The provider account is already linked (errors.already_linked)", "ErrorsResponse"),
    },
)
def add_connection() -> Response[Any]:
    deps = runtime.connection_management()
    ou = _organizational_unit(deps)
    body = json_object_body(app)
    connection, check = add_server_to_server_connection(ou, body, deps)
    logger.info(
        "conferencing connection added",
        extra={"ou_id": ou.ou_id, "connection_id": connection.connection_id, "type": "server_to_server"},
    )
    metrics.add_metric(name="ConferencingConnectionsAdded", unit=MetricUnit.Count, value=1)
    return json_response(
        201, {"conferencing_connection": connection_body(connection), "test": check_body(check)}
    )


@app.post(
    TEST,
    summary="Test a conferencing connection again",
    description=(
        "Runs the connection test again and records the connection's status (`connected` or "
        "`needs_reauthorization`) when it changed. Server-to-Server connections: the app's "
        "credentials; browser-linked Zoom connections: a valid access token (refreshed when it "
        "expires, once per connection at a time), then the account read."
    ),
    tags=["Organizational Units"],
    responses={
        200: {"description": "The test result", "content": {"application/json": {"schema": TEST_ANSWER}}},
        **documented_errors(401, 422, 429, 503),
        **_FORBIDDEN,
        **_NOT_FOUND,
    },
)
def rerun_connection_test(connection_id: str) -> dict[str, Any]:
    deps = runtime.connection_management()
    ou = _organizational_unit(deps)
    outcome = retest_connection(ou, connection_id, deps)
    logger.info(
        "conferencing connection tested",
        extra={
            "ou_id": ou.ou_id,
            "connection_id": connection_id,
            "passed": outcome.check.passed,
            "failure": outcome.check.failure,
        },
    )
    return {"conferencing_connection": connection_body(outcome.connection), "test": check_body(outcome.check)}


@app.delete(
    ITEM,
    summary="Remove a conferencing connection",
    description=(
        "Revokes the provider tokens where the provider allows (Zoom, for connections linked in the "
        "browser flow; Server-to-Server tokens expire within the hour), removes the connection from "
        "the OU and deletes its secret. Repeating it answers 204 again for 30 days."
    ),
    tags=["Organizational Units"],
    responses={
        204: {"description": "Removed"},
        **documented_errors(401, 429, 503),
        **_FORBIDDEN,
        **_NOT_FOUND,
    },
)
def delete_connection(connection_id: str) -> Response[Any]:
    deps = runtime.connection_management()
    ou = _organizational_unit(deps)
    revoked = remove_connection(ou, connection_id, deps)
    logger.info(
        "conferencing connection removed",
        extra={"ou_id": ou.ou_id, "connection_id": connection_id, "provider_tokens_revoked": revoked},
    )
    metrics.add_metric(name="ConferencingConnectionsRemoved", unit=MetricUnit.Count, value=1)
    return Response(status_code=204, body=None)


def _policy_owner(deps: PolicyManagement) -> OrganizationalUnit:
    """The caller's OU, authenticated exactly as the connection routes do."""
    return organizational_unit_of(
        app,
        tokens=runtime.get_token_store(),
        hasher=runtime.get_hasher(),
        now=deps.now,
        load=deps.policies.get_organizational_unit,
    )


_POLICY_ANSWER: dict[int, Any] = {
    200: {"description": "The policy", "content": {"application/json": {"schema": POLICY_ANSWER}}}
}
_NOT_ZOOM = "; or a connection whose provider has no provisioning (errors.provisioning_not_supported)"


@app.get(
    PROVISIONING,
    summary="A conferencing connection's provisioning policy",
    description=(
        "The policy as stored, or its defaults (provisioning off, `version` 0) when never set. "
        "Zoom connections only. Delegated access applies it after matching (docs/provisioning.md)."
    ),
    tags=["Organizational Units"],
    responses={
        **_POLICY_ANSWER,
        **documented_errors(401, 429, 503),
        422: json_body("Not a Zoom connection (errors.provisioning_not_supported)", "ErrorsResponse"),
        **_FORBIDDEN,
        **_NOT_FOUND,
    },
)
def get_provisioning(connection_id: str) -> dict[str, Any]:
    deps = runtime.policy_management()
    ou = _policy_owner(deps)
    return {"provisioning": provisioning_body(read_policy(ou, connection_id, deps))}


@app.put(
    PROVISIONING,
    summary="Replace a conferencing connection's provisioning policy",
    description=(
        "Replaces the whole policy: a setting left out takes its default. With `version`, only "
        "if the stored policy is still that version (409 otherwise); without it, the last write "
        "wins. Zoom connections only. Applied at the next delegated-access request and at every "
        "sync of the connection."
    ),
    tags=["Organizational Units"],
    responses={
        **_POLICY_ANSWER,
        **documented_errors(400, 401, 413, 415, 429, 503),
        422: json_body("Invalid settings, each named" + _NOT_ZOOM, "ErrorsResponse"),
        409: json_body("`version` is not the stored one (errors.stale_version)", "ErrorsResponse"),
        **_FORBIDDEN,
        **_NOT_FOUND,
    },
)
def put_provisioning(connection_id: str) -> dict[str, Any]:
    deps = runtime.policy_management()
    ou = _policy_owner(deps)
    body = json_object_body(app)
    stored = replace_policy(ou, connection_id, body, deps)
    logger.info(
        "provisioning policy replaced",
        extra={"ou_id": ou.ou_id, "connection_id": connection_id, "version": stored.version},
    )
    metrics.add_metric(name="ProvisioningPoliciesReplaced", unit=MetricUnit.Count, value=1)
    return {"provisioning": provisioning_body(stored)}


@app.get(
    PROVISIONING_EVENTS_PATH,
    summary="The Organizational Unit's provisioning log",
    description=(
        "Every action provisioning took at the OU's Zoom connections (create, adopt, update, "
        "disable, remove) and its result (`ok`, `failed`, `skipped`), newest first, kept 90 days. "
        "Paged like Cronofy's lists: GET `pages.next_page` for the next page."
    ),
    tags=["Organizational Units"],
    responses={
        200: {"description": "One page", "content": {"application/json": {"schema": EVENTS_ANSWER}}},
        **documented_errors(401, 429, 503),
        422: json_body("`page` is not a page of this list (errors.invalid)", "ErrorsResponse"),
        **_FORBIDDEN,
    },
)
def get_provisioning_events() -> dict[str, Any]:
    deps = runtime.policy_management()
    ou = _policy_owner(deps)
    raw = app.current_event.get_query_string_value("page")
    cursor = decode_cursor(raw) if raw is not None else None
    page = runtime.provisioning_event_log().page(ou.ou_id, cursor=cursor, now=deps.now)
    base = app_base_url(app.current_event, settings.load(settings.FlowSettings).app_url)
    return events_body(page, base)


app.document_body("post", COLLECTION, NEW_CONNECTION_REQUEST)
app.document_body("put", PROVISIONING.replace("<", "{").replace(">", "}"), POLICY_REQUEST)
for _method, _path in (
    ("post", COLLECTION),
    ("post", TEST),
    ("delete", ITEM),
    ("get", PROVISIONING),
    ("put", PROVISIONING),
    ("get", PROVISIONING_EVENTS_PATH),
):
    # The document names path parameters the OpenAPI way.
    app.document_security(_method, _path.replace("<", "{").replace(">", "}"), "organizationalUnitToken")


@observed(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The answers describe an Organizational Unit's connections.
    return with_no_store(app.resolve(event, context))
