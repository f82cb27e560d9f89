"""POST /v1/service_account_authorizations (Cronofy's delegated access) for a service-account token.

Authenticate the bearer token (401 as for every API token; 403 ``insufficient_scope`` for an OU
or account token), read the body after authentication, validate it against the service account's
``delegated_scope`` (422 in the errors format), then queue one message per email.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from orgconnect.domain.accounts import CalendarTenant
from orgconnect.domain.codes import GrantKind
from orgconnect.domain.delegated_access import (
    BATCH_FIELD,
    MAX_BATCH,
    DelegatedAccessQueue,
    DelegatedAccessRequest,
    validate_authorizations,
)
from orgconnect.domain.errors import AuthenticationFailed
from orgconnect.domain.grants import AccessGrant
from orgconnect.web.api import BodySchema
from orgconnect.web.errors import json_response
from orgconnect.web.request import json_object_body

SERVICE_ACCOUNT_SCOPE = "service_account/accounts/manage"

_ONE: dict[str, Any] = {
    "type": "object",
    "required": ["email", "scope", "callback_url"],
    "properties": {
        "email": {"type": "string", "format": "email", "maxLength": 254},
        "scope": {"type": "string", "description": "Within the service account's delegated_scope"},
        "callback_url": {"type": "string", "format": "uri", "maxLength": 2048},
        "state": {"type": "string", "maxLength": 2048},
    },
}
REQUEST_BODY = BodySchema(
    "ServiceAccountAuthorizationRequest",
    {
        "oneOf": [
            _ONE,
            {
                "type": "object",
                "required": [BATCH_FIELD],
                "properties": {
                    BATCH_FIELD: {"type": "array", "minItems": 1, "maxItems": MAX_BATCH, "items": _ONE},
                    "state": {"type": "string", "description": "Default state of entries without one"},
                },
            },
        ]
    },
)


class NotAServiceAccountToken(Exception):
    """A valid token of another kind (an Organizational Unit or account token)."""


def insufficient_scope_response(_: NotAServiceAccountToken) -> Response[Any]:
    """403 with RFC 6750's ``insufficient_scope`` challenge."""
    return json_response(
        403,
        {"error": "insufficient_scope", "error_description": "This endpoint needs a service-account token."},
        {
            "WWW-Authenticate": (
                f'Bearer realm="orgconnect", error="insufficient_scope", scope="{SERVICE_ACCOUNT_SCOPE}"'
            )
        },
    )


def accept(
    app: APIGatewayRestResolver,
    grant: AccessGrant,
    *,
    load_tenant: Callable[[str], CalendarTenant | None],
    queue: Callable[[], DelegatedAccessQueue],
) -> list[DelegatedAccessRequest]:
    """Validate the body for ``grant`` (a service-account token) and queue it; the queued requests."""
    # Access to user accounts needs the accounts scope (a resources-only token cannot ask for it).
    if grant.kind is not GrantKind.SERVICE_ACCOUNT or SERVICE_ACCOUNT_SCOPE not in grant.scope.split():
        raise NotAServiceAccountToken()
    tenant = load_tenant(grant.sub)
    # The service account was deleted (or is not this client's): the token stands for nothing.
    if tenant is None or tenant.service_account.client_id != grant.client_id:
        raise AuthenticationFailed()
    requests = validate_authorizations(
        json_object_body(app),
        client_id=grant.client_id,
        service_account_id=grant.sub,
        delegated_scope=tenant.delegated_scope,
    )
    queue().enqueue(requests)
    return requests
