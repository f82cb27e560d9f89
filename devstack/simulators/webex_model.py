"""Webex vocabulary: scopes, token-endpoint rules, ids, timestamps and the person record."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from devstack.simulators.token_endpoint import (
    ClientAuthRules,
    CodeExchangeRules,
    Refusal,
)

PEOPLE_READ = "spark:people_read"
ADMIN_PEOPLE_READ = "spark-admin:people_read"
SCHEDULES_WRITE = "meeting:schedules_write"
ADMIN_SCHEDULES_WRITE = "meeting:admin_schedule_write"
#: Scopes the simulator knows.
KNOWN_SCOPES = frozenset(
    {
        "spark:all",
        "spark:kms",
        PEOPLE_READ,
        ADMIN_PEOPLE_READ,
        "spark-admin:people_write",
        "spark-admin:organizations_read",
        "meeting:schedules_read",
        SCHEDULES_WRITE,
        "meeting:admin_schedule_read",
        ADMIN_SCHEDULES_WRITE,
        "openid",
        "email",
        "profile",
    }
)
#: Scopes only an administrator of the organization can authorize.
ADMIN_SCOPES = frozenset(s for s in KNOWN_SCOPES if s.startswith("spark-admin:") or ":admin_" in s)
FULL_ADMIN_ROLE = "id_full_admin"

WebexStatus = Literal["active", "pending", "inactive"]
STATUSES: dict[str, WebexStatus] = {"active": "active", "pending": "pending", "inactive": "inactive"}


CREDENTIALS_REQUIRED = Refusal("invalid_request", "client_id and client_secret are required.")
#: Webex takes the client secret in the form body only.
CLIENT_AUTH = ClientAuthRules(
    methods=frozenset({"body"}),
    fallback=Refusal("invalid_client", "Invalid client_id or client_secret.", 401),
    refusals={
        "wrong_auth_method": Refusal(
            "invalid_request", "client_id and client_secret must be sent in the request body."
        ),
        "missing_client_id": CREDENTIALS_REQUIRED,
        "missing_secret": CREDENTIALS_REQUIRED,
    },
)
CODE_AND_REDIRECT_REQUIRED = Refusal("invalid_request", "code and redirect_uri are required.")
BAD_VERIFIER = Refusal("invalid_grant", "The code_verifier does not match the code_challenge.")
CODE_EXCHANGE = CodeExchangeRules(
    fallback=Refusal("invalid_grant", "The authorization code is invalid or expired."),
    refusals={
        "missing_code": CODE_AND_REDIRECT_REQUIRED,
        "missing_redirect_uri": CODE_AND_REDIRECT_REQUIRED,
        "redirect_uri_mismatch": Refusal(
            "invalid_grant", "The redirect_uri does not match the authorize request."
        ),
        "verifier_missing": BAD_VERIFIER,
        "verifier_unexpected": BAD_VERIFIER,
        "verifier_mismatch": BAD_VERIFIER,
    },
    redirect_uri_required=True,
)


def webex_id(kind: str, raw: str) -> str:
    """A Webex API id: base64url (unpadded) of ``ciscospark://us/{KIND}/{raw}``."""
    return base64.urlsafe_b64encode(f"ciscospark://us/{kind}/{raw}".encode()).rstrip(b"=").decode()


def iso(timestamp: float) -> str:
    """RFC 3339 UTC with milliseconds, as Webex writes timestamps."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def parse_time(value: str) -> float:
    """Epoch seconds of a Webex RFC 3339 timestamp (``ValueError`` when malformed)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


@dataclass
class WebexPerson:
    """One person of the simulated Webex organization."""

    id: str
    email: str
    first_name: str
    last_name: str
    org_id: str
    created: str
    status: WebexStatus = "active"
    roles: list[str] = field(default_factory=list)
    meetings_licensed: bool = True  # holds a Webex Meetings licence of the site (can host)

    @property
    def display_name(self) -> str:
        """``firstName lastName``."""
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_admin(self) -> bool:
        """Whether the person is a full administrator of the organization."""
        return webex_id("ROLE", FULL_ADMIN_ROLE) in self.roles

    def to_api(self) -> dict[str, Any]:
        """The person as the People API returns it."""
        return {
            "id": self.id,
            "emails": [self.email],
            "phoneNumbers": [],
            "displayName": self.display_name,
            "nickName": self.first_name,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "orgId": self.org_id,
            "roles": list(self.roles),
            "created": self.created,
            "lastModified": self.created,
            "status": self.status,
            "invitePending": self.status == "pending",
            "loginEnabled": self.status != "inactive",
            "type": "person",
        }
