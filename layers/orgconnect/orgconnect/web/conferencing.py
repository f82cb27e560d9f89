"""``POST /v1/conferencing`` (SPEC 2.4) for an account token: a meeting link for the account's
matched conferencing profile, created with the connection's admin credentials.

The profile comes from matching (``domain.matching``); the connection's access token from
``ConnectionCredentials`` (refreshed once per connection at a time; a 401 retries once with the
refused token named). A profile that is not connected, no profile, a provider refusal
(``MeetingRefused``: its ``remedy`` is the description) and a connection that needs
reauthorization are 422s in the errors format; an unreachable provider is 503 with Retry-After.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from msgspec import Struct

from orgconnect.domain.accounts import Account
from orgconnect.domain.codes import GrantKind
from orgconnect.domain.conferencing import Meeting, MeetingRefused
from orgconnect.domain.conferencing_connections import ManagedConnection
from orgconnect.domain.connection_credentials import ConnectionNeedsReauthorization, CredentialsMissing
from orgconnect.domain.errors import AuthenticationFailed, FieldError, InvalidRequest
from orgconnect.domain.grants import AccessGrant
from orgconnect.domain.matching import (
    AccessTokens,
    ConferencingProfile,
    choose_profile,
    with_connection_token,
)
from orgconnect.domain.meeting_links import parse_meeting_link_request
from orgconnect.domain.model import ConnectionStatus
from orgconnect.domain.provider_model import ProviderError, ProviderUnavailable
from orgconnect.web.api import BodySchema
from orgconnect.web.conferencing_connections import retry_after
from orgconnect.web.errors import errors_body, json_response
from orgconnect.web.request import json_object_body

if TYPE_CHECKING:
    from orgconnect.providers.conferencing import ConferencingAdapter

REQUEST_BODY = BodySchema(
    "ConferencingRequest",
    {
        "type": "object",
        "required": ["profile_id", "summary", "start", "end", "tzid"],
        "properties": {
            "profile_id": {"type": "string", "description": '"default" or a conferencing profile id (pro_…)'},
            "summary": {"type": "string", "maxLength": 1024},
            "start": {"type": "string", "format": "date-time"},
            "end": {"type": "string", "format": "date-time"},
            "tzid": {"type": "string", "description": "An IANA time zone, e.g. Europe/London"},
        },
    },
)


class NotAnAccountToken(Exception):
    """A valid token of another kind (an Organizational Unit or service-account token)."""


class MeetingLinkPorts(Struct):
    """What creating a meeting link reads and calls (``orgconnect.delegated_runtime``)."""

    load_account: Callable[[str], Account | None]
    load_profiles: Callable[[str], list[ConferencingProfile]]
    load_connection: Callable[[str], ManagedConnection | None]
    #: The status of each connection that still exists (one batch read).
    connection_statuses: Callable[[list[str]], dict[str, ConnectionStatus]]
    tokens: Callable[[], AccessTokens]
    adapter: Callable[[str, str, str | None], ConferencingAdapter]


def _refused(key: str, description: str) -> InvalidRequest:
    return InvalidRequest(FieldError("profile_id", key, description))


def create_meeting_link(
    app: APIGatewayRestResolver, grant: AccessGrant, ports: MeetingLinkPorts
) -> dict[str, Any]:
    """The ``conferencing`` object of the 201 answer, after authentication and validation."""
    if grant.kind is not GrantKind.ACCOUNT:
        raise NotAnAccountToken()
    account = ports.load_account(grant.sub)
    if account is None or account.client_id != grant.client_id:
        raise AuthenticationFailed()
    request = parse_meeting_link_request(json_object_body(app))
    profile = choose_profile(
        ports.load_profiles(account.account_id),
        request.profile_id,
        lambda ids: {c for c, s in ports.connection_statuses(ids).items() if s is ConnectionStatus.CONNECTED},
    )
    if profile is None:
        raise _refused("errors.no_conferencing_profile", "The account has no such conferencing profile.")
    if not profile.connected:
        raise _refused(
            "errors.profile_not_connected",
            f"The {profile.provider_name} profile {profile.profile_name} is {profile.status}: "
            "the user must activate their account at the provider first.",
        )
    connection = ports.load_connection(profile.connection_id)
    if connection is None or connection.status is ConnectionStatus.REVOKED:
        raise _refused("errors.connection_removed", "The profile's conferencing connection was removed.")
    if connection.status is ConnectionStatus.NEEDS_REAUTHORIZATION:
        raise ConnectionNeedsReauthorization(connection.connection_id)
    tenant = connection.provider_account_id if profile.provider_name == "ms_teams" else None

    def create(token: str) -> Meeting:
        return ports.adapter(profile.provider_name, token, tenant).create_meeting(
            profile.host(), request.meeting
        )

    try:
        meeting = with_connection_token(ports.tokens(), connection, create)
    except CredentialsMissing:
        raise _refused(
            "errors.connection_removed", "The profile's conferencing connection was removed."
        ) from None
    body = {
        "provider_name": profile.provider_name,
        "profile_id": profile.profile_id,
        "join_url": meeting.join_url,
        "meeting_id": meeting.meeting_id,
    }
    if meeting.password:
        body["password"] = meeting.password
    return body


def _insufficient_scope(_: NotAnAccountToken) -> Response[Any]:
    return json_response(
        403,
        {"error": "insufficient_scope", "error_description": "This endpoint needs an account token."},
        {"WWW-Authenticate": 'Bearer realm="orgconnect", error="insufficient_scope"'},
    )


def _meeting_refused(error: MeetingRefused) -> Response[Any]:
    found = FieldError("profile_id", f"errors.{error.reason}", f"{error.provider_name}: {error.remedy}")
    return json_response(422, errors_body([found]))


def _needs_reauthorization(error: ConnectionNeedsReauthorization) -> Response[Any]:
    found = FieldError(
        "profile_id",
        "errors.connection_needs_reauthorization",
        f"The conferencing connection {error.connection_id} needs reauthorization: "
        "an administrator must link it again.",
    )
    return json_response(422, errors_body([found]))


def _provider_unavailable(error: ProviderError) -> Response[Any]:
    # A refusal of a freshly refreshed token or an unreadable answer is the provider's trouble too.
    wait = retry_after(error) if isinstance(error, ProviderUnavailable) else 5
    return json_response(
        503,
        {"error": "provider_unavailable", "error_description": "The provider did not answer. Retry later."},
        {"Retry-After": str(wait)},
    )


def register_conferencing_errors(app: APIGatewayRestResolver) -> None:
    """The answers to this route's own exceptions (on top of orgconnect.web.errors)."""
    app.exception_handler(NotAnAccountToken)(_insufficient_scope)
    app.exception_handler(MeetingRefused)(_meeting_refused)
    app.exception_handler(ConnectionNeedsReauthorization)(_needs_reauthorization)
    app.exception_handler(ProviderError)(_provider_unavailable)
