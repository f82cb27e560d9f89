"""Delegated access (SPEC 4; Cronofy's ``POST /v1/service_account_authorizations``) as pure rules.

A service-account token asks for access to the calendar accounts of its tenant, one email at a
time or 1 to 50 at once. Each valid request becomes one queued :class:`DelegatedAccessRequest`;
the worker (``orgconnect.workers.delegated_access``) finds the email in the tenant, creates or
reuses the account and its calendar profile, and tells the integrator at ``callback_url``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

from msgspec import Struct

from orgconnect.domain.enterprise_connect import delegated_scope_allows, normalized_scope
from orgconnect.domain.errors import FieldError, InvalidRequest

BATCH_FIELD = "service_account_authorizations"
SINGLE_FIELDS = ("email", "scope", "callback_url", "state")
MAX_BATCH = 50
MAX_EMAIL_LENGTH = 254  # RFC 5321 path limit
MAX_URL_LENGTH = 2048
MAX_STATE_LENGTH = 2048
MAX_SCOPE_LENGTH = 1024
# A practical address check (the directory is the real judge): one @, no spaces, a dotted domain.
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@(?=.{1,253}$)[a-z0-9-]+(\.[a-z0-9-]+)+\Z")
LOOPBACK_NAMES = frozenset({"localhost"})


class DelegatedAccessRequest(Struct, frozen=True):
    """One validated access request, as queued (no token, no secret)."""

    client_id: str
    service_account_id: str
    email: str  # lower-cased
    scope: str
    callback_url: str
    state: str | None

    def to_message(self) -> dict[str, Any]:
        """The SQS message body."""
        return {
            "client_id": self.client_id,
            "service_account_id": self.service_account_id,
            "email": self.email,
            "scope": self.scope,
            "callback_url": self.callback_url,
            "state": self.state,
        }

    @classmethod
    def from_message(cls, body: Mapping[str, Any]) -> DelegatedAccessRequest:
        """Read a queued message back (KeyError/TypeError for a message that is not ours)."""
        state = body.get("state")
        return cls(
            client_id=str(body["client_id"]),
            service_account_id=str(body["service_account_id"]),
            email=str(body["email"]),
            scope=str(body["scope"]),
            callback_url=str(body["callback_url"]),
            state=str(state) if state is not None else None,
        )


class DelegatedAccessQueue(Protocol):
    """Where accepted requests wait for the worker (SQS in production)."""

    def enqueue(self, requests: list[DelegatedAccessRequest]) -> None:
        """Queue every request (all or an exception; TemporarilyUnavailable when SQS fails)."""
        ...


def is_email(value: str) -> bool:
    """Whether ``value`` (already lower-cased) looks like a mailbox address."""
    return len(value) <= MAX_EMAIL_LENGTH and _EMAIL.match(value) is not None


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def callback_url_problem(url: str) -> str | None:
    """Why ``url`` cannot receive callbacks: absolute https (http only for loopback), no
    fragment, no credentials. None when it can."""
    if len(url) > MAX_URL_LENGTH:
        return f"must be at most {MAX_URL_LENGTH} characters"
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "must be an absolute https URL"
    if parts.scheme not in ("https", "http") or not host or any(c.isspace() for c in url):
        return "must be an absolute https URL"
    if parts.fragment or "#" in url:
        return "must not contain a fragment"
    if parts.username or parts.password:
        return "must not contain credentials"
    if parts.scheme == "http" and not _is_loopback(host):
        return "must use https (http is allowed only for loopback addresses)"
    return None


def _text(entry: Mapping[str, Any], name: str, where: str, errors: list[FieldError]) -> str | None:
    value = entry.get(name)
    if value is None or value == "":
        errors.append(FieldError(f"{where}{name}", "errors.required", f"{name} is required"))
        return None
    if not isinstance(value, str):
        errors.append(FieldError(f"{where}{name}", "errors.invalid", f"{name} must be a string"))
        return None
    return value


def _one(
    entry: Any,
    where: str,
    *,
    client_id: str,
    service_account_id: str,
    delegated_scope: str | None,
    default_state: str | None,
    errors: list[FieldError],
) -> DelegatedAccessRequest | None:
    if not isinstance(entry, dict):
        errors.append(FieldError(where.rstrip("."), "errors.invalid", "each authorization must be an object"))
        return None
    found = len(errors)
    email = _text(entry, "email", where, errors)
    scope = _text(entry, "scope", where, errors)
    callback_url = _text(entry, "callback_url", where, errors)
    state = entry.get("state", default_state)
    if email is not None and not is_email(email.strip().lower()):
        errors.append(FieldError(f"{where}email", "errors.invalid", "email is not an email address"))
    if scope is not None and (
        len(scope) > MAX_SCOPE_LENGTH
        or not delegated_scope
        or not delegated_scope_allows(delegated_scope, scope)
    ):
        errors.append(
            FieldError(
                f"{where}scope",
                "errors.invalid",
                "scope must stay within the delegated_scope granted to the service account",
            )
        )
    if callback_url is not None and (problem := callback_url_problem(callback_url)):
        errors.append(FieldError(f"{where}callback_url", "errors.invalid", f"callback_url {problem}"))
    if state is not None and (not isinstance(state, str) or len(state) > MAX_STATE_LENGTH):
        errors.append(
            FieldError(
                f"{where}state", "errors.invalid", f"state must be a string of at most {MAX_STATE_LENGTH}"
            )
        )
    if len(errors) > found or email is None or scope is None or callback_url is None:
        return None
    return DelegatedAccessRequest(
        client_id=client_id,
        service_account_id=service_account_id,
        email=email.strip().lower(),
        scope=" ".join(normalized_scope(scope)),
        callback_url=callback_url,
        state=state if isinstance(state, str) else None,
    )


def validate_authorizations(
    body: Mapping[str, Any], *, client_id: str, service_account_id: str, delegated_scope: str | None
) -> list[DelegatedAccessRequest]:
    """The requests of one ``POST /v1/service_account_authorizations`` body, or InvalidRequest
    (422) naming every problem: both forms mixed, 0 or more than 50 in a batch, a missing or
    malformed email, a scope outside ``delegated_scope``, a callback_url that is not https (http
    only for loopback). A top-level ``state`` beside the batch is the default of its entries
    (pycronofy sends it there)."""
    if BATCH_FIELD not in body:
        errors: list[FieldError] = []
        one = _one(
            body,
            "",
            client_id=client_id,
            service_account_id=service_account_id,
            delegated_scope=delegated_scope,
            default_state=None,
            errors=errors,
        )
        if errors or one is None:
            raise InvalidRequest(*errors)
        return [one]
    mixed = [f for f in SINGLE_FIELDS if f != "state" and f in body]
    if mixed:
        raise InvalidRequest.single(
            BATCH_FIELD,
            "errors.invalid",
            f"send either {BATCH_FIELD} or one authorization, not both ({', '.join(mixed)})",
        )
    batch = body[BATCH_FIELD]
    if not isinstance(batch, list) or not 1 <= len(batch) <= MAX_BATCH:
        raise InvalidRequest.single(
            BATCH_FIELD, "errors.invalid", f"{BATCH_FIELD} must be a list of 1 to {MAX_BATCH} authorizations"
        )
    default_state = body.get("state")
    if default_state is not None and not isinstance(default_state, str):
        raise InvalidRequest.single("state", "errors.invalid", "state must be a string")
    errors = []
    requests = [
        _one(
            entry,
            f"{BATCH_FIELD}[{i}].",
            client_id=client_id,
            service_account_id=service_account_id,
            delegated_scope=delegated_scope,
            default_state=default_state,
            errors=errors,
        )
        for i, entry in enumerate(batch)
    ]
    if errors:
        raise InvalidRequest(*errors)
    return [r for r in requests if r is not None]
