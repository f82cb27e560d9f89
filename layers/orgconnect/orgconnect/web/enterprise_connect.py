"""Enterprise Connect in the browser: GET /enterprise_connect/oauth/authorize and
GET /enterprise_connect/oauth/providers/{provider} (SPEC 4; Cronofy's service-account authorization).

The authorize request is validated with the OU redirector's rules, bound to this browser with
its own cookie (an OU flow in the same browser keeps its own), and the administrator is sent to
the calendar provider's admin consent, directly (``provider_name``) or through the chooser. The
provider's answer comes back to ``/oauth/callback/{provider}`` (``enterprise_connect_callback``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from msgspec import Struct

from orgconnect.domain.authorization import (
    CLIENT_ID,
    STATE_TTL_SECONDS,
    FlowError,
    PageError,
    ProviderState,
    state_binding,
)
from orgconnect.domain.catalogue import CALENDARS
from orgconnect.domain.enterprise_connect import (
    COOKIE_NAME,
    PROVIDER_NAMES,
    REQUEST_TTL_SECONDS,
    EnterpriseConnectRequest,
    EnterpriseConnectStep,
    validate_enterprise_connect,
)
from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.domain.model import CalendarProvider
from orgconnect.domain.ports import FlowDependencies, StepConflict
from orgconnect.domain.provider_model import Purpose
from orgconnect.domain.secrets import new_id, new_secret
from orgconnect.observability import logger
from orgconnect.web import browser, pages
from orgconnect.web.flow_session import base_url, ending_for
from orgconnect.web.flow_start import STATE_PURPOSE

PATH = "/enterprise_connect/oauth"


#: Enterprise Connect's steps: the same endings, its own cookie (an OU flow in this browser goes on).
ec_ending = ending_for(COOKIE_NAME)


def end(
    deps: FlowDependencies, request: EnterpriseConnectRequest, error: FlowError, outcome: str = "failed"
) -> FlowError:
    """Mark the request finished (best effort: the error must reach the integrator regardless)."""
    try:
        deps.enterprise_connect.end(request, outcome=outcome)
    except (StepConflict, TemporarilyUnavailable) as failure:
        logger.warning("could not mark the request finished", extra={"reason": type(failure).__name__})
    return error


def _single(query: Mapping[str, Sequence[str]], name: str) -> str:
    values = query.get(name) or []
    return values[0] if len(values) == 1 else ""


@ec_ending
def authorize(deps: FlowDependencies, event: APIGatewayProxyEvent) -> Response[Any]:
    """GET /enterprise_connect/oauth/authorize: validate, bind this browser, go to the provider."""
    query = event.multi_value_query_string_parameters or {}
    client_id = _single(query, "client_id")
    client = deps.enterprise_connect.get_client(client_id) if CLIENT_ID.fullmatch(client_id) else None
    params = validate_enterprise_connect(query, client)
    base = base_url(deps, event)
    request_id = new_id("arq")
    cookie, browser_digest = browser.new_browser_binding(request_id, deps.hasher)
    request = EnterpriseConnectRequest(
        request_id=request_id,
        client_id=params.client.client_id,
        redirect_uri=params.redirect_uri,
        state=params.state,
        scope=params.scope,
        delegated_scope=params.delegated_scope,
        browser_digest=browser_digest,
        created_at=deps.now,
        expires_at=deps.now + REQUEST_TTL_SECONDS,
        provider=params.provider,
        domain=params.domain,
        code_challenge=params.code_challenge,
    )
    try:
        deps.enterprise_connect.start(request)
    except TemporarilyUnavailable:
        raise FlowError(
            "temporarily_unavailable",
            "Please try again in a moment.",
            redirect_uri=params.redirect_uri,
            state=params.state,
        ) from None
    logger.info(
        "enterprise connect started", extra={"client_id": request.client_id, "request_id": request_id}
    )
    set_cookie = browser.set_cookie(cookie, base, REQUEST_TTL_SECONDS, COOKIE_NAME)
    if request.provider is not None:
        response = _to_provider(deps, base, request, request.provider)
    else:
        response = _chooser(deps, base, client_name=params.client.name, request=request)
    response.cookies.append(set_cookie)
    return response


@ec_ending
def choose(deps: FlowDependencies, event: APIGatewayProxyEvent, provider_name: str) -> Response[Any]:
    """GET /enterprise_connect/oauth/providers/{provider}: the administrator picked a provider."""
    request = session(deps, event)
    provider = PROVIDER_NAMES.get(provider_name)
    if provider is None or not deps.providers.configured(CALENDARS[provider].provider_key):
        raise PageError("That provider is not available.", status=403)
    return _to_provider(deps, base_url(deps, event), request, provider)


def _chooser(
    deps: FlowDependencies, base: str, *, client_name: str, request: EnterpriseConnectRequest
) -> Response[Any]:
    options = [
        (str(option.name), option.label, f"{base}{PATH}/providers/{option.name}")
        for option in CALENDARS.values()
        if deps.providers.configured(option.provider_key)
    ]
    if not options:
        raise end(deps, request, request.error("access_denied", "No calendar provider is available."))
    return pages.chooser_page(client_name=client_name, capability="calendars", options=options)


class Bound(Struct, frozen=True):
    """This browser's Enterprise Connect request."""

    request: EnterpriseConnectRequest
    cookie: browser.FlowCookie


