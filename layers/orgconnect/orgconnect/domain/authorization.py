"""The Organizational Unit OAuth authorization flow (SPEC 3) as pure decisions.

The HTTP layer hands in what it read; these functions say what happens next. Steps:
``admin_proof`` (policy) -> ``choose`` -> ``provider`` -> ``consent`` -> ``done``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from orgconnect.domain.catalogue import CALENDARS, CONFERENCING
from orgconnect.domain.codes import OU_SCOPE
from orgconnect.domain.model import AdminProofPolicy, Client, ServiceAccount

FLOW_TTL_SECONDS = 3600
STATE_TTL_SECONDS = 600  # provider state: at most 10 minutes (anchors S2)
MAX_STATE_LENGTH = 2048
CAPABILITIES = ("conferencing", "calendars")
SINGLE_VALUED = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "scope",
    "ou_link_token",
    "conferencing_provider_name",
)


class Step(StrEnum):
    ADMIN_PROOF = "admin_proof"
    CHOOSE = "choose"
    PROVIDER = "provider"
    CONSENT = "consent"
    DONE = "done"


class PageError(Exception):
    """Show an error page and never redirect (the client or redirect_uri cannot be trusted, R2)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class FlowError(Exception):
    """End the flow with an RFC 6749 error redirected to the integrator (with its state, S3)."""

    def __init__(
        self, error: str, description: str, *, redirect_uri: str, state: str | None, show_page: bool = False
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.redirect_uri = redirect_uri
        self.state = state
        # True: explain on a page first, with a button back to the integrator (e.g. a Free Zoom plan).
        self.show_page = show_page

    @property
    def location(self) -> str:
        return redirect_with(
            self.redirect_uri, error=self.error, error_description=self.description, state=self.state
        )


def redirect_with(redirect_uri: str, **params: str | None) -> str:
    """``redirect_uri`` with ``params`` added to its query (existing query parameters kept)."""
    parts = urlsplit(redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in params.items() if v is not None]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


@dataclass(frozen=True)
class AuthorizeParams:
    """A validated GET /organizational_unit_oauth."""

    client: Client
    redirect_uri: str
    state: str | None
    capability: str
    link_token: str
    requested_provider: str | None  # a valid, enabled conferencing_provider_name, else None


def check_client(query: Mapping[str, Sequence[str]], client: Client | None) -> tuple[Client, str]:
    """R1/R2: an unknown client or an unregistered redirect_uri gets a page, never a redirect."""
    client_ids = query.get("client_id", [])
    redirect_uris = query.get("redirect_uri", [])
    if len(client_ids) != 1 or client is None or client.client_id != client_ids[0]:
        raise PageError("This link is not valid: the application is unknown.")
    if len(redirect_uris) != 1 or redirect_uris[0] not in client.redirect_uris:
        raise PageError("This link is not valid: the return address is not registered for the application.")
    return client, redirect_uris[0]


def validate_authorize(query: Mapping[str, Sequence[str]], client: Client | None) -> AuthorizeParams:
    """Every check of SPEC 3 step 1, in order; the link token itself is checked by the caller."""
    client, redirect_uri = check_client(query, client)
    states = query.get("state", [])
    state = states[0] if len(states) == 1 else None

    def fail(error: str, description: str) -> FlowError:
        return FlowError(error, description, redirect_uri=redirect_uri, state=state)

    for name in SINGLE_VALUED:
        if len(query.get(name, [])) > 1:
            raise fail("invalid_request", f"{name} was given more than once")
    if state is not None and len(state) > MAX_STATE_LENGTH:
        raise FlowError("invalid_request", "state is too long", redirect_uri=redirect_uri, state=None)
    response_type = query.get("response_type", [""])[0]
    if response_type != "code":
        raise fail("unsupported_response_type", "response_type must be code")
    if query.get("scope", [""])[0] != OU_SCOPE:
        raise fail("invalid_scope", f"scope must be {OU_SCOPE}")
    capabilities = query.get("capabilities[]", [])
    if len(capabilities) != 1 or capabilities[0] not in CAPABILITIES:
        raise fail("invalid_request", "capabilities[] must have exactly one value: conferencing or calendars")
    link_token = query.get("ou_link_token", [""])[0]
    if not link_token:
        raise fail("invalid_request", "ou_link_token is required")
    requested = query.get("conferencing_provider_name", [None])[0]
    if capabilities[0] != "conferencing" or requested not in enabled_conferencing(client):
        requested = None  # unsupported or not enabled: the chooser is shown (SPEC 3 step 4)
    return AuthorizeParams(client, redirect_uri, state, capabilities[0], link_token, requested)


def enabled_conferencing(client: Client) -> list[str]:
    """Conferencing providers in the client's categories, in catalogue order."""
    categories = set(client.categories)
    return [name for name, option in CONFERENCING.items() if option.category in categories]


def provider_options(client: Client, capability: str) -> list[tuple[str, str, str]]:
    """(name, provider key, label) the chooser offers for ``capability``."""
    if capability == "calendars":
        return [(str(o.name), o.provider_key, o.label) for o in CALENDARS.values()]
    return [(n, CONFERENCING[n].provider_key, CONFERENCING[n].label) for n in enabled_conferencing(client)]


def needs_admin_proof(policy: AdminProofPolicy, service_account: ServiceAccount) -> bool:
    """SPEC 3 step 3: always, never, or only while the service account belongs to no OU."""
    if policy is AdminProofPolicy.ALWAYS:
        return True
    if policy is AdminProofPolicy.NEVER:
        return False
    return service_account.organizational_unit_id is None


@dataclass(frozen=True)
class PendingAccount:
    """The provider account authorized in this flow, waiting for the administrator's approval."""

    option: str  # conferencing_provider_name or calendar provider name
    provider_key: str
    account_id: str
    account_name: str
    user_email: str
    domain: str | None
    sealed_tokens: str = field(repr=False)


@dataclass(frozen=True)
class AuthorizationRequest:
    """One administrator's run through the flow, bound to one browser."""

    request_id: str
    client_id: str
    redirect_uri: str
    state: str | None
    capability: str
    service_account_id: str
    link_token_digest: str
    browser_digest: str
    step: Step
    created_at: int
    expires_at: int
    requested_provider: str | None = None
    admin_proved: bool = False
    chosen: str | None = None
    pending: PendingAccount | None = None
    outcome: str | None = None  # approved | denied | failed (once step is done)

    def error(self, error: str, description: str, *, show_page: bool = False) -> FlowError:
        return FlowError(
            error, description, redirect_uri=self.redirect_uri, state=self.state, show_page=show_page
        )

    def advanced(self, **changes: object) -> AuthorizationRequest:
        return replace(self, **changes)  # type: ignore[arg-type]


def next_step(
    request: AuthorizationRequest, *, policy: AdminProofPolicy, service_account: ServiceAccount
) -> Step:
    """Where a (resumed) request stands."""
    if request.step in (Step.DONE, Step.CONSENT):
        return request.step
    if not request.admin_proved and needs_admin_proof(policy, service_account):
        return Step.ADMIN_PROOF
    if request.chosen is None and request.requested_provider is None:
        return Step.CHOOSE
    return Step.PROVIDER


def check_admin(
    account_is_admin: bool, account_domain: str | None, service_account: ServiceAccount
) -> str | None:
    """Why the signed-in calendar user does not prove admin access to the service account, or None."""
    if account_domain is None or account_domain.lower() != service_account.domain:
        return f"The account you signed in with does not belong to {service_account.domain}."
    if not account_is_admin:
        return f"The account you signed in with is not an administrator of {service_account.domain}."
    return None
