"""GET /organizational_unit_oauth/relink?connection_id=cnx_…: a profile's ``profile_relink_url``
(domain/relink.py). Starts the OU flow for that connection's OU and provider, bound to this
browser like any flow, without a link token; the callback then accepts only the connection's own
provider account, and the flow ends on a page (the integrator did not start it, so nothing is
redirected to it but errors, at its first registered redirect URI)."""

from __future__ import annotations

from html import escape
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from orgconnect.domain.authorization import FLOW_TTL_SECONDS, AuthorizationRequest, PageError, Step
from orgconnect.domain.catalogue import CONFERENCING
from orgconnect.domain.conferencing_connections import CONNECTION_ID
from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.domain.ports import FlowDependencies
from orgconnect.domain.secrets import new_id
from orgconnect.observability import logger
from orgconnect.web import browser, pages
from orgconnect.web.flow_session import base_url

RELINK_PURPOSE = "relink_request"
_UNKNOWN = "This relink link is not valid: the connection no longer exists. Ask the application for help."


def relink(deps: FlowDependencies, event: APIGatewayProxyEvent) -> Response[Any]:
    """Start the OU flow again for the connection the url names (a page when it cannot be)."""
    values = (event.multi_value_query_string_parameters or {}).get("connection_id") or []
    connection_id = values[0] if len(values) == 1 else ""
    if not CONNECTION_ID.fullmatch(connection_id):
        raise PageError(_UNKNOWN, status=404)
    target = deps.relink.target(connection_id)
    if target is None or target.provider_name not in CONFERENCING:
        raise PageError(_UNKNOWN, status=404)
    client, account = (
        deps.service_accounts.get_with_client(target.client_id, target.service_account_id)
        if target.service_account_id
        else (None, None)
    )
    if client is None or account is None or account.client_id != client.client_id or not client.redirect_uris:
        raise PageError(_UNKNOWN, status=404)
    request_id = new_id("arq")
    cookie_value, browser_digest = browser.new_browser_binding(request_id, deps.hasher)
    request = AuthorizationRequest(
        request_id=request_id,
        client_id=client.client_id,
        redirect_uri=client.redirect_uris[0],
        state=None,
        capability="conferencing",
        service_account_id=account.service_account_id,
        # No link token: a digest no token can have, so a link token never resumes this request.
        link_token_digest=deps.hasher.digest(RELINK_PURPOSE, request_id),
        browser_digest=browser_digest,
        step=Step.CHOOSE,
        created_at=deps.now,
        expires_at=deps.now + FLOW_TTL_SECONDS,
        requested_provider=target.provider_name,
        relink_connection_id=connection_id,
    )
    try:
        deps.relink.create_request(request)
    except TemporarilyUnavailable:
        raise PageError("Please try again in a moment.", status=503) from None
    logger.info(
        "relink flow started",
        extra={"client_id": client.client_id, "request_id": request_id, "connection_id": connection_id},
    )
    base = base_url(deps, event)
    return pages.redirect(
        f"{base}/organizational_unit_oauth/continue",
        cookies=[browser.set_cookie(cookie_value, base, FLOW_TTL_SECONDS)],
    )


def relinked_page(
    deps: FlowDependencies, event: APIGatewayProxyEvent, label: str, account: str
) -> Response[Any]:
    """The end of a relink: the connection works again; nothing goes back to the integrator."""
    response = pages.page(
        f"{label} is connected again",
        f"<p data-testid=relinked>{escape(account)} is connected again. You can close this window.</p>",
    )
    response.cookies.append(browser.clear_cookie(base_url(deps, event)))
    return response