def bound_request(
    deps: FlowDependencies, event: APIGatewayProxyEvent, request_id: str | None = None
) -> Bound:
    """This browser's live, unfinished request (a page if there is none)."""
    cookie = browser.read_flow_cookie(event, base_url(deps, event), COOKIE_NAME)
    if cookie is None:
        raise PageError(
            "This page only works in the browser that opened the application's link. "
            "Start again from the application.",
            status=403,
        )
    request = deps.enterprise_connect.get(cookie.request_id)
    if (
        request is None
        or (request_id is not None and request.request_id != request_id)
        or not browser.matches(cookie, request.request_id, request.browser_digest, deps.hasher)
    ):
        raise PageError(
            "This authorization has expired or belongs to another browser. Start again from the application.",
            status=403,
            ends_flow=True,
        )
    if request.step is not EnterpriseConnectStep.ACTIVE:
        raise PageError("This authorization is already complete.", status=409, ends_flow=True)
    return Bound(request, cookie)


def session(deps: FlowDependencies, event: APIGatewayProxyEvent) -> EnterpriseConnectRequest:
    return bound_request(deps, event).request


def _to_provider(
    deps: FlowDependencies, base: str, request: EnterpriseConnectRequest, provider: CalendarProvider
) -> Response[Any]:
    """Mint a single-use state bound to this request, browser and provider (our PKCE verifier
    sealed in it, as in the OU flow) and send the administrator to the provider's consent."""
    key = CALENDARS[provider].provider_key
    if not deps.providers.configured(key):
        raise end(
            deps, request, request.error("access_denied", f"{CALENDARS[provider].label} is not available.")
        )
    client = deps.providers.client(key)
    state = new_secret()
    state_digest = deps.hasher.digest(STATE_PURPOSE, state)
    verifier = new_secret(48) if client.supports_pkce else None
    sealed = (
        deps.sealer.seal(verifier.encode(), associated_data=state_binding(state_digest, request.request_id))
        if verifier
        else None
    )
    deps.flow_state.put_state(
        state_digest,
        ProviderState(
            request_id=request.request_id,
            provider_key=key,
            purpose=str(Purpose.ENTERPRISE_CONNECT),
            option=str(provider),
            sealed_code_verifier=sealed,
            browser_digest=request.browser_digest,
            expires_at=deps.now + STATE_TTL_SECONDS,
        ),
    )
    return pages.redirect(
        client.authorization_url(
            purpose=Purpose.ENTERPRISE_CONNECT,
            state=state,
            redirect_uri=f"{base}/oauth/callback/{key}",
            code_verifier=verifier,
            domain=request.domain,
        )
    )
