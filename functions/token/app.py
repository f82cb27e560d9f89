"""POST /oauth/token and POST /oauth/token/revoke (SPEC 2.2; RFC 6749, RFC 7009).

The integrator redeems the authorization code of an Organizational Unit authorization for an
access token and a refresh token, rotates the refresh token, and revokes a grant by token or
by sub. Request parsing and RFC 6749 error answers live in ``orgconnect.web.oauth_requests``,
the documented request bodies in ``orgconnect.web.oauth_schemas``; the rules in
``orgconnect.domain.tokens`` and ``orgconnect.domain.revocation``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from orgconnect import delegated_runtime, runtime, settings
from orgconnect.domain.accounts import ACCOUNT_PREFIX
from orgconnect.domain.codes import GrantKind
from orgconnect.domain.grants import GrantType, TokenSet
from orgconnect.domain.oauth_errors import InvalidOAuthRequest, OAuthError, UnsupportedGrantType
from orgconnect.domain.revocation import revoke
from orgconnect.domain.tokens import exchange_code, exchange_refresh_token
from orgconnect.observability import logger, metrics, observed
from orgconnect.web.accounts import account_token_body
from orgconnect.web.api import create_api
from orgconnect.web.errors import documented_errors
from orgconnect.web.no_store import NO_STORE_HEADERS, with_no_store
from orgconnect.web.oauth_requests import (
    client_credentials,
    oauth_error_response,
    oauth_parameters,
    required_parameter,
    string_parameter,
    token_response_body,
)
from orgconnect.web.oauth_schemas import REVOCATION_REQUEST, TOKEN_REQUEST
from orgconnect.web.openapi import json_body

settings.validate(settings.API_FUNCTION)
app = create_api()


def _oauth_errors(*statuses: int) -> dict[int, Any]:
    described = {400: "invalid_request, invalid_grant or unsupported_grant_type", 401: "invalid_client"}
    return {s: json_body(described[s], "OAuthErrorResponse") for s in statuses}


def _refused(error: OAuthError) -> Response[Any]:
    # The error code only: descriptions may echo parameter names the caller chose.
    logger.info("oauth request refused", extra={"error": error.error, "path": app.current_event.path})
    metrics.add_metric(name="OAuthRequestsRefused", unit=MetricUnit.Count, value=1)
    return oauth_error_response(error)


app.exception_handler(OAuthError)(_refused)


@app.post(
    "/oauth/token",
    summary="Redeem an authorization code or rotate a refresh token",
    description=(
        "RFC 6749 token endpoint. JSON or form-encoded body; client authentication with "
        "`client_id` + `client_secret` in the body or HTTP Basic (not both). Answers carry "
        "`Cache-Control: no-store`."
    ),
    tags=["OAuth"],
    responses={
        200: json_body("The tokens", "TokenResponse"),
        **_oauth_errors(400, 401),
        **documented_errors(429, 503),
    },
)
def token() -> Response[Any]:
    event = app.current_event
    params = oauth_parameters(event)
    credentials = client_credentials(event, params)
    grant_type = required_parameter(params, "grant_type")
    store, hasher, now = runtime.get_token_store(), runtime.get_hasher(), runtime.now()
    if grant_type == GrantType.AUTHORIZATION_CODE:
        code = required_parameter(params, "code")
        redirect_uri = required_parameter(params, "redirect_uri")
        verifier = string_parameter(params, "code_verifier")
        tokens = exchange_code(
            credentials, code, redirect_uri, code_verifier=verifier, store=store, hasher=hasher, now=now
        )
    elif grant_type == GrantType.REFRESH_TOKEN:
        refresh_token = required_parameter(params, "refresh_token")
        string_parameter(params, "scope")  # must be a string if sent; the grant keeps its scope
        tokens = exchange_refresh_token(credentials, refresh_token, store=store, hasher=hasher, now=now)
    else:
        raise UnsupportedGrantType("Only authorization_code and refresh_token are supported.")
    logger.info(
        "tokens issued",
        extra={"grant_type": grant_type, "client_id": tokens.client_id, "grant_id": tokens.grant_id},
    )
    metrics.add_metric(name="TokensIssued", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=_token_body(tokens),
        headers=NO_STORE_HEADERS,
    )


def _token_body(tokens: TokenSet) -> dict[str, Any]:
    """The token response; an account grant's names its calendar profile (one GetItem)."""
    if tokens.kind is GrantKind.ACCOUNT:
        return account_token_body(tokens, delegated_runtime.accounts().get(tokens.sub))
    return token_response_body(tokens)


@app.post(
    "/oauth/token/revoke",
    summary="Revoke a grant by token or by sub",
    description=(
        "RFC 7009. `token` (an access or refresh token) revokes its whole grant; `sub` revokes "
        "every grant of this application for that Organizational Unit (its links stay). 200 "
        "with no body, also for unknown or already revoked tokens."
    ),
    tags=["OAuth"],
    responses={
        200: {"description": "Revoked (or nothing to revoke)"},
        **_oauth_errors(400, 401),
        **documented_errors(429, 503),
    },
)
def revoke_grant() -> Response[Any]:
    event = app.current_event
    params = oauth_parameters(event)
    credentials = client_credentials(event, params)
    token_value = string_parameter(params, "token")
    sub = string_parameter(params, "sub")
    string_parameter(params, "token_type_hint")  # must be a string if sent; not needed to find the token
    erasure = _pii_erasure_requested(params)
    store, hasher = runtime.get_token_store(), runtime.get_hasher()
    subjects: list[str] = []
    client_id = revoke(
        credentials,
        token=token_value,
        sub=sub,
        store=store,
        hasher=hasher,
        now=runtime.now(),
        on_revoked=subjects.append,
    )
    logger.info(
        "revocation accepted",
        extra={"client_id": client_id, "by": "token" if token_value else "sub", "pii_erasure": erasure},
    )
    if erasure:
        _queue_departures(client_id, subjects)
    metrics.add_metric(name="RevocationsAccepted", unit=MetricUnit.Count, value=1)
    return Response(status_code=200, headers=NO_STORE_HEADERS)


def _pii_erasure_requested(params: dict[str, Any]) -> bool:
    """``request_pii_erasure``: a JSON boolean, or ``true``/``false`` in a form (cronofy-csharp's
    RevokeAuthorization option); anything else is invalid_request."""
    value = params.get("request_pii_erasure")
    if value is None or value in (False, "false", ""):
        return False
    if value is True or value == "true":
        return True
    raise InvalidOAuthRequest("The parameter request_pii_erasure must be true or false.")


def _queue_departures(client_id: str, subjects: list[str]) -> None:
    """An account revoked with PII erasure leaves: the worker removes its Zoom users per policy."""
    from orgconnect.workers.provisioning_departures import AccountDeparture

    queue = delegated_runtime.account_departures()
    for sub in dict.fromkeys(subjects):
        if sub.startswith(f"{ACCOUNT_PREFIX}_"):
            queue.send(AccountDeparture(client_id, sub).to_message())
            logger.info("account departure queued", extra={"client_id": client_id, "account_id": sub})


app.document_body("post", "/oauth/token", TOKEN_REQUEST)
app.document_body("post", "/oauth/token/revoke", REVOCATION_REQUEST)
for _path in ("/oauth/token", "/oauth/token/revoke"):
    app.document_security("post", _path, "clientSecretBasic")


@observed(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Every answer, errors and 404s included, must not be cached (RFC 6749 section 5.1).
    return with_no_store(app.resolve(event, context), pragma=True)
