"""The provider round trip's return: GET /oauth/callback/{provider} (SPEC 3 step 5).

The state is consumed once (S2), must have been minted for this provider (M1) and this browser
(S1); then the code is exchanged with our PKCE verifier and the provider account is read and
checked. Every provider failure reaches the integrator as an RFC 6749 error with its state.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from orgconnect.domain import authorization as flow
from orgconnect.domain.authorization import (
    MAX_STATE_LENGTH,
    PageError,
    PendingAccount,
    ProviderState,
    Step,
    state_binding,
)
from orgconnect.domain.catalogue import CONFERENCING
from orgconnect.domain.ports import FlowDependencies, StateUnavailable
from orgconnect.domain.provider_model import (
    ProviderAccount,
    ProviderError,
    ProviderRefused,
    ProviderTokens,
    ProviderUnavailable,
    Purpose,
)
from orgconnect.domain.relink import relinks_its_connection
from orgconnect.domain.sealing import SealingError
from orgconnect.observability import logger
from orgconnect.web import browser, pages
from orgconnect.web.flow_session import Session, base_url, end, flow_cookie, save, session
from orgconnect.web.flow_start import STATE_PURPOSE

# What a provider's own error (RFC 6749 4.1.2.1) means for the integrator: the administrator's
# refusal, or a provider failure the integrator may retry. Anything else is our request refused.
PROVIDER_ERRORS = {
    "access_denied": "access_denied",
    "temporarily_unavailable": "temporarily_unavailable",
    "server_error": "server_error",
}


def callback(deps: FlowDependencies, event: APIGatewayProxyEvent, provider_key: str) -> Response[Any]:
    """GET /oauth/callback/{provider}: state checks (S1, S2, M1), code exchange, account checks."""
    query = event.query_string_parameters or {}
    state = query.get("state")
    if not state or len(state.encode()) > MAX_STATE_LENGTH:
        raise PageError("The provider's answer is missing its state; start again from the application.")
    state_digest = deps.hasher.digest(STATE_PURPOSE, state)
    try:
        held = deps.flow_state.consume_state(state_digest)
    except StateUnavailable:
        raise PageError(
            "This sign-in has expired or was already used; start again from the application."
        ) from None
    if held.provider_key != provider_key:
        raise PageError("The answer came from a different provider than the one you were sent to.")  # M1
    if held.purpose == Purpose.ENTERPRISE_CONNECT:
        from orgconnect.web import enterprise_connect_callback

        return enterprise_connect_callback.callback(deps, event, held, state_digest, query)
    cookie = flow_cookie(deps, event)
    if not browser.matches(cookie, held.request_id, held.browser_digest, deps.hasher):
        raise PageError(
            "This sign-in was started in another browser; start again from the application.", status=403
        )
    s = session(deps, event)
    if s.request.step is not Step.CHOOSE:
        raise PageError("This step is already complete.", status=409)
    refusal = provider_refusal(query)
    if refusal is not None:
        code, description = refusal
        outcome = "denied" if code == "access_denied" else "failed"
        raise end(deps, s.request, s.request.error(code, description), outcome=outcome)
    return _exchange(deps, event, s, held, state_digest, query)


def provider_refusal(query: dict[str, str]) -> tuple[str, str] | None:
    """The integrator's (error, description) when the provider sent an error or no code."""
    if not query.get("error") and query.get("code"):
        return None
    provider_error = query.get("error") or ""
    code = PROVIDER_ERRORS.get(provider_error, "server_error") if provider_error else "invalid_request"
    description = {
        "access_denied": "The administrator did not authorize the provider.",
        "temporarily_unavailable": "The provider is unavailable; please try again later.",
        "invalid_request": "The provider sent no code.",
    }.get(code, "The provider could not complete the authorization.")
    return code, description


