"""Indeed vocabulary: scopes, token-endpoint rules and the user record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from devstack.simulators.token_endpoint import (
    ClientAuthRules,
    CodeExchangeRules,
    Refusal,
)

KNOWN_SCOPES = frozenset({"email", "offline_access", "employer_access"})
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
#: Basic or the body, never both; every failure reads the same.
CLIENT_AUTH = ClientAuthRules(
    methods=frozenset({"basic", "body"}),
    fallback=Refusal("invalid_client", "Client authentication failed.", 401),
)
BAD_VERIFIER = Refusal("invalid_grant", "code_verifier does not match code_challenge.")
CODE_EXCHANGE = CodeExchangeRules(
    fallback=Refusal("invalid_grant", "The authorization code is invalid, expired or already used."),
    refusals={
        "redirect_uri_mismatch": Refusal(
            "invalid_grant", "redirect_uri does not match the authorization request."
        ),
        "verifier_missing": BAD_VERIFIER,
        "verifier_unexpected": BAD_VERIFIER,
        "verifier_mismatch": BAD_VERIFIER,
    },
)


@dataclass
class IndeedUser:
    """A user of the simulated Indeed employer account."""

    id: str
    email: str
    name: str
    status: str  # "active", "invited" or "deactivated"
    is_admin: bool = False

    def to_api(self, employer_id: str) -> dict[str, Any]:
        """The user as the (invented) lookup returns it."""
        return {
            "id": self.id,
            "email": self.email,
            "name": self.name,
            "status": self.status,
            "employerId": employer_id,
        }
