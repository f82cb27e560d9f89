"""Start, resume and choose: GET /organizational_unit_oauth, …/continue and …/providers/{name}.

The start validates the integrator's request, consumes the link token and binds the flow to this
browser; ``continue`` is the resume point (a reload lands on the current step); sending the
administrator to a provider mints a single-use state holding our sealed PKCE verifier.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from orgconnect.domain import authorization as flow
from orgconnect.domain.authorization import (
    CLIENT_ID,
    FLOW_TTL_SECONDS,
    LINK_UNAVAILABLE,
    STATE_TTL_SECONDS,
    AuthorizationRequest,
    FlowError,
    PageError,
    ProviderState,
    Step,
    state_binding,
)
from orgconnect.domain.catalogue import calendar_provider_key
from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.domain.link_tokens import LINK_TOKEN_PURPOSE
from orgconnect.domain.ports import FlowDependencies, LinkTokenUnavailable
from orgconnect.domain.provider_model import Purpose
from orgconnect.domain.secrets import new_id, new_secret
from orgconnect.observability import logger
from orgconnect.web import browser, pages
from orgconnect.web.flow_consent import consent_page
from orgconnect.web.flow_session import Session, base_url, done_page, end, flow_cookie, session

STATE_PURPOSE = "provider_state"


def _single(query: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = query.get(name) or []
    return values[0] if len(values) == 1 else None


def start(deps: FlowDependencies, event: APIGatewayProxyEvent) -> Response[Any]:
    """GET /organizational_unit_oauth: validate, consume the link token, bind the browser."""
    query = event.multi_value_query_string_parameters or {}
    client_id = _single(query, "client_id") or ""
    link_token = _single(query, "ou_link_token") or ""
    cookie = flow_cookie(deps, event)
    link_digest = deps.hasher.digest(LINK_TOKEN_PURPOSE, link_token)
    # One read for the client, the link token and the browser's current request.
    read = deps.flow_state.read_start(
        client_id if CLIENT_ID.fullmatch(client_id) else None,
        link_digest,
        cookie.request_id if cookie else None,
    )
    params = flow.validate_authorize(query, read.client)
    base = base_url(deps, event)

    resumed = read.resumable
    if (
        resumed is not None
        and resumed.link_token_digest == link_digest
        and browser.matches(cookie, resumed.request_id, resumed.browser_digest, deps.hasher)
    ):
        return pages.redirect(f"{base}/organizational_unit_oauth/continue")

    def refused(description: str) -> FlowError:
        return FlowError("access_denied", description, redirect_uri=params.redirect_uri, state=params.state)

    grant = read.link_token
    if grant is None or read.link_token_used:
        raise refused(LINK_UNAVAILABLE)
    if grant.client_id != params.client.client_id:
        raise refused("The link was not issued to this application.")
    request_id = new_id("arq")
    cookie_value, browser_digest = browser.new_browser_binding(request_id, deps.hasher)
    request = AuthorizationRequest(
        request_id=request_id,
        client_id=params.client.client_id,
        redirect_uri=params.redirect_uri,
        state=params.state,
        capability=params.capability,
        service_account_id=grant.service_account_id,
        link_token_digest=link_digest,
        browser_digest=browser_digest,
        step=Step.CHOOSE,
        created_at=deps.now,
        expires_at=deps.now + FLOW_TTL_SECONDS,
        requested_provider=params.requested_provider,
        code_challenge=params.code_challenge,
    )
    try:
        deps.flow_state.start_request(request)
    except LinkTokenUnavailable:
        raise refused(LINK_UNAVAILABLE) from None
    except TemporarilyUnavailable:
        raise FlowError(
            "temporarily_unavailable",
            "Please try again in a moment.",
            redirect_uri=params.redirect_uri,
            state=params.state,
        ) from None
    logger.info(
        "authorization flow started", extra={"client_id": request.client_id, "request_id": request_id}
    )
    return pages.redirect(
        f"{base}/organizational_unit_oauth/continue",
        cookies=[browser.set_cookie(cookie_value, base, FLOW_TTL_SECONDS)],
    )


def resume(deps: FlowDependencies, event: APIGatewayProxyEvent) -> Response[Any]:
    """GET /organizational_unit_oauth/continue: show or do the current step (a reload resumes)."""
    s = session(deps, event)
    base = base_url(deps, event)
    step = flow.next_step(s.request, policy=s.client.admin_proof_policy, service_account=s.service_account)
    if step is Step.DONE:
        return done_page(deps, event, s.client.name)
    if step is Step.CONSENT:
        return consent_page(deps, s, base)
    if step is Step.ADMIN_PROOF:
        key = calendar_provider_key(s.service_account.provider)
        return _to_provider(
            deps, s, base, key=key, option=str(s.service_account.provider), purpose=Purpose.ADMIN_PROOF
        )
    if step is Step.CHOOSE:
        options = [
            (name, label, f"{base}/organizational_unit_oauth/providers/{name}")
            for name, key, label in flow.provider_options(s.client, s.request.capability)
            if deps.providers.configured(key)
        ]
        if not options:
            raise end(
                deps,
                s.request,
                s.request.error("access_denied", "No provider is available for this request."),
            )
        return pages.chooser_page(client_name=s.client.name, capability=s.request.capability, options=options)
    return _start_option(deps, s, base, s.request.requested_provider or "")


def choose(deps: FlowDependencies, event: APIGatewayProxyEvent, option: str) -> Response[Any]:
    """GET /organizational_unit_oauth/providers/{provider}: the administrator picked ``option``."""
    s = session(deps, event)
    base = base_url(deps, event)
    step = flow.next_step(s.request, policy=s.client.admin_proof_policy, service_account=s.service_account)
    if step not in (Step.CHOOSE, Step.PROVIDER):
        return pages.redirect(f"{base}/organizational_unit_oauth/continue")
    return _start_option(deps, s, base, option)


def _start_option(deps: FlowDependencies, s: Session, base: str, option: str) -> Response[Any]:
    offered = {name: key for name, key, _ in flow.provider_options(s.client, s.request.capability)}
    key = offered.get(option)
    if key is None or not deps.providers.configured(key):
        # L2: the browser cannot widen what the application enabled.
        raise PageError("That provider is not available for this application.", status=403)
    purpose = Purpose.CALENDARS if s.request.capability == "calendars" else Purpose.CONFERENCING
    return _to_provider(deps, s, base, key=key, option=option, purpose=purpose)


def _to_provider(
    deps: FlowDependencies, s: Session, base: str, *, key: str, option: str, purpose: Purpose
) -> Response[Any]:
    """Mint a single-use state bound to this request, browser and provider; send the admin there.

    The PKCE verifier waits in the state sealed like provider tokens (anchors E1)."""
    client = deps.providers.client(key)
    state = new_secret()
    state_digest = deps.hasher.digest(STATE_PURPOSE, state)
    verifier = new_secret(48) if client.supports_pkce else None  # 64 chars: within RFC 7636's 43-128
    sealed = (
        deps.sealer.seal(verifier.encode(), associated_data=state_binding(state_digest, s.request.request_id))
        if verifier
        else None
    )
    deps.flow_state.put_state(
        state_digest,
        ProviderState(
            request_id=s.request.request_id,
            provider_key=key,
            purpose=str(purpose),
            option=option,
            sealed_code_verifier=sealed,
            browser_digest=s.request.browser_digest,
            expires_at=deps.now + STATE_TTL_SECONDS,
        ),
    )
    domain = s.service_account.domain if purpose is Purpose.ADMIN_PROOF else None
    return pages.redirect(
        client.authorization_url(
            purpose=purpose,
            state=state,
            redirect_uri=f"{base}/oauth/callback/{key}",
            code_verifier=verifier,
            domain=domain,
        )
    )
