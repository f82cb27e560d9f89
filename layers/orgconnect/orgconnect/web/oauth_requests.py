"""HTTP side of ``POST /oauth/token`` and ``POST /oauth/token/revoke`` (RFC 6749, RFC 7009).

Reads what Cronofy's SDKs send: JSON bodies (pycronofy, C#, Node) and form-encoded bodies
(Ruby), with the client authenticated by ``client_id`` + ``client_secret`` in the body or by
HTTP Basic (RFC 6749 section 2.3.1). An ``Authorization: Bearer …`` header is ignored here:
pycronofy sends one with every request, including ``Bearer None`` before it has a token.
Every answer carries ``Cache-Control: no-store`` and ``Pragma: no-cache`` (anchors T2).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from orgconnect.domain.client_authentication import ClientCredentials
from orgconnect.domain.codes import GrantKind
from orgconnect.domain.grants import TokenSet
from orgconnect.domain.oauth_errors import InvalidClient, InvalidOAuthRequest, OAuthError
from orgconnect.web.no_store import NO_STORE_HEADERS
from orgconnect.web.request import MAX_BODY_BYTES, body_text

CLIENT_CHALLENGE = 'Basic realm="orgconnect"'
_FORM = "application/x-www-form-urlencoded"
# The parameters the token and revocation endpoints read; any other is ignored.
OAUTH_PARAMETERS = frozenset(
    {
        "grant_type",
        "code",
        "redirect_uri",
        "code_verifier",
        "refresh_token",
        "scope",
        "client_id",
        "client_secret",
        "token",
        "token_type_hint",
        "sub",
        "request_pii_erasure",  # revocation: the account leaves (docs/provisioning.md)
    }
)
# More fields than any token or revocation request has: beyond it the body is refused.
_MAX_FIELDS = 50


def oauth_parameters(event: APIGatewayProxyEvent) -> dict[str, Any]:
    """The request parameters from a JSON or form-encoded body.

    Anything unreadable is invalid_request (RFC 6749 section 5.2): another content type, an
    oversized body, bytes that do not parse, JSON that is not an object, a repeated parameter.
    """
    raw = body_text(event)
    if raw is None:
        raise InvalidOAuthRequest("The request body is not UTF-8 text.")
    if len(raw.encode()) > MAX_BODY_BYTES:
        raise InvalidOAuthRequest("The request body is too large.")
    content_type = event.headers.get("content-type") or ""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not media_type:
        # No Content-Type: accept either encoding rather than guess wrongly about a client.
        media_type = "application/json" if raw.lstrip().startswith("{") else _FORM
    if media_type == "application/json" or media_type.endswith("+json"):
        return _json_parameters(raw)
    if media_type == _FORM:
        return _form_parameters(raw)
    raise InvalidOAuthRequest("The body must be application/json or application/x-www-form-urlencoded.")


def _json_parameters(raw: str) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidOAuthRequest("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise InvalidOAuthRequest("The request body must be a JSON object.")
    return body


def _form_parameters(raw: str) -> dict[str, Any]:
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, max_num_fields=_MAX_FIELDS)
    except ValueError:
        raise InvalidOAuthRequest("The request body has too many parameters.") from None
    params: dict[str, Any] = {}
    for name, value in pairs:
        if name not in OAUTH_PARAMETERS:
            continue  # RFC 6749 section 3.1: unrecognized parameters are ignored
        if name in params:
            # RFC 6749 section 3.2: parameters MUST NOT be included more than once.
            raise InvalidOAuthRequest(f"The parameter {name} is repeated.")
        params[name] = value
    return params


def string_parameter(params: dict[str, Any], name: str) -> str | None:
    """A parameter as a string; None when absent or empty (RFC 6749 section 3.1). A JSON null is
    not a string, so it is refused like any other non-string value."""
    if name not in params:
        return None
    value = params[name]
    if value == "":
        return None
    if not isinstance(value, str):
        raise InvalidOAuthRequest(f"The parameter {name} must be a string.")
    return value


def required_parameter(params: dict[str, Any], name: str) -> str:
    """A parameter that must be present and non-empty (invalid_request otherwise)."""
    value = string_parameter(params, name)
    if value is None:
        raise InvalidOAuthRequest(f"The parameter {name} is required.")
    return value


def client_credentials(event: APIGatewayProxyEvent, params: dict[str, Any]) -> ClientCredentials | None:
    """The client's credentials from HTTP Basic or from the body; both at once is invalid_request.

    None when the caller sent none (the domain answers invalid_client).
    """
    basic = _basic_credentials(event.headers.get("authorization"))
    body_id = string_parameter(params, "client_id")
    body_secret = string_parameter(params, "client_secret")
    if basic is not None:
        if body_secret is not None:
            raise InvalidOAuthRequest("Use one client authentication method: HTTP Basic or the body.")
        if body_id is not None and body_id != basic.client_id:
            raise InvalidOAuthRequest("client_id differs between HTTP Basic and the body.")
        return basic
    if body_id is None and body_secret is None:
        return None
    return ClientCredentials(body_id or "", body_secret or "")


def _basic_credentials(header: str | None) -> ClientCredentials | None:
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient("The HTTP Basic credentials cannot be read.") from None
    user, separator, password = decoded.partition(":")
    if not separator:
        raise InvalidClient("The HTTP Basic credentials cannot be read.")
    # RFC 6749 section 2.3.1: both parts are form-encoded before Basic encoding.
    return ClientCredentials(unquote_plus(user), unquote_plus(password))


def token_response_body(tokens: TokenSet) -> dict[str, Any]:
    """The token response (SPEC 2.2) for an Organizational Unit or a service-account grant."""
    body: dict[str, Any] = {
        "token_type": "bearer",
        "access_token": tokens.access_token,
        "expires_in": tokens.expires_in,
        "refresh_token": tokens.refresh_token,
        "scope": tokens.scope,
    }
    if tokens.kind is GrantKind.SERVICE_ACCOUNT:
        return {**body, "service_account_id": tokens.sub, "sub": tokens.sub}
    if tokens.kind is not GrantKind.ORGANIZATIONAL_UNIT:
        raise ValueError(f"no token response shape for {tokens.kind} grants yet")
    return {
        **body,
        "sub": tokens.sub,
        "organizational_unit": {"sub": tokens.sub, "name": tokens.subject_name},
    }


def oauth_error_response(error: OAuthError) -> Response[Any]:
    """RFC 6749 section 5.2: 400 with ``error``, or 401 invalid_client with a Basic challenge."""
    headers = dict(NO_STORE_HEADERS)
    if isinstance(error, InvalidClient):
        headers["WWW-Authenticate"] = CLIENT_CHALLENGE
    return Response(
        status_code=error.status,
        content_type=content_types.APPLICATION_JSON,
        body={"error": error.error, "error_description": error.description},
        headers=headers,
    )
