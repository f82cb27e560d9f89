"""Authorization codes that orgconnect (as authorization server) returns to integrators.

Contract between the flow that issues a code (the consent step) and the token endpoint that
redeems it (SPEC 2.2; anchors K1-K5): 32 ASCII characters, single-use, at most 10 minutes,
bound to the client and the redirect_uri, stored only as a keyed digest under ``CODE#{digest}``.
"""

from __future__ import annotations

import secrets
from enum import StrEnum

from msgspec import Struct

CODE_PURPOSE = "authorization_code"
CODE_LENGTH = 32


class GrantKind(StrEnum):
    """What a code (and the grant redeemed from it) authorizes."""

    ORGANIZATIONAL_UNIT = "organizational_unit"
    ACCOUNT = "account"
    SERVICE_ACCOUNT = "service_account"


OU_SCOPE = "organizational_unit_use_integrations"


def new_code() -> str:
    """32 URL-safe ASCII characters (192 bits) from the CSPRNG."""
    return secrets.token_urlsafe(24)


class AuthorizationCode(Struct, frozen=True):
    """What a code stands for. ``sub`` is ``ou_…`` for an OU code."""

    client_id: str
    redirect_uri: str
    kind: GrantKind
    sub: str
    scope: str
    created_at: int
    expires_at: int
    # Set once redeemed: the grant issued from it (so a replay can revoke it, K1).
    grant_id: str | None = None
    # RFC 7636 S256 challenge the client sent to the authorization endpoint, if any.
    code_challenge: str | None = None
