"""Enterprise Connect (SPEC 4, first bullet; Cronofy's service-account authorization) as pure decisions.

``GET /enterprise_connect/oauth/authorize`` is validated with the rules of the OU redirector
(:func:`orgconnect.domain.authorization.check_redirect`); the administrator then consents at the
calendar provider, must be an administrator of the domain, and the client's service account for
that provider and domain is created or refreshed, its admin credentials in Secrets Manager, all
in one write that also issues the code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Protocol

from msgspec import Struct

from orgconnect.domain.authorization import (
    CheckedRedirect,
    FlowError,
    check_redirect,
    pkce_challenge,
)
from orgconnect.domain.codes import AuthorizationCode
from orgconnect.domain.model import CalendarProvider, Client, ServiceAccount
from orgconnect.domain.redacted import Redacted
from orgconnect.domain.service_accounts import is_domain_name

# What a service-account token may do (Cronofy documents four; the unrestricted_access ones are
# not offered: orgconnect has no notion of them).
SERVICE_ACCOUNT_SCOPES = ("service_account/accounts/manage", "service_account/resources/manage")
# Cronofy's calendar scopes a later delegated access may ask for: shorthands and fine-grained ones.
DELEGATED_SHORTHANDS: dict[str, frozenset[str]] = {
    "read_only": frozenset({"read_account", "list_calendars", "read_events", "read_free_busy"}),
    "write_only": frozenset({"create_event", "delete_event"}),
    "free_busy": frozenset({"read_free_busy"}),
    "free_busy_write": frozenset({"read_free_busy", "create_event", "delete_event"}),
}
DELEGATED_SHORTHANDS["read_write"] = DELEGATED_SHORTHANDS["read_only"] | frozenset(
    {"create_event", "delete_event", "create_calendar", "change_participation_status"}
)
DELEGATED_SCOPES = frozenset(DELEGATED_SHORTHANDS) | frozenset().union(*DELEGATED_SHORTHANDS.values())
# provider_name values accepted, ours and Cronofy's own names for the same providers.
PROVIDER_NAMES: dict[str, CalendarProvider] = {
    "google_workspace": CalendarProvider.GOOGLE_WORKSPACE,
    "google": CalendarProvider.GOOGLE_WORKSPACE,
    "microsoft_365": CalendarProvider.MICROSOFT_365,
    "office365": CalendarProvider.MICROSOFT_365,
}
SINGLE_VALUED = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "scope",
    "delegated_scope",
    "provider_name",
    "domain",
    "code_challenge",
    "code_challenge_method",
)
MAX_SCOPE_LENGTH = 1024
REQUEST_TTL_SECONDS = 3600
COOKIE_NAME = "orgconnect_ec"


class EnterpriseConnectStep(StrEnum):
    ACTIVE = "active"
    DONE = "done"


def normalized_scope(raw: str) -> list[str]:
    """Space-separated scope values, in order, without repeats."""
    return list(dict.fromkeys(raw.split()))


def expand_delegated_scope(scope: str) -> frozenset[str]:
    """The fine-grained calendar scopes a ``delegated_scope`` grants (shorthands expanded)."""
    names = normalized_scope(scope)
    return frozenset(n for s in names for n in DELEGATED_SHORTHANDS.get(s, frozenset({s})))


def delegated_scope_allows(granted: str, requested: str) -> bool:
    """Whether a delegated access asking for ``requested`` stays within the ``granted`` delegated_scope."""
    asked = expand_delegated_scope(requested)
    return bool(asked) and asked <= expand_delegated_scope(granted)


class EnterpriseConnectParams(Struct, frozen=True):
    """A validated GET /enterprise_connect/oauth/authorize."""

    client: Client
    redirect_uri: str
    state: str | None
    scope: str
    delegated_scope: str
    provider: CalendarProvider | None  # from provider_name; None: the chooser is shown
    domain: str | None  # optional: the domain the administrator must belong to
    code_challenge: str | None


def _scope(
    query: Mapping[str, Sequence[str]], checked: CheckedRedirect, name: str, known: frozenset[str]
) -> str:
    raw = query.get(name, [""])[0]
    if not raw.strip():
        raise checked.fail("invalid_request", f"{name} is required")
    values = normalized_scope(raw)
    unknown = [v for v in values if v not in known]
    if len(raw) > MAX_SCOPE_LENGTH or unknown:
        allowed = ", ".join(sorted(known)) if len(known) < 5 else "Cronofy's calendar scopes"
        raise checked.fail("invalid_scope", f"{name} may only contain {allowed}")
    return " ".join(values)


def validate_enterprise_connect(
    query: Mapping[str, Sequence[str]], client: Client | None
) -> EnterpriseConnectParams:
    """The OU redirector's rules (a page for an unknown client or redirect_uri, else RFC 6749
    errors with the state), then scope, delegated_scope, PKCE, provider_name and domain."""
    checked = check_redirect(query, client, SINGLE_VALUED)
    scope = _scope(query, checked, "scope", frozenset(SERVICE_ACCOUNT_SCOPES))
    delegated = _scope(query, checked, "delegated_scope", DELEGATED_SCOPES)
    challenge = pkce_challenge(query, checked.fail)
    provider_name = query.get("provider_name", [""])[0]
    provider = PROVIDER_NAMES.get(provider_name)  # unknown or absent: the chooser
    domain = query.get("domain", [""])[0].strip().lower() or None
    if domain is not None and not is_domain_name(domain):
        raise checked.fail("invalid_request", "domain is not a domain name")
    return EnterpriseConnectParams(
        checked.client, checked.redirect_uri, checked.state, scope, delegated, provider, domain, challenge
    )


class EnterpriseConnectRequest(Struct, frozen=True):
    """One administrator's run through Enterprise Connect, bound to one browser."""

    request_id: str
    client_id: str
    redirect_uri: str
    state: str | None
    scope: str
    delegated_scope: str
    browser_digest: str
    created_at: int
    expires_at: int
    provider: CalendarProvider | None = None
    domain: str | None = None
    code_challenge: str | None = None
    step: EnterpriseConnectStep = EnterpriseConnectStep.ACTIVE
    outcome: str | None = None

    def error(self, error: str, description: str, *, show_page: bool = False) -> FlowError:
        return FlowError(
            error,
            description,
            redirect_uri=self.redirect_uri,
            state=self.state,
            show_page=show_page,
            ends_request=True,
        )