def _exchange(
    deps: FlowDependencies,
    event: APIGatewayProxyEvent,
    s: Session,
    held: ProviderState,
    state_digest: str,
    query: dict[str, str],
) -> Response[Any]:
    base = base_url(deps, event)
    purpose = Purpose(held.purpose)
    domain = s.service_account.domain if purpose is Purpose.ADMIN_PROOF else None
    label, tokens, account = exchange_and_read(
        deps,
        held,
        state_digest,
        query,
        redirect_uri=f"{base}/oauth/callback/{held.provider_key}",
        domain=domain,
        fail=lambda code, description: end(deps, s.request, s.request.error(code, description)),
    )
    provider_key = held.provider_key

    if purpose is Purpose.ADMIN_PROOF:
        problem = flow.check_admin(account.user_is_admin, account.domain, s.service_account)
        if problem:
            raise end(deps, s.request, s.request.error("access_denied", problem, show_page=True))
        save(deps, s.request.advanced(admin_proved=True), expected=Step.CHOOSE)
        return pages.redirect(f"{base}/organizational_unit_oauth/continue")

    label = CONFERENCING[held.option].label if held.option in CONFERENCING else label
    if not account.user_is_admin:
        raise end(
            deps,
            s.request,
            s.request.error(
                "access_denied",
                f"{account.user_email} is not an administrator of the {label} account.",
                show_page=True,
            ),
        )
    if account.paid is False:
        raise end(
            deps,
            s.request,
            s.request.error(
                "access_denied",
                f"The {label} account {account.account_name} is on a free plan. "
                f"Connecting an organization needs a paid {label} plan.",
                show_page=True,
            ),
        )
    if s.request.relink_connection_id is not None:
        link = deps.connections.get_link(s.client.client_id, held.option or provider_key, account.account_id)
        if not relinks_its_connection(s.request, link):
            raise end(
                deps,
                s.request,
                s.request.error(
                    "access_denied",
                    f"{account.account_name} is not the {label} account of this connection: "
                    f"sign in to {label} as an administrator of the account that was connected.",
                    show_page=True,
                ),
            )
    sealed = deps.sealer.seal(
        json.dumps(tokens.to_dict()).encode(), associated_data=s.request.request_id.encode()
    )
    pending = PendingAccount(
        option=held.option or provider_key,
        provider_key=provider_key,
        account_id=account.account_id,
        account_name=account.account_name,
        user_email=account.user_email,
        domain=account.domain,
        sealed_tokens=sealed,
    )
    save(deps, s.request.advanced(pending=pending, step=Step.CONSENT), expected=Step.CHOOSE)
    return pages.redirect(f"{base}/organizational_unit_oauth/continue")


def exchange_and_read(
    deps: FlowDependencies,
    held: ProviderState,
    state_digest: str,
    query: dict[str, str],
    *,
    redirect_uri: str,
    domain: str | None,
    fail: Callable[[str, str], Exception],
) -> tuple[str, ProviderTokens, ProviderAccount]:
    """Open our sealed PKCE verifier, exchange the provider's code and read who authorized.

    Returns the provider's label, its tokens and the account; every failure is raised as
    ``fail(error, description)``: the RFC 6749 error the integrator gets."""
    provider_key = held.provider_key
    purpose = Purpose(held.purpose)
    if not deps.providers.configured(provider_key):  # its app was removed since the state was minted
        raise fail("server_error", "The provider is no longer available.")
    client = deps.providers.client(provider_key)
    try:
        verifier = (
            deps.sealer.open(
                held.sealed_code_verifier, associated_data=state_binding(state_digest, held.request_id)
            ).decode()
            if held.sealed_code_verifier
            else None
        )
    except SealingError:
        raise fail("server_error", "The sign-in could not be completed.") from None
    try:
        tokens = client.exchange_code(
            extra=client.callback_token_params(query),
            purpose=purpose,
            code=query["code"],
            code_verifier=verifier,
            redirect_uri=redirect_uri,
            domain=domain,
        )
        account = client.read_account(tokens, purpose, domain=domain)
    except ProviderUnavailable as error:
        logger.warning("provider unavailable", extra={"provider": provider_key, "reason": error.description})
        raise fail(
            "temporarily_unavailable", f"{client.label} did not answer; please try again later."
        ) from None
    except ProviderRefused as error:
        logger.warning("provider refused", extra={"provider": provider_key, "reason": error.description})
        code = "access_denied" if error.error == "access_denied" else "server_error"
        raise fail(code, f"{client.label} refused the authorization.") from None
    except ProviderError as error:  # any other provider failure, e.g. an answer we cannot read
        logger.warning("provider failed", extra={"provider": provider_key, "reason": error.description})
        raise fail("server_error", f"{client.label} gave an answer we could not use.") from None
    return client.label, tokens, account
