"""The one mapping from exceptions to HTTP answers, shared by every API function.

Error bodies follow Cronofy's conventions: 422 ``{"errors": {field: [{"key", "description"}]}}``,
401 with no detail, and never a stack trace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from orgconnect.domain.errors import (
    AuthenticationFailed,
    Conflict,
    FieldError,
    InvalidRequest,
    MalformedRequest,
    TemporarilyUnavailable,
)
from orgconnect.web.openapi import json_body

logger = Logger()


def documented_errors(*statuses: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI ``responses`` entries for the error statuses a route can answer."""
    described = {
        400: ("The body is not valid JSON", "ErrorsResponse"),
        401: ("Missing or unrecognized credentials", "ErrorResponse"),
        413: ("The body is too large", "ErrorsResponse"),
        415: ("The body is not JSON", "ErrorsResponse"),
        422: ("One or more parameters are invalid", "ErrorsResponse"),
        429: ("Rate limited; retry later", "ErrorResponse"),
        503: ("A dependency is unavailable; retry shortly", "ErrorResponse"),
    }
    return {s: json_body(*described[s]) for s in statuses}


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers
    )


def errors_body(errors: tuple[FieldError, ...] | list[FieldError]) -> dict[str, Any]:
    """Cronofy's 422 body: errors grouped by field."""
    grouped: dict[str, list[dict[str, str]]] = {}
    for e in errors:
        grouped.setdefault(e.field, []).append({"key": e.key, "description": e.description})
    return {"errors": grouped}


def bearer_challenge(error: AuthenticationFailed) -> str:
    """RFC 6750 section 3.1: a bare challenge when no token came, ``invalid_token`` for a refused one."""
    if not error.credentials_presented:
        return 'Bearer realm="orgconnect"'
    return 'Bearer realm="orgconnect", error="invalid_token"'


def _unauthorized(error: AuthenticationFailed) -> Response[Any]:
    return json_response(
        401,
        {"error": "unauthorized", "error_description": "The credentials were not recognized."},
        {"WWW-Authenticate": bearer_challenge(error)},
    )


def _invalid(error: InvalidRequest) -> Response[Any]:
    return json_response(422, errors_body(error.errors))


def _malformed(error: MalformedRequest) -> Response[Any]:
    return json_response(error.status, errors_body([FieldError("body", "errors.invalid", error.description)]))


def _conflict(_: Conflict) -> Response[Any]:
    return json_response(409, {"error": "conflict", "error_description": "Please retry the request."})


def _unavailable(error: TemporarilyUnavailable) -> Response[Any]:
    logger.warning("dependency unavailable", extra={"reason": str(error)})
    return json_response(
        503,
        {"error": "temporarily_unavailable", "error_description": "Please retry shortly."},
        {"Retry-After": "1"},
    )


def _not_found(_: NotFoundError) -> Response[Any]:
    return json_response(404, {"error": "not_found", "error_description": "No such endpoint."})


def request_id(app: APIGatewayRestResolver) -> str | None:
    """API Gateway's id of the current request: what an operator searches the logs for."""
    try:
        return app.current_event.request_context.request_id
    except (AttributeError, KeyError, TypeError):
        return None


_HANDLERS: list[tuple[type[Exception], Callable[[Any], Response[Any]]]] = [
    (AuthenticationFailed, _unauthorized),
    (InvalidRequest, _invalid),
    (MalformedRequest, _malformed),
    (Conflict, _conflict),
    (TemporarilyUnavailable, _unavailable),
]


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    """Attach the central exception-to-HTTP mapping to ``app`` (most specific class wins)."""
    for exception_class, handler in _HANDLERS:
        app.exception_handler(exception_class)(handler)

    def unexpected(_: Exception) -> Response[Any]:
        # Logged with its stack trace for operators; the caller only gets the request id.
        logger.exception("unhandled error")
        return json_response(
            500,
            {
                "error": "internal_error",
                "error_description": "Something went wrong.",
                "request_id": request_id(app),
            },
        )

    app.exception_handler(Exception)(unexpected)
    app.not_found(_not_found)
