"""Authentication of API calls made with an Organizational Unit access token.

``Authorization: Bearer {access_token}`` from ``POST /oauth/token``, never a token in the URL
(security rule T4). 401 for a missing, unknown, expired or revoked token, or one whose OU is gone;
403 ``insufficient_scope`` for a valid token of another kind (account, service account).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.metrics import MetricUnit

from orgconnect.domain.clients import bearer_token
from orgconnect.domain.codes import OU_SCOPE, GrantKind
from orgconnect.domain.errors import AuthenticationFailed
from orgconnect.domain.grants import AccessGrant, TokenRepository
from orgconnect.domain.secrets import SecretHasher
from orgconnect.domain.tokens import authenticate_access_token
from orgconnect.observability import metrics
from orgconnect.web.errors import json_response


class InsufficientScope(Exception):
    """A valid token of another kind of grant (an account or service-account token)."""


class OwnedByClient(Protocol):
    @property
    def client_id(self) -> str: ...


def insufficient_scope_response(_: InsufficientScope) -> Response[Any]:
    """403 with RFC 6750's ``insufficient_scope`` challenge."""
    return json_response(
        403,
        {
            "error": "insufficient_scope",
            "error_description": "This endpoint needs an Organizational Unit token.",
        },
        {"WWW-Authenticate": f'Bearer realm="orgconnect", error="insufficient_scope", scope="{OU_SCOPE}"'},
    )


def _refused() -> None:
    metrics.add_metric(name="AccessTokensRefused", unit=MetricUnit.Count, value=1)


def caller_grant(
    app: APIGatewayRestResolver, *, tokens: TokenRepository, hasher: SecretHasher, now: int
) -> AccessGrant:
    """The grant behind the request's bearer token (AuthenticationFailed for anything else)."""
    event = app.current_event
    try:
        if "access_token" in event.query_string_parameters or "access_token" in (
            event.multi_value_query_string_parameters
        ):
            # T4: a token in a URL ends up in logs and Referer headers; refuse it even beside a header.
            raise AuthenticationFailed()
        token = bearer_token(event.headers.get("authorization"))
        return authenticate_access_token(token, store=tokens, hasher=hasher, now=now)
    except AuthenticationFailed:
        _refused()
        raise


def organizational_unit_for[T: OwnedByClient](grant: AccessGrant, *, load: Callable[[str], T | None]) -> T:
    """The Organizational Unit (as ``load`` reads it) of an OU token's grant."""
    if grant.kind is not GrantKind.ORGANIZATIONAL_UNIT:
        _refused()
        raise InsufficientScope()
    ou = load(grant.sub)
    # The OU was deleted (or is not this client's): the token stands for nothing any more.
    if ou is None or ou.client_id != grant.client_id:
        _refused()
        raise AuthenticationFailed()
    return ou


def organizational_unit_of[T: OwnedByClient](
    app: APIGatewayRestResolver,
    *,
    tokens: TokenRepository,
    hasher: SecretHasher,
    now: int,
    load: Callable[[str], T | None],
) -> T:
    """The caller's Organizational Unit (as ``load`` reads it) for an OU token of its client."""
    return organizational_unit_for(caller_grant(app, tokens=tokens, hasher=hasher, now=now), load=load)