def admin_problem(
    request: EnterpriseConnectRequest, is_admin: bool, domain: str | None, email: str
) -> str | None:
    """Why the signed-in user cannot authorize a service account, or None."""
    if not domain:
        return f"{email} does not belong to an organization's domain."
    if request.domain is not None and domain.lower() != request.domain:
        return f"The account you signed in with does not belong to {request.domain}."
    if not is_admin:
        return f"{email} is not an administrator of {domain}."
    return None


class ExistingServiceAccount(Struct, frozen=True):
    """A service account this client already has for a provider and domain."""

    service_account: ServiceAccount
    secret_arn: str | None


class ServiceAccountAuthorization(Redacted, frozen=True):
    """What one Enterprise Connect authorization writes at once: the request finished, the
    service account created (``is_new``) or refreshed, its credentials' secret, and the code."""

    __redacted__ = frozenset({"code"})

    request: EnterpriseConnectRequest
    service_account: ServiceAccount
    is_new: bool
    secret_arn: str
    code_digest: str
    code: AuthorizationCode


class ServiceAccountDetails(Struct, frozen=True):
    """A service account as ``GET /v1/userinfo`` shows it to a service-account token."""

    service_account: ServiceAccount
    scope: str | None
    delegated_scope: str | None


class EnterpriseConnectRepository(Protocol):
    """Enterprise Connect's storage (``orgconnect.store.enterprise_connect``)."""

    def get_client(self, client_id: str) -> Client | None: ...

    def start(self, request: EnterpriseConnectRequest) -> None: ...

    def get(self, request_id: str) -> EnterpriseConnectRequest | None:
        """The request, if it is alive."""
        ...

    def end(self, request: EnterpriseConnectRequest, *, outcome: str) -> None:
        """Mark the request done (StepConflict if it already was)."""
        ...

    def find_service_account(
        self, client_id: str, provider: CalendarProvider, domain: str
    ) -> ExistingServiceAccount | None: ...

    def authorize(self, authorization: ServiceAccountAuthorization) -> None:
        """All or nothing; StepConflict when the request moved on or the service account changed."""
        ...
