"""Google vocabulary: OAuth scopes, token-endpoint rules, timestamps and grants."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from devstack.simulators.token_endpoint import (
    ClientAuthRules,
    CodeExchangeRules,
    Refusal,
)

SCOPE_PREFIX = "https://www.googleapis.com/auth/"
DIRECTORY_USER = SCOPE_PREFIX + "admin.directory.user"
DIRECTORY_USER_READONLY = SCOPE_PREFIX + "admin.directory.user.readonly"
MEET_CREATED = SCOPE_PREFIX + "meetings.space.created"
MEET_READONLY = SCOPE_PREFIX + "meetings.space.readonly"
USERINFO_EMAIL = SCOPE_PREFIX + "userinfo.email"
USERINFO_PROFILE = SCOPE_PREFIX + "userinfo.profile"
#: Scopes the simulator knows; ``email`` and ``profile`` are granted as their userinfo.* names.
KNOWN_SCOPES = frozenset(
    {
        "openid",
        USERINFO_EMAIL,
        USERINFO_PROFILE,
        DIRECTORY_USER,
        DIRECTORY_USER_READONLY,
        SCOPE_PREFIX + "admin.directory.customer.readonly",
        SCOPE_PREFIX + "calendar",
        SCOPE_PREFIX + "calendar.readonly",
        SCOPE_PREFIX + "calendar.events",
        MEET_CREATED,
        MEET_READONLY,
    }
)
SHORT_SCOPES = {"email": USERINFO_EMAIL, "profile": USERINFO_PROFILE}
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
#: Basic or the body; both only when they name the same client.
CLIENT_AUTH = ClientAuthRules(
    methods=frozenset({"basic", "body"}),
    both="same_client",
    fallback=Refusal("invalid_client", "Unauthorized", 401),
    refusals={
        "auth_conflict": Refusal("invalid_request", "client_id in the body does not match Basic auth."),
        "missing_client_id": Refusal("invalid_request", "Could not determine client ID from request."),
        "unknown_client": Refusal("invalid_client", "The OAuth client was not found.", 401),
    },
)
CODE_EXCHANGE = CodeExchangeRules(
    fallback=Refusal("invalid_grant", "Bad Request"),
    refusals={
        "missing_code": Refusal("invalid_request", "Missing required parameter: code"),
        "missing_redirect_uri": Refusal("invalid_request", "Missing parameter: redirect_uri"),
        "redirect_uri_mismatch": Refusal("redirect_uri_mismatch", "Bad Request"),
        "verifier_unexpected": Refusal("invalid_request", "code_verifier or verifier is not needed."),
        "verifier_missing": Refusal("invalid_grant", "Missing code verifier."),
        "verifier_mismatch": Refusal("invalid_grant", "Invalid code verifier."),
    },
    redirect_uri_required=True,
)


def iso_millis(timestamp: float) -> str:
    """RFC 3339 UTC with milliseconds, as Google APIs write timestamps."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class Grant:
    """What one user granted one client (for ``include_granted_scopes`` and ``prompt=none``)."""

    scopes: set[str] = field(default_factory=set)
    offline: bool = False
