"""Microsoft's error shapes: AADSTS bodies (identity platform), Graph errors, token refusals."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from devstack.simulators.http_helpers import json_response
from devstack.simulators.microsoft_model import iso_utc
from devstack.simulators.token_endpoint import ClientAuthRules, CodeExchangeRules, Refusal


def aadsts_body(error: str, code: int, message: str, now: float) -> dict[str, Any]:
    """The identity platform's error body for AADSTS ``code`` at time ``now``."""
    trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return {
        "error": error,
        "error_description": f"AADSTS{code}: {message}\r\nTrace ID: {trace_id}\r\n"
        f"Correlation ID: {correlation_id}\r\nTimestamp: {stamp}",
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }


def graph_error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    now: float,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Graph's ``{"error": {"code", "message", "innerError"}}`` with its request-id headers."""
    request_id = str(uuid.uuid4())
    client_request_id = request.headers.get("client-request-id") or request_id
    body = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": iso_utc(now),
                "request-id": request_id,
                "client-request-id": client_request_id,
            },
        }
    }
    merged = {"request-id": request_id, "client-request-id": client_request_id, **(headers or {})}
    return json_response(body, status, headers=merged)


def aadsts_response(error: str, code: int, message: str, status: int, now: float) -> Response:
    """An AADSTS error answer (never cached)."""
    body = aadsts_body(error, code, message, now)
    return json_response(body, status, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


_GRAPH_CODES = {
    400: "BadRequest",
    401: "InvalidAuthenticationToken",
    403: "Authorization_RequestDenied",
    404: "Request_ResourceNotFound",
    405: "Request_BadRequest",
    429: "TooManyRequests",
    503: "serviceNotAvailable",
    504: "gatewayTimeout",
}
_IDENTITY_PATHS = ("/oauth2/", "/adminconsent", "/discovery/", "/.well-known/")


def status_error_response(request: Request, status: int, message: str, now: float) -> Response:
    """An HTTP error: Graph's shape on Graph paths, an AADSTS body on the identity paths."""
    if not any(marker in request.path for marker in _IDENTITY_PATHS):
        return graph_error_response(
            request, status, _GRAPH_CODES.get(status, "generalException"), message, now
        )
    error = "temporarily_unavailable" if status in (503, 504) else "server_error"
    if status < 500:
        error = "invalid_request"
    return aadsts_response(error, 90033 if status >= 500 else 900144, message, status, now)


def throttled_response(request: Request, retry_after: int, now: float) -> Response:
    """A 429: Graph's ``TooManyRequests`` under ``/v1.0``, else the AADSTS shape."""
    headers = {"Retry-After": str(retry_after)}
    if not request.path.startswith("/v1.0/"):
        loop = "The server terminated an operation because it encountered a client request loop."
        return json_response(aadsts_body("temporarily_unavailable", 50196, loop, now), 429, headers=headers)
    message = "Too many requests from Identifier: tenant and application. Please try again later."
    return graph_error_response(request, 429, "TooManyRequests", message, now, headers)


#: AADSTS50173: a refresh token (or an injected invalid_grant) whose grant was revoked.
REVOKED_GRANT = "The provided grant has expired due to it being revoked, a fresh auth token is needed."


#: The start of AADSTS900144 messages.
MISSING_PARAMETER = "The request body must contain the following parameter: "
_BAD_VERIFIER = Refusal(
    "invalid_grant",
    "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
    provider_code=501481,
)
CODE_EXCHANGE = CodeExchangeRules(
    fallback=Refusal(
        "invalid_grant", "Invalid request. Request is malformed or invalid.", provider_code=9002313
    ),
    refusals={
        "missing_code": Refusal("invalid_request", MISSING_PARAMETER + "'code'.", provider_code=900144),
        "wrong_client": Refusal(
            "invalid_grant", "Provided grant is invalid or malformed.", provider_code=70000
        ),
        "used_code": Refusal(
            "invalid_grant",
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code "
            "or use an existing refresh token.",
            provider_code=54005,
        ),
        "expired_code": Refusal(
            "invalid_grant",
            "The provided authorization code or refresh token has expired due to inactivity. Send a new "
            "interactive authorization request for this user and resource.",
            provider_code=70008,
        ),
        "redirect_uri_mismatch": Refusal(
            "invalid_grant",
            "The redirect URI '{redirect_uri}' specified in the request does not "
            "match the redirect URI used in the authorization request.",
            provider_code=50011,
        ),
        "verifier_missing": _BAD_VERIFIER,
        "verifier_unexpected": _BAD_VERIFIER,
        "verifier_mismatch": _BAD_VERIFIER,
    },
)


def client_auth_rules(tenant_display_name: str) -> ClientAuthRules:
    """Entra ID's client authentication (Basic or the body, never both) and its AADSTS refusals."""
    return ClientAuthRules(
        methods=frozenset({"basic", "body"}),
        fallback=Refusal(
            "invalid_client",
            "Invalid client secret provided. Ensure the secret being sent in the request is the client "
            "secret value, not the client secret ID, for a secret added to app '{client_id}'.",
            401,
            7000215,
        ),
        refusals={
            "auth_conflict": Refusal(
                "invalid_request",
                "Only one client authentication method may be used: HTTP Basic or client_secret in the body.",
                provider_code=90023,
            ),
            "missing_client_id": Refusal(
                "invalid_request", MISSING_PARAMETER + "'client_id'.", provider_code=900144
            ),
            "unknown_client": Refusal(
                "unauthorized_client",
                "Application with identifier '{client_id}' was not found in the directory "
                f"'{tenant_display_name}'.",
                provider_code=700016,
            ),
            "missing_secret": Refusal(
                "invalid_client", MISSING_PARAMETER + "'client_assertion' or 'client_secret'.", 401, 7000218
            ),
        },
    )
