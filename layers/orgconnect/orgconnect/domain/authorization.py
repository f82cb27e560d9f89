"""The Organizational Unit OAuth authorization flow (SPEC 3) as pure decisions.

The HTTP layer hands in what it read; these functions say what happens next. Steps:
``admin_proof`` (policy) -> ``choose`` -> ``provider`` -> ``consent`` -> ``done``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from msgspec import Struct
from msgspec.structs import replace

from orgconnect.domain.catalogue import CALENDARS, CONFERENCING
from orgconnect.domain.codes import OU_SCOPE, AuthorizationCode
from orgconnect.domain.model import (
    AdminProofPolicy,
    Client,
    Connection,
    OrganizationalUnit,
    ProviderAccountLink,
    ServiceAccount,
)
from orgconnect.domain.redacted import Redacted
from orgconnect.domain.secrets import id_pattern

# Identifiers from outside, checked before they reach a key (real DynamoDB refuses keys over 2048
# bytes with a ValidationException; a bad value must be a 4xx, never a 500).
CLIENT_ID = id_pattern("cli")
REQUEST_ID = id_pattern("arq")
SECRET_VALUE = re.compile(r"[A-Za-z0-9_-]{43,128}")  # what new_secret() mints (browser secret, state)
LINK_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # new_secret(): 32 bytes, base64url
PKCE_S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url(SHA-256), no padding (RFC 7636 4.2)
LINK_UNAVAILABLE = "The link has expired or has already been used; ask the application for a new one."
FLOW_TTL_SECONDS = 3600
STATE_TTL_SECONDS = 600  # provider state: at most 10 minutes (anchors S2)
MAX_STATE_LENGTH = 2048  # bytes of UTF-8: the state is stored, and echoed in a Location header
CAPABILITIES = ("conferencing", "calendars")
SINGLE_VALUED = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "scope",
    "ou_link_token",
    "conferencing_provider_name",
    "code_challenge",
    "code_challenge_method",
)


class Step(StrEnum):
    ADMIN_PROOF = "admin_proof"
    CHOOSE = "choose"
    PROVIDER = "provider"
    CONSENT = "consent"
    DONE = "done"


class PageError(Exception):
    """Show an error page and never redirect (the client or redirect_uri cannot be trusted, R2)."""

    def __init__(self, message: str, status: int = 400, *, ends_flow: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        # True: this browser's flow cannot go on (its cookie is cleared with the page).
        self.ends_flow = ends_flow


class FlowError(Exception):
    """End the flow with an RFC 6749 error redirected to the integrator (with its state, S3)."""

    def __init__(
        self,
        error: str,
        description: str,
        *,
        redirect_uri: str,
        state: str | None,
        show_page: bool = False,
        ends_request: bool = False,
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.redirect_uri = redirect_uri
        self.state = state
        # True: explain on a page first, with a button back to the integrator (e.g. a Free Zoom plan).
        self.show_page = show_page
        # True: this browser's request ends here (its cookie is cleared); False: refused before one began.
        self.ends_request = ends_request

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


class AuthorizeParams(Struct, frozen=True):
    """A validated GET /organizational_unit_oauth."""

    client: Client
    redirect_uri: str
    state: str | None
    capability: str
    link_token: str
    requested_provider: str | None  # a valid, enabled conferencing_provider_name, else None
    code_challenge: str | None = None  # RFC 7636 S256 challenge, bound to the code issued


def check_client(query: Mapping[str, Sequence[str]], client: Client | None) -> tuple[Client, str]:
    """R1/R2: an unknown client or an unregistered redirect_uri gets a page, never a redirect."""
    client_ids = query.get("client_id", [])
    redirect_uris = query.get("redirect_uri", [])
    if len(client_ids) != 1 or client is None or client.client_id != client_ids[0]:
        raise PageError("This link is not valid: the application is unknown.")
    if len(redirect_uris) != 1 or redirect_uris[0] not in client.redirect_uris:
        raise PageError("This link is not valid: the return address is not registered for the application.")
    return client, redirect_uris[0]


class CheckedRedirect(Struct, frozen=True):
    """What every authorization endpoint checks first: the client, its redirect_uri and the state.

    Past this point every refusal is an RFC 6749 error redirected to ``redirect_uri`` with ``state``.
    """

    client: Client
    redirect_uri: str
    state: str | None

    def fail(self, error: str, description: str) -> FlowError:
        return FlowError(error, description, redirect_uri=self.redirect_uri, state=self.state)


def check_redirect(
    query: Mapping[str, Sequence[str]], client: Client | None, single_valued: Sequence[str]
) -> CheckedRedirect:
    """R1/R2 (a page), then single-valued parameters, the state's size and response_type=code."""
    client, redirect_uri = check_client(query, client)
    states = query.get("state", [])
    state = states[0] if len(states) == 1 else None
    checked = CheckedRedirect(client, redirect_uri, state)
    for name in single_valued:
        if len(query.get(name, [])) > 1:
            raise checked.fail("invalid_request", f"{name} was given more than once")
    if state is not None and len(state.encode()) > MAX_STATE_LENGTH:
        raise FlowError("invalid_request", "state is too long", redirect_uri=redirect_uri, state=None)
    if query.get("response_type", [""])[0] != "code":
        raise checked.fail("unsupported_response_type", "response_type must be code")
    return checked


