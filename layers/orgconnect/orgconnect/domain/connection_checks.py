"""What "test connection" checks for a Server-to-Server conferencing connection, and how each
failure is named to the integrator (SPEC 2.5, 4; issue 11 item 1).

The provider client (``orgconnect.providers.zoom``) runs the checks and reports a
:class:`ConnectionCheck`; this module holds the vocabulary, the minimum scopes and the mapping of
a failed check to Cronofy's ``errors`` format. Descriptions never repeat a submitted value.
"""

from __future__ import annotations

from enum import StrEnum

from msgspec import Struct

from orgconnect.domain.errors import FieldError


class RequiredScope(Struct, frozen=True):
    """One capability orgconnect needs, satisfied by any of its scopes (granular first, then classic)."""

    capability: str
    scopes: tuple[str, ...]

    @property
    def name(self) -> str:
        """The scope we ask administrators to add (Zoom's granular name)."""
        return self.scopes[0]


#: The minimum Zoom scopes: list users (matching and backfill), read a user (the account and
#: its plan), create meetings for them (SPEC 2.4). Provisioning (issue 11 item 2) needs more.
ZOOM_REQUIRED_SCOPES: tuple[RequiredScope, ...] = (
    RequiredScope("list users", ("user:read:list_users:admin", "user:read:admin")),
    RequiredScope("read a user", ("user:read:user:admin", "user:read:admin")),
    RequiredScope("create meetings", ("meeting:write:meeting:admin", "meeting:write:admin")),
)


def missing_scopes(
    granted: str | None, required: tuple[RequiredScope, ...] = ZOOM_REQUIRED_SCOPES
) -> list[str]:
    """The required scopes (granular names) of which no alternative was granted (space-separated)."""
    have = set((granted or "").split())
    return [r.name for r in required if not have.intersection(r.scopes)]


class CheckName(StrEnum):
    """The checks, in the order they run."""

    CREDENTIALS = "credentials"  # the token grant: client id and secret, and the account id
    SCOPES = "scopes"  # the token's scopes cover ZOOM_REQUIRED_SCOPES
    ACCOUNT = "account"  # the account and its users can be read with the token
    PAID_PLAN = "paid_plan"  # the account is not on the Free plan


class CheckFailure(StrEnum):
    """Why a connection test failed; each names the field the integrator must fix."""

    UNKNOWN_ACCOUNT = "unknown_account"
    BAD_CLIENT_CREDENTIALS = "invalid_client_credentials"
    NOT_SERVER_TO_SERVER = "not_server_to_server"
    MISSING_SCOPES = "missing_scopes"
    FREE_PLAN = "free_plan"
    REFUSED = "refused"
    NEEDS_REAUTHORIZATION = "needs_reauthorization"  # browser-linked: the provider refused the refresh token


_FAILURES: dict[CheckFailure, tuple[str, str]] = {
    CheckFailure.UNKNOWN_ACCOUNT: (
        "server_to_server.account_id",
        "Zoom does not know this account id for this app (Account ID in the app's App Credentials).",
    ),
    CheckFailure.BAD_CLIENT_CREDENTIALS: (
        "server_to_server.client_secret",
        "Zoom refused the client id and client secret (a regenerated secret replaces the old one).",
    ),
    CheckFailure.NOT_SERVER_TO_SERVER: (
        "server_to_server.client_id",
        "This client id is not a Server-to-Server OAuth app (Zoom refused the account_credentials grant).",
    ),
    CheckFailure.MISSING_SCOPES: ("server_to_server", "The app lacks required scopes: {scopes}."),
    CheckFailure.FREE_PLAN: (
        "server_to_server.account_id",
        "The Zoom account is on the Free plan; a paid plan (Pro or higher) is required.",
    ),
    CheckFailure.REFUSED: ("server_to_server", "Zoom refused the connection test ({detail})."),
}

#: A browser-linked connection has no credentials to fix: every failure names ``connection_id``.
LINKED_FIELD = "connection_id"
_LINKED_FAILURES: dict[CheckFailure, str] = {
    CheckFailure.UNKNOWN_ACCOUNT: "The authorization now reads another Zoom account; link the account again.",
    CheckFailure.MISSING_SCOPES: "orgconnect's Zoom app lacks required scopes: {scopes}.",
    CheckFailure.NEEDS_REAUTHORIZATION: (
        "Zoom no longer accepts orgconnect's authorization of this account{detail}; an administrator "
        "must link it again through the authorization flow."
    ),
}


class CheckStep(Struct, frozen=True):
    """One check's outcome: passed, failed, or not run (``passed`` None) because an earlier one failed."""

    name: CheckName
    passed: bool | None
    description: str


class ConnectionCheck(Struct, frozen=True):
    """The result of testing a connection's credentials against the provider."""

    steps: tuple[CheckStep, ...]
    failure: CheckFailure | None = None
    missing_scopes: tuple[str, ...] = ()
    granted_scopes: tuple[str, ...] = ()
    account_id: str | None = None
    account_name: str | None = None
    detail: str = ""  # REFUSED: the provider's status and error code (no body, no value)
    linked: bool = False  # a browser-linked (OAuth) connection: errors name ``connection_id``

    @property
    def passed(self) -> bool:
        return self.failure is None

    def errors(self) -> tuple[FieldError, ...]:
        """The failure in Cronofy's ``errors`` format (empty when the test passed)."""
        if self.failure is None:
            return ()
        where, text = _FAILURES.get(self.failure, (LINKED_FIELD, ""))
        if self.linked:
            where, text = LINKED_FIELD, _LINKED_FAILURES.get(self.failure, text)
        description = text.format(scopes=", ".join(self.missing_scopes), detail=self.detail)
        return (FieldError(where, f"errors.{self.failure}", description),)


def run_steps(failed_at: CheckName | None, descriptions: dict[CheckName, str]) -> tuple[CheckStep, ...]:
    """Every check in order: passed before ``failed_at``, failed at it, not run after it."""
    steps: list[CheckStep] = []
    state: bool | None = True
    for name in CheckName:
        if name is failed_at:
            steps.append(CheckStep(name, False, descriptions.get(name, "failed")))
            state = None
            continue
        default = "passed" if state else "not run: an earlier check failed"
        steps.append(CheckStep(name, state, descriptions.get(name, default) if state else default))
    return tuple(steps)
