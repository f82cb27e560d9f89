"""What every step of the browser flow shares: this browser's request (the session), how the
flow ends (an RFC 6749 error to the integrator, or a page), and the flow cookie's lifetime.

Every ending clears the flow cookie with the attributes it was set with (``browser.clear_cookie``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from msgspec import Struct

from orgconnect.domain.authorization import AuthorizationRequest, FlowError, PageError, Step
from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.domain.model import Client, ServiceAccount
from orgconnect.domain.ports import FlowDependencies, StepConflict
from orgconnect.observability import logger
from orgconnect.web import browser, pages


def page_for(error: PageError) -> Response[Any]:
    """The page of a :class:`PageError` (no redirect: the client or redirect_uri is not trusted)."""
    return pages.error_page("This link cannot be used", error.message, status=error.status)


def response_for(error: FlowError) -> Response[Any]:
    """Back to the integrator with the error (or first a page explaining it, with a return button)."""
    logger.info("flow ended with an error", extra={"error": error.error})
    if error.show_page:
        return pages.error_page(
            "The connection could not be made",
            error.description,
            status=403,
            return_url=error.location,
        )
    return pages.redirect(error.location)


def base_url(deps: FlowDependencies, event: APIGatewayProxyEvent) -> str:
    return browser.app_base_url(event, deps.app_url)


def flow_cookie(deps: FlowDependencies, event: APIGatewayProxyEvent) -> browser.FlowCookie | None:
    return browser.read_flow_cookie(event, base_url(deps, event))


type FlowStep[**P] = Callable[Concatenate[FlowDependencies, APIGatewayProxyEvent, P], Response[Any]]


def ending_for[**P](cookie_name: str = browser.COOKIE_NAME) -> Callable[[FlowStep[P]], FlowStep[P]]:
    """A decorator that runs a step; when it ends this browser's request with an error (a redirect
    to the integrator, or a page after which the flow cannot go on), it answers it and clears the
    flow's cookie ``cookie_name``. A start refused before any request began leaves the cookie
    alone (it may be another tab's flow)."""

    def decorate(step: FlowStep[P]) -> FlowStep[P]:
        def run(
            deps: FlowDependencies, event: APIGatewayProxyEvent, /, *args: P.args, **kwargs: P.kwargs
        ) -> Response[Any]:
            try:
                return step(deps, event, *args, **kwargs)
            except FlowError as error:
                response = response_for(error)
                if not error.ends_request:
                    return response
            except PageError as error:
                if not error.ends_flow:
                    raise
                response = page_for(error)
            response.cookies.append(browser.clear_cookie(base_url(deps, event), cookie_name))
            return response

        run.__doc__ = step.__doc__
        return run

    return decorate


#: The OU authorization flow's steps.
ending = ending_for()


def end(
    deps: FlowDependencies, request: AuthorizationRequest, error: FlowError, outcome: str = "failed"
) -> FlowError:
    """Mark the request finished (best effort: the error must reach the integrator regardless)."""
    try:
        deps.flow_state.end_request(request, outcome=outcome)
    except (StepConflict, TemporarilyUnavailable) as failure:
        logger.warning("could not mark the request finished", extra={"reason": type(failure).__name__})
    return error


class Session(Struct, frozen=True):
    """This browser's request, with its client and service account."""

    request: AuthorizationRequest
    cookie: browser.FlowCookie
    client: Client
    service_account: ServiceAccount


def session(deps: FlowDependencies, event: APIGatewayProxyEvent) -> Session:
    """This browser's request, with its client and service account; a page if there is none."""
    cookie = flow_cookie(deps, event)
    if cookie is None:
        raise PageError(
            "This page only works in the browser that opened the application's link. "
            "Start again from the application.",
            status=403,
        )
    request = deps.flow_state.get_request(cookie.request_id)
    if request is None or not browser.matches(
        cookie, request.request_id, request.browser_digest, deps.hasher
    ):
        raise PageError(
            "This authorization has expired or belongs to another browser. Start again from the application.",
            status=403,
            ends_flow=True,
        )
    client, account = deps.service_accounts.get_with_client(request.client_id, request.service_account_id)
    if client is None or account is None or account.client_id != client.client_id:
        raise end(
            deps, request, request.error("access_denied", "The service account is no longer available.")
        )
    return Session(request, cookie, client, account)


def save(deps: FlowDependencies, request: AuthorizationRequest, *, expected: Step) -> None:
    """Move the request on, if no other tab did first."""
    try:
        deps.flow_state.save_request(request, expected_step=expected)
    except StepConflict:
        raise PageError("This step was completed in another tab.", status=409) from None
    except TemporarilyUnavailable:
        raise end(
            deps, request, request.error("temporarily_unavailable", "Please try again in a moment.")
        ) from None


def done_page(deps: FlowDependencies, event: APIGatewayProxyEvent, client_name: str) -> Response[Any]:
    """The request is finished: say so and forget it in this browser."""
    response = pages.done_page(client_name)
    response.cookies.append(browser.clear_cookie(base_url(deps, event)))
    return response
