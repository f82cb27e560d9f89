"""Enterprise Connect's return from the provider: GET /oauth/callback/{provider} with a state of
purpose ``enterprise_connect`` (dispatched here by ``flow_callback`` once the state is consumed).

The state must belong to this browser's Enterprise Connect request; the code is exchanged with
our PKCE verifier (``flow_callback.exchange_and_read``, shared with the OU flow); the signed-in
user must be an administrator of the domain (and of the ``domain`` the integrator asked for,
if any). Then the client's service account for that provider and domain is created, or
refreshed with the same id: its admin credentials go to its own secret, and one transaction
finishes the request, writes the service account and issues the code. If that transaction fails,
a secret created for it is deleted (nothing half-written).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from orgconnect.domain.authorization import PageError, ProviderState, redirect_with
from orgconnect.domain.codes import CODE_PURPOSE, AuthorizationCode, GrantKind, new_code
from orgconnect.domain.enterprise_connect import (
    COOKIE_NAME,
    EnterpriseConnectRequest,
    EnterpriseConnectStep,
    ServiceAccountAuthorization,
    admin_problem,
)
from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.domain.model import CalendarProvider, ServiceAccount
from orgconnect.domain.ports import CredentialVault, FlowDependencies, StepConflict
from orgconnect.domain.provider_model import ProviderAccount, ProviderTokens
from orgconnect.domain.secrets import new_id
from orgconnect.observability import logger
from orgconnect.web import browser, pages
from orgconnect.web.enterprise_connect import bound_request, ec_ending, end
from orgconnect.web.flow_callback import exchange_and_read, provider_refusal
from orgconnect.web.flow_session import base_url


@ec_ending
def callback(
    deps: FlowDependencies,
    event: APIGatewayProxyEvent,
    held: ProviderState,
    state_digest: str,
    query: dict[str, str],
) -> Response[Any]:
    """The provider's answer to an Enterprise Connect consent (the state is already consumed)."""
    bound = bound_request(deps, event, held.request_id)
    if not browser.matches(bound.cookie, held.request_id, held.browser_digest, deps.hasher):
        raise PageError(
            "This sign-in was started in another browser; start again from the application.", status=403
        )
    request = bound.request
    refusal = provider_refusal(query)
    if refusal is not None:
        code, description = refusal
        outcome = "denied" if code == "access_denied" else "failed"
        raise end(deps, request, request.error(code, description), outcome=outcome)
    base = base_url(deps, event)
    _, tokens, account = exchange_and_read(
        deps,
        held,
        state_digest,
        query,
        redirect_uri=f"{base}/oauth/callback/{held.provider_key}",
        domain=request.domain,
        fail=lambda code, description: end(deps, request, request.error(code, description)),
    )
    problem = admin_problem(request, account.user_is_admin, account.domain, account.user_email)
    if problem:
        raise end(deps, request, request.error("access_denied", problem, show_page=True), outcome="denied")
    code = _register(deps, request, CalendarProvider(held.option or ""), tokens, account)
    return pages.redirect(
        redirect_with(request.redirect_uri, code=code, state=request.state),
        cookies=[browser.clear_cookie(base, COOKIE_NAME)],
    )


def _credentials(tokens: ProviderTokens, account: ProviderAccount) -> dict[str, Any]:
    """What the service account's secret holds: the admin's tokens and the tenant they are for."""
    return {**tokens.to_dict(), "tenant_id": account.account_id, "admin_email": account.user_email}


class _LostToConcurrentCreation(Exception):
    """Another authorization created this client's service account for the domain meanwhile."""


def _register(
    deps: FlowDependencies,
    request: EnterpriseConnectRequest,
    provider: CalendarProvider,
    tokens: ProviderTokens,
    account: ProviderAccount,
) -> str:
    """Create or refresh the service account and issue its code; the code in clear. Losing the
    creation to a concurrent authorization for the same domain refreshes the winner instead."""
    try:
        return _register_once(deps, request, provider, tokens, account)
    except _LostToConcurrentCreation:
        try:
            return _register_once(deps, request, provider, tokens, account)
        except _LostToConcurrentCreation:
            raise end(
                deps,
                request,
                request.error(
                    "server_error", "The service account changed while you were authorizing; try again."
                ),
            ) from None


def _register_once(
    deps: FlowDependencies,
    request: EnterpriseConnectRequest,
    provider: CalendarProvider,
    tokens: ProviderTokens,
    account: ProviderAccount,
) -> str:
    domain = (account.domain or "").lower()
    repository, vault = deps.enterprise_connect, deps.service_account_vault
    created_secret: str | None = None
    try:
        existing = repository.find_service_account(request.client_id, provider, domain)
        credentials = _credentials(tokens, account)
        if existing is not None:
            service_account = existing.service_account
            if existing.secret_arn:
                secret_arn = existing.secret_arn
                vault.replace(secret_arn, credentials)
            else:  # recorded by an operator: its first credentials
                secret_arn = created_secret = vault.create(service_account.service_account_id, credentials)
        else:
            service_account = ServiceAccount(
                new_id("ser"), request.client_id, provider, domain, created_at=deps.now
            )
            secret_arn = created_secret = vault.create(service_account.service_account_id, credentials)
        service_account = ServiceAccount(
            service_account.service_account_id,
            request.client_id,
            provider,
            domain,
            account.user_email,
            service_account.organizational_unit_id,
            service_account.created_at,
        )
        code = new_code()
        repository.authorize(
            ServiceAccountAuthorization(
                request=request,
                service_account=service_account,
                is_new=existing is None,
                secret_arn=secret_arn,
                code_digest=deps.hasher.digest(CODE_PURPOSE, code),
                code=AuthorizationCode(
                    client_id=request.client_id,
                    redirect_uri=request.redirect_uri,
                    kind=GrantKind.SERVICE_ACCOUNT,
                    sub=service_account.service_account_id,
                    scope=request.scope,
                    created_at=deps.now,
                    expires_at=deps.now + deps.code_ttl_seconds,
                    code_challenge=request.code_challenge,
                ),
            )
        )
    except StepConflict:
        _discard(vault, created_secret)
        latest = repository.get(request.request_id)
        if existing is None and latest is not None and latest.step is EnterpriseConnectStep.ACTIVE:
            raise _LostToConcurrentCreation() from None
        raise end(
            deps,
            request,
            request.error(
                "server_error", "The service account changed while you were authorizing; try again."
            ),
        ) from None
    except TemporarilyUnavailable:
        _discard(vault, created_secret)
        raise end(
            deps, request, request.error("temporarily_unavailable", "Please try again in a moment.")
        ) from None
    except Exception:
        _discard(vault, created_secret)
        raise
    logger.info(
        "service account authorized",
        extra={
            "client_id": request.client_id,
            "service_account_id": service_account.service_account_id,
            "new": existing is None,
            "provider": str(provider),
        },
    )
    return code


def _discard(vault: CredentialVault, secret_arn: str | None) -> None:
    """Delete a secret whose authorization failed, so no orphan is left."""
    if secret_arn is None:
        return
    try:
        vault.delete(secret_arn)
    except Exception:  # the failure must still reach the integrator; an operator alarm covers this
        logger.exception("could not delete the secret of a failed service-account authorization")
