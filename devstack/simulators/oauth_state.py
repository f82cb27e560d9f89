"""OAuth state a simulated provider keeps: registered apps, single-use codes, tokens, PKCE.

``OAuthApp`` (exact-match redirect URIs), ``CodeStore`` (single-use authorization codes with a
lifetime), ``TokenStore`` (access and refresh tokens with expiry, revocation and grant families),
``mint_secret`` (codes and tokens come from the OS CSPRNG, never the seed) and RFC 7636 PKCE.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from devstack.simulators.clock import SimClock

TokenKind = Literal["access", "refresh"]


@dataclass
class OAuthApp:
    """An OAuth client registered with the simulated provider.

    ``redirect_uris`` are compared by exact string match. ``kind`` lets providers keep other
    app types in the same registry (Zoom: ``"server_to_server"`` apps bound to ``account_id``).
    ``meta`` holds provider specifics (e.g. Zoom's ``admin_level`` flag).
    """

    client_id: str
    client_secret: str
    redirect_uris: list[str] = field(default_factory=list)
    name: str = "OAuth app"
    kind: str = "oauth"
    scopes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def check_secret(self, secret: str) -> bool:
        """Constant-time comparison of a presented client secret."""
        return hmac.compare_digest(self.client_secret.encode(), secret.encode())

    def public(self) -> dict[str, Any]:
        """The app without its secret (for ``GET /_sim/apps``)."""
        return {
            "client_id": self.client_id,
            "name": self.name,
            "kind": self.kind,
            "redirect_uris": list(self.redirect_uris),
            "scopes": list(self.scopes),
            "meta": dict(self.meta),
        }


@dataclass
class AuthorizationCode:
    """An issued authorization code and everything it was bound to at issue time."""

    code: str
    client_id: str
    redirect_uri: str
    subject: str
    expires_at: float
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    scope: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    used: bool = False


CodeProblem = Literal["unknown", "used", "expired"]


class CodeStore:
    """Single-use authorization codes with a lifetime."""

    def __init__(self, clock: SimClock) -> None:
        self._clock = clock
        self._codes: dict[str, AuthorizationCode] = {}

    def issue(
        self,
        *,
        client_id: str,
        redirect_uri: str,
        subject: str,
        ttl_seconds: float,
        code_challenge: str | None = None,
        code_challenge_method: str | None = None,
        scope: str = "",
        extra: Mapping[str, Any] | None = None,
        nbytes: int = 24,
    ) -> AuthorizationCode:
        """Create and remember a new code."""
        record = AuthorizationCode(
            code=mint_secret(nbytes),
            client_id=client_id,
            redirect_uri=redirect_uri,
            subject=subject,
            expires_at=self._clock.now() + ttl_seconds,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            scope=scope,
            extra=dict(extra or {}),
        )
        self._codes[record.code] = record
        return record

    def issue_for_request(
        self,
        authorize_params: Mapping[str, str | None],
        *,
        client_id: str,
        redirect_uri: str,
        subject: str,
        ttl_seconds: float,
        scope: str = "",
        extra: Mapping[str, Any] | None = None,
        nbytes: int = 24,
    ) -> AuthorizationCode:
        """``issue`` bound to the PKCE challenge of an authorize request, if it carried one.

        A challenge without ``code_challenge_method`` is ``plain`` (RFC 7636 section 4.3).
        """
        challenge = authorize_params.get("code_challenge") or None
        method = (authorize_params.get("code_challenge_method") or "plain") if challenge else None
        return self.issue(
            client_id=client_id,
            redirect_uri=redirect_uri,
            subject=subject,
            ttl_seconds=ttl_seconds,
            code_challenge=challenge,
            code_challenge_method=method,
            scope=scope,
            extra=extra,
            nbytes=nbytes,
        )

    def redeem(self, code: str) -> tuple[AuthorizationCode | None, CodeProblem | None]:
        """Use up ``code``: ``(record, None)`` the first time, else ``(record|None, problem)``.

        A code is spent by its first redemption even if the caller then refuses the exchange
        (wrong verifier, wrong redirect_uri), as real providers do.
        """
        record = self._codes.get(code)
        if record is None:
            return None, "unknown"
        if record.used:
            return record, "used"
        record.used = True
        if self._clock.now() >= record.expires_at:
            return record, "expired"
        return record, None

    def clear(self) -> None:
        """Forget every code."""
        self._codes.clear()


@dataclass
class IssuedToken:
    """An access or refresh token. ``grant_id`` ties together the tokens of one authorization."""

    value: str
    kind: TokenKind
    client_id: str
    subject: str
    expires_at: float
    grant_id: str
    scope: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    revoked: bool = False


class TokenStore:
    """Access and refresh tokens, with expiry, revocation and grant families."""

    def __init__(self, clock: SimClock) -> None:
        self._clock = clock
        self._tokens: dict[str, IssuedToken] = {}

    def mint(
        self,
        kind: TokenKind,
        *,
        client_id: str,
        subject: str,
        ttl_seconds: float,
        grant_id: str,
        scope: str = "",
        extra: Mapping[str, Any] | None = None,
        prefix: str = "",
        nbytes: int = 32,
    ) -> IssuedToken:
        """Issue a new token of ``kind``."""
        record = IssuedToken(
            value=prefix + mint_secret(nbytes),
            kind=kind,
            client_id=client_id,
            subject=subject,
            expires_at=self._clock.now() + ttl_seconds,
            grant_id=grant_id,
            scope=scope,
            extra=dict(extra or {}),
        )
        self._tokens[record.value] = record
        return record

    def find(self, value: str) -> IssuedToken | None:
        """The token record whatever its state (expired and revoked included)."""
        return self._tokens.get(value)

    def valid(self, value: str, kind: TokenKind) -> IssuedToken | None:
        """The token if it exists, is of ``kind``, is not revoked and has not expired."""
        record = self._tokens.get(value)
        if record is None or record.kind != kind or record.revoked:
            return None
        if self._clock.now() >= record.expires_at:
            return None
        return record

    def revoke(self, value: str) -> bool:
        """Revoke one token; True when it existed."""
        record = self._tokens.get(value)
        if record is None:
            return False
        record.revoked = True
        return True

    def revoke_grant(self, grant_id: str) -> int:
        """Revoke every token of one authorization; returns how many were live."""
        return self.revoke_where(lambda t: t.grant_id == grant_id)

    def revoke_where(self, predicate: Callable[[IssuedToken], bool]) -> int:
        """Revoke every token matching ``predicate``; returns how many were live."""
        count = 0
        for record in self._tokens.values():
            if not record.revoked and predicate(record):
                record.revoked = True
                count += 1
        return count

    def live(self) -> Iterator[IssuedToken]:
        """Tokens that are neither revoked nor expired."""
        now = self._clock.now()
        return (t for t in self._tokens.values() if not t.revoked and now < t.expires_at)

    def clear(self) -> None:
        """Forget every token."""
        self._tokens.clear()


def mint_secret(nbytes: int = 32) -> str:
    """A URL-safe random string from the OS CSPRNG (codes and tokens are never seed-derived)."""
    return secrets.token_urlsafe(nbytes)


def pkce_challenge(verifier: str, method: str) -> str:
    """The PKCE code_challenge for ``verifier`` (RFC 7636 section 4.2)."""
    if method == "plain":
        return verifier
    if method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    raise ValueError(f"unsupported code_challenge_method {method!r}")


_PKCE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def verify_pkce(verifier: str | None, challenge: str | None, method: str | None) -> bool:
    """Check a token request's ``code_verifier`` against the authorize request's challenge.

    Strict on purpose: a verifier without a stored challenge (the client forgot to send the
    challenge) or a challenge without a verifier fails, and so does a verifier that is not
    43-128 unreserved characters (RFC 7636 section 4.1). No challenge and no verifier passes.
    """
    if challenge is None:
        return verifier is None
    if verifier is None or not 43 <= len(verifier) <= 128 or not set(verifier) <= _PKCE_CHARS:
        return False
    try:
        expected = pkce_challenge(verifier, method or "plain")
    except ValueError:
        return False
    return hmac.compare_digest(expected.encode(), challenge.encode())
