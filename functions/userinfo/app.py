"""GET /v1/userinfo and GET /v1/organizational_unit (SPEC 2.3, 2.5) for Organizational Unit tokens,
and GET /v1/userinfo for service-account tokens (Enterprise Connect).

Authenticated with ``Authorization: Bearer {access_token}`` from ``POST /oauth/token``; never
with a token in the URL (anchors T4). Both answers come from the same read model: the OU, its
service accounts and its conferencing connections.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from orgconnect import delegated_runtime, runtime, settings
from orgconnect.domain.codes import GrantKind
from orgconnect.domain.errors import AuthenticationFailed
from orgconnect.domain.grants import AccessGrant
from orgconnect.domain.organizational_unit_view import OrganizationalUnitView
from orgconnect.domain.profile_connection import connection_relink_url, profile_body
from orgconnect.observability import logger, metrics, observed
from orgconnect.web import browser
from orgconnect.web.accounts import account_userinfo
from orgconnect.web.api import create_api
from orgconnect.web.errors import documented_errors
from orgconnect.web.no_store import with_no_store
from orgconnect.web.openapi import json_body
from orgconnect.web.ou_token import (
    InsufficientScope,
    caller_grant,
    insufficient_scope_response,
    organizational_unit_for,
)

settings.validate(settings.API_FUNCTION)
app = create_api()


app.exception_handler(InsufficientScope)(insufficient_scope_response)


def _caller() -> AccessGrant:
    """The grant behind the request's bearer token (401 for anything else)."""
    return caller_grant(app, tokens=runtime.get_token_store(), hasher=runtime.get_hasher(), now=runtime.now())


def _organizational_unit(
    grant: AccessGrant | None = None, *, with_provisioning: bool = False
) -> OrganizationalUnitView:
    grant = grant or _caller()
    views = runtime.get_organizational_unit_views()
    view = organizational_unit_for(
        grant, load=lambda ou_id: views.get(ou_id, with_provisioning=with_provisioning)
    )
    logger.info("organizational unit read", extra={"client_id": grant.client_id, "sub": grant.sub})
    metrics.add_metric(name="OrganizationalUnitReads", unit=MetricUnit.Count, value=1)
    return view


def _service_accounts(view: OrganizationalUnitView) -> list[dict[str, str]]:
    return [
        {"service_account_id": s.service_account_id, "provider_name": s.provider_name, "domain": s.domain}
        for s in view.service_accounts
    ]


def _connections(view: OrganizationalUnitView) -> list[dict[str, str]]:
    return [
        {
            "provider_name": c.provider_name,
            "connection_id": c.connection_id,
            "account_name": c.account_name,
            "status": c.status,
        }
        for c in view.connections
    ]


@app.get(
    "/v1/userinfo",
    summary="Who an access token stands for",
    description=(
        "For an Organizational Unit token: the OU, its service accounts and its conferencing "
        "connections. For a service-account token (Enterprise Connect): `cronofy.type` "
        "`service_account`, its provider and domain, and the authorization's scopes. For an account "
        "token (delegated access): `cronofy.type` `account`, its calendar profile in "
        "`cronofy.data.profiles` and its `conferencing_profiles`."
    ),
    tags=["Identity"],
    responses={
        200: json_body("The userinfo", "Userinfo"),
        **documented_errors(401, 429, 503),
    },
)
def userinfo() -> dict[str, Any]:
    grant = _caller()
    if grant.kind is GrantKind.SERVICE_ACCOUNT:
        return _service_account(grant)
    if grant.kind is GrantKind.ACCOUNT:
        return _account(grant)
    view = _organizational_unit(grant)
    return {
        "sub": view.sub,
        "cronofy.type": "organizational_unit",
        "cronofy.data": {
            "organizational_unit": {"sub": view.sub, "name": view.name},
            "service_accounts": _service_accounts(view),
            "conferencing_connections": _connections(view),
        },
    }


def _account(grant: AccessGrant) -> dict[str, Any]:
    """Cronofy's account userinfo (delegated access): its calendar and conferencing profiles."""
    account = delegated_runtime.accounts().get(grant.sub)
    if account is None or account.client_id != grant.client_id:
        metrics.add_metric(name="AccessTokensRefused", unit=MetricUnit.Count, value=1)
        raise AuthenticationFailed()
    logger.info("account read", extra={"client_id": grant.client_id, "sub": grant.sub})
    body = account_userinfo(grant, account)
    store = delegated_runtime.conferencing_profiles()
    profiles = store.for_account(account.account_id)
    # A profile is connected only while its connection is (docs/connections.md, Re-authorization).
    statuses = store.connection_statuses(p.connection_id for p in profiles)
    app_url = browser.app_base_url(app.current_event, settings.load(settings.FlowSettings).app_url)
    body["cronofy.data"]["conferencing_profiles"] = [
        profile_body(p, statuses.get(p.connection_id), app_url=app_url) for p in profiles
    ]
    return body


def _service_account(grant: AccessGrant) -> dict[str, Any]:
    """Cronofy's service-account userinfo, with its older flat keys (omniauth-cronofy reads them)."""
    details = runtime.get_service_account_details().get(grant.sub)
    # The service account was deleted (or is not this client's): the token stands for nothing.
    if details is None or details.service_account.client_id != grant.client_id:
        metrics.add_metric(name="AccessTokensRefused", unit=MetricUnit.Count, value=1)
        raise AuthenticationFailed()
    account = details.service_account
    logger.info("service account read", extra={"client_id": grant.client_id, "sub": grant.sub})
    authorization = {"scope": grant.scope, "status": "active", "delegated_scope": details.delegated_scope}
    body: dict[str, Any] = {
        "sub": account.service_account_id,
        "cronofy.type": "service_account",
        "cronofy.data": {
            "service_account": {"provider_name": str(account.provider), "domain": account.domain},
            "authorization": {k: v for k, v in authorization.items() if v is not None},
        },
        "cronofy.service_account.domain": account.domain,
    }
    if account.admin_email:
        body["email"] = account.admin_email
        body["cronofy.service_account.email"] = account.admin_email
    return body


@app.get(
    "/v1/organizational_unit",
    summary="The Organizational Unit of an OU token",
    description=(
        "Its name, service accounts and conferencing connections, each with its provisioning "
        "policy (null for a provider without provisioning: only Zoom has it) and, when it needs "
        "reauthorization or was revoked, the `relink_url` that links it again."
    ),
    tags=["Organizational Units"],
    responses={
        200: json_body("The OU", "OrganizationalUnitOut"),
        **documented_errors(401, 429, 503),
    },
)
def organizational_unit() -> dict[str, Any]:
    # Loaded by the one route that shows policies, not at the function's cold start.
    from orgconnect.web.provisioning_policy import provisioning_body

    view = _organizational_unit(with_provisioning=True)
    app_url = browser.app_base_url(app.current_event, settings.load(settings.FlowSettings).app_url)
    connections = [
        {
            **shown,
            **({"relink_url": connection_relink_url(app_url, c.connection_id)} if c.needs_relink else {}),
            "provisioning": provisioning_body(c.provisioning) if c.provisioning else None,
        }
        for shown, c in zip(_connections(view), view.connections, strict=True)
    ]
    return {
        "sub": view.sub,
        "name": view.name,
        "service_accounts": _service_accounts(view),
        "conferencing_connections": connections,
    }


for _path in ("/v1/userinfo", "/v1/organizational_unit"):
    app.document_security("get", _path, "organizationalUnitToken")


@observed(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The answers carry a secret (the link token) or an Organizational Unit's details.
    return with_no_store(app.resolve(event, context))
