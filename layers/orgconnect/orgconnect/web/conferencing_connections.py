"""The answers of the OU-token connection API (SPEC 2.5; issue 11 item 1): the connection and
test bodies, and the errors that are particular to it (404, 503 with ``Retry-After``). Nothing
here ever holds a client secret or a provider token.
"""

from __future__ import annotations

import math
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from orgconnect.domain.conferencing_connections import (
    AlreadyLinked,
    ConnectionNotFound,
    ManagedConnection,
    RetestNotSupported,
)
from orgconnect.domain.connection_checks import CheckName, ConnectionCheck
from orgconnect.domain.errors import FieldError
from orgconnect.domain.model import ConnectionStatus
from orgconnect.domain.provider_model import ProviderUnavailable
from orgconnect.domain.server_to_server import (
    MAX_ID_LENGTH,
    MAX_SECRET_LENGTH,
    SERVER_TO_SERVER_PROVIDERS,
    AuthorizationType,
)
from orgconnect.observability import logger
from orgconnect.web.api import BodySchema
from orgconnect.web.errors import errors_body, json_response

# Without the provider's own Retry-After, ask the integrator to wait this long.
DEFAULT_RETRY_AFTER_SECONDS = 10
MAX_RETRY_AFTER_SECONDS = 300


def connection_body(connection: ManagedConnection) -> dict[str, Any]:
    """A connection as the API shows it (never its secret or its ARN)."""
    return {
        "connection_id": connection.connection_id,
        "provider_name": connection.provider_name,
        "account_name": connection.account_name,
        "status": str(connection.status),
        "authorization_type": str(connection.authorization_type),
    }


def check_body(check: ConnectionCheck) -> dict[str, Any]:
    """What a connection test found: each check, the missing scopes, the errors (if it failed)."""
    body: dict[str, Any] = {
        "passed": check.passed,
        "checks": [
            {"name": str(s.name), "passed": s.passed, "description": s.description} for s in check.steps
        ],
        "granted_scopes": list(check.granted_scopes),
        "missing_scopes": list(check.missing_scopes),
    }
    if not check.passed:
        body["errors"] = errors_body(check.errors())["errors"]
    return body


def retry_after(error: ProviderUnavailable) -> int:
    """Whole seconds to wait: the provider's own ``Retry-After`` when it sent one, else a default."""
    if error.retry_after is None:
        return DEFAULT_RETRY_AFTER_SECONDS
    return max(1, min(MAX_RETRY_AFTER_SECONDS, math.ceil(error.retry_after)))


def _provider_unavailable(error: ProviderUnavailable) -> Response[Any]:
    logger.warning("provider unavailable", extra={"reason": error.description, "status": error.status})
    seconds = retry_after(error)
    return json_response(
        503,
        {
            "error": "provider_unavailable",
            "error_description": "The provider did not answer; nothing was changed. Retry later.",
        },
        {"Retry-After": str(seconds)},
    )


def _not_found(_: ConnectionNotFound) -> Response[Any]:
    return json_response(404, {"error": "not_found", "error_description": "No such conferencing connection."})


def _already_linked(error: AlreadyLinked) -> Response[Any]:
    # 409: the request is well formed and the credentials work, but the account is taken.
    found = error.error or FieldError(
        "server_to_server.account_id", "errors.already_linked", "Already linked."
    )
    return json_response(409, errors_body([found]))


def _not_testable(_: RetestNotSupported) -> Response[Any]:
    error = FieldError(
        "connection_id",
        "errors.not_server_to_server",
        (
            "Only Server-to-Server and browser-linked Zoom connections can be tested; "
            "relink this one through the authorization flow."
        ),
    )
    return json_response(422, errors_body([error]))


def register_connection_errors(app: APIGatewayRestResolver) -> None:
    """The answers to this API's own exceptions (on top of orgconnect.web.errors)."""
    app.exception_handler(ProviderUnavailable)(_provider_unavailable)
    app.exception_handler(ConnectionNotFound)(_not_found)
    app.exception_handler(AlreadyLinked)(_already_linked)
    app.exception_handler(RetestNotSupported)(_not_testable)


# -- the OpenAPI document ---------------------------------------------------------------------

_CREDENTIAL = {"type": "string", "pattern": "^[!-~]+$", "minLength": 1}
NEW_CONNECTION_REQUEST = BodySchema(
    "ServerToServerConnectionRequest",
    {
        "type": "object",
        "required": ["provider_name", "server_to_server"],
        "properties": {
            "provider_name": {"type": "string", "enum": list(SERVER_TO_SERVER_PROVIDERS)},
            "server_to_server": {
                "type": "object",
                "description": "The Server-to-Server OAuth app's App Credentials (Zoom Marketplace).",
                "required": ["account_id", "client_id", "client_secret"],
                "properties": {
                    "account_id": {**_CREDENTIAL, "maxLength": MAX_ID_LENGTH},
                    "client_id": {**_CREDENTIAL, "maxLength": MAX_ID_LENGTH},
                    "client_secret": {**_CREDENTIAL, "maxLength": MAX_SECRET_LENGTH, "writeOnly": True},
                },
            },
        },
    },
)
_CONNECTION = {
    "type": "object",
    "required": ["connection_id", "provider_name", "account_name", "status", "authorization_type"],
    "properties": {
        "connection_id": {"type": "string", "examples": ["cnx_5f2c8e1a9b3d4c6e7f8a9b0c"]},
        "provider_name": {"type": "string", "examples": ["zoom_enterprise"]},
        "account_name": {"type": "string"},
        "status": {"type": "string", "enum": [str(s) for s in ConnectionStatus]},
        "authorization_type": {"type": "string", "enum": [str(a) for a in AuthorizationType]},
    },
}
_ERRORS = {
    "type": "object",
    "additionalProperties": {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["key", "description"],
            "properties": {"key": {"type": "string"}, "description": {"type": "string"}},
        },
    },
}
_TEST = {
    "type": "object",
    "required": ["passed", "checks", "granted_scopes", "missing_scopes"],
    "properties": {
        "passed": {"type": "boolean"},
        "checks": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "passed", "description"],
                "properties": {
                    "name": {"type": "string", "enum": [str(c) for c in CheckName]},
                    "passed": {"type": ["boolean", "null"], "description": "null: not run"},
                    "description": {"type": "string"},
                },
            },
        },
        "granted_scopes": {"type": "array", "items": {"type": "string"}},
        "missing_scopes": {"type": "array", "items": {"type": "string"}},
        "errors": _ERRORS,
    },
}
CONNECTION_ANSWER = {
    "type": "object",
    "required": ["conferencing_connection", "test"],
    "properties": {"conferencing_connection": _CONNECTION, "test": _TEST},
}
TEST_ANSWER = CONNECTION_ANSWER
