"""The errors of the token and revocation endpoints (RFC 6749 section 5.2, RFC 7009)."""

from __future__ import annotations

from typing import ClassVar

from orgconnect.domain.errors import DomainError


class OAuthError(DomainError):
    """An RFC 6749 error answered by the token and revocation endpoints."""

    error: ClassVar[str] = "invalid_request"
    status: ClassVar[int] = 400

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class InvalidOAuthRequest(OAuthError):
    """A parameter is missing, repeated or malformed, or the body cannot be read."""

    error = "invalid_request"


class InvalidClient(OAuthError):
    """Client authentication failed (unknown client, wrong or missing secret)."""

    error = "invalid_client"
    status = 401


class InvalidGrant(OAuthError):
    """The code or refresh token is unknown, used, expired, revoked, or not this client's."""

    error = "invalid_grant"


class UnsupportedGrantType(OAuthError):
    """A grant type this server does not offer (password, client_credentials, implicit, …)."""

    error = "unsupported_grant_type"