def validate_authorize(query: Mapping[str, Sequence[str]], client: Client | None) -> AuthorizeParams:
    """Every check of SPEC 3 step 1, in order; the link token itself is checked by the caller."""
    checked = check_redirect(query, client, SINGLE_VALUED)
    client, redirect_uri, state, fail = checked.client, checked.redirect_uri, checked.state, checked.fail
    if query.get("scope", [""])[0] != OU_SCOPE:
        raise fail("invalid_scope", f"scope must be {OU_SCOPE}")
    capabilities = query.get("capabilities[]", [])
    if len(capabilities) != 1 or capabilities[0] not in CAPABILITIES:
        raise fail("invalid_request", "capabilities[] must have exactly one value: conferencing or calendars")
    link_token = query.get("ou_link_token", [""])[0]
    if not link_token:
        raise fail("invalid_request", "ou_link_token is required")
    if not LINK_TOKEN.fullmatch(link_token):
        # Not a token we could have minted: the same answer as an unknown one, without a read.
        raise fail("access_denied", LINK_UNAVAILABLE)
    challenge = pkce_challenge(query, fail)
    requested = query.get("conferencing_provider_name", [None])[0]
    if capabilities[0] != "conferencing" or requested not in enabled_conferencing(client):
        requested = None  # unsupported or not enabled: the chooser is shown (SPEC 3 step 4)
    return AuthorizeParams(client, redirect_uri, state, capabilities[0], link_token, requested, challenge)


def pkce_challenge(query: Mapping[str, Sequence[str]], fail: Callable[[str, str], FlowError]) -> str | None:
    """RFC 7636 section 4.3 (and RFC 9700 section 2.1.1): only S256, and only a well-formed challenge.

    No challenge at all is allowed (Cronofy-style clients send none)."""
    challenge = query.get("code_challenge", [None])[0]
    method = query.get("code_challenge_method", [None])[0]
    if challenge is None:
        if method is not None:
            raise fail("invalid_request", "code_challenge_method was given without a code_challenge")
        return None
    if method != "S256":
        raise fail("invalid_request", "code_challenge_method must be S256")
    if not PKCE_S256_CHALLENGE.fullmatch(challenge):
        raise fail("invalid_request", "code_challenge must be 43 base64url characters (S256)")
    return challenge


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


class PendingAccount(Redacted, frozen=True):
    """The provider account authorized in this flow, waiting for the administrator's approval."""

    __redacted__ = frozenset({"sealed_tokens"})

    option: str  # conferencing_provider_name or calendar provider name
    provider_key: str
    account_id: str
    account_name: str
    user_email: str
    domain: str | None
    sealed_tokens: str


class AuthorizationRequest(Struct, frozen=True):
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
    pending: PendingAccount | None = None
    outcome: str | None = None  # approved | denied | failed (once step is done)
    code_challenge: str | None = None  # the integrator's RFC 7636 S256 challenge, if it sent one
    # Started from a profile's relink url: only this connection's provider account may be linked.
    relink_connection_id: str | None = None

    def error(self, error: str, description: str, *, show_page: bool = False) -> FlowError:
        return FlowError(
            error,
            description,
            redirect_uri=self.redirect_uri,
            state=self.state,
            show_page=show_page,
            ends_request=True,
        )

    def advanced(self, **changes: object) -> AuthorizationRequest:
        return replace(self, **changes)


def next_step(
    request: AuthorizationRequest, *, policy: AdminProofPolicy, service_account: ServiceAccount
) -> Step:
    """Where a (resumed) request stands."""
    if request.step in (Step.DONE, Step.CONSENT):
        return request.step
    if not request.admin_proved and needs_admin_proof(policy, service_account):
        return Step.ADMIN_PROOF
    if request.requested_provider is None:
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


class ProviderState(Redacted, frozen=True):
    """What a provider ``state`` value stands for (stored by digest, consumed once).

    The PKCE verifier we hold toward the provider is sealed (associated data: :func:`state_binding`).
    """

    __redacted__ = frozenset({"sealed_code_verifier"})

    request_id: str
    provider_key: str
    purpose: str
    option: str | None
    sealed_code_verifier: str | None
    browser_digest: str
    expires_at: int


def state_binding(state_digest: str, request_id: str) -> bytes:
    """Associated data of a sealed provider-state value: it opens only for this state and request."""
    return f"provider_state.{state_digest}.{request_id}".encode()


class Approval(Struct, frozen=True):
    """Everything SPEC 3 step 7 writes at once.

    ``member`` is the conferencing connection or the calendar service account to write, or None
    when the calendar tenant is the flow's own service account (it is linked by the same write).
    """

    request: AuthorizationRequest
    service_account: ServiceAccount  # as the consent page showed it (its OU is re-checked)
    ou: OrganizationalUnit
    ou_is_new: bool
    member: Connection | ServiceAccount | None
    link: ProviderAccountLink
    link_is_new: bool
    code_digest: str
    code: AuthorizationCode
