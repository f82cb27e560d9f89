"""Helpers shared by the Microsoft, Google, Webex and Indeed simulators.

``common.py`` gives every simulator its routing, OAuth apps, codes, tokens and control API. What
these four providers need on top of it lives here:

- ``SigningKey``: an RSA key that signs RS256 JWTs (OpenID ``id_token``s, Microsoft and Indeed
  access tokens) and publishes itself as a JWKS, so production code can validate tokens the same
  way it does against the real providers.
- ``JwtTokenStore``: a ``TokenStore`` whose access tokens can be JWTs (the real Microsoft and
  Indeed access tokens are JWTs; clients read claims such as ``roles`` from them).
- ``RateLimiter``: a per-second limit driven by the simulator's clock (deterministic in tests).
- ``PageTokens``: opaque, expiring page tokens bound to the query that produced them.
- ``split_scopes``, ``new_grant_id``, ``apply_switches``: small pieces every provider repeats.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from devstack.simulators.common import ControlError, IssuedToken, SimClock, TokenKind, TokenStore, mint_secret

# --------------------------------------------------------------------------------------------
# JWT (RS256)
# --------------------------------------------------------------------------------------------


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Inverse of ``b64url_encode``; raises ``ValueError`` on bad input."""
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.urlsafe_b64decode(padded.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise ValueError("not base64url") from exc


def _int_to_b64url(value: int) -> str:
    return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))


class SigningKey:
    """An RSA-2048 key signing RS256 JWTs, published as a JWK with a stable ``kid``."""

    def __init__(self, private_key: rsa.RSAPrivateKey) -> None:
        self._private = private_key
        numbers = private_key.public_key().public_numbers()
        self._jwk = {"kty": "RSA", "use": "sig", "alg": "RS256", "n": _int_to_b64url(numbers.n)}
        self._jwk["e"] = _int_to_b64url(numbers.e)
        # RFC 7638 thumbprint: a kid that changes only when the key does.
        canonical = json.dumps({k: self._jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"))
        self.kid = b64url_encode(hashlib.sha256(canonical.encode()).digest())[:27]
        self._jwk["kid"] = self.kid

    def sign(self, claims: Mapping[str, Any], *, typ: str = "JWT") -> str:
        """A compact RS256 JWS of ``claims``."""
        header = {"typ": typ, "alg": "RS256", "kid": self.kid}
        signing_input = ".".join(
            b64url_encode(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        signature = self._private.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url_encode(signature)}"

    def jwks(self) -> dict[str, Any]:
        """``{"keys": [jwk]}`` as served on a provider's JWKS URI."""
        return {"keys": [dict(self._jwk)]}


_KEY_LOCK = threading.Lock()
_SHARED_KEY: SigningKey | None = None


def shared_signing_key() -> SigningKey:
    """The process-wide signing key (RSA generation is slow; one key serves every simulator)."""
    global _SHARED_KEY
    with _KEY_LOCK:
        if _SHARED_KEY is None:
            _SHARED_KEY = SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        return _SHARED_KEY


def decode_jwt_unverified(token: str) -> dict[str, Any]:
    """The claims of a JWT without checking its signature (for tests and debugging)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a compact JWS")
    claims = json.loads(b64url_decode(parts[1]))
    if not isinstance(claims, dict):
        raise ValueError("JWT payload is not an object")
    return claims


# --------------------------------------------------------------------------------------------
# Tokens whose value is chosen by the caller (JWT access tokens)
# --------------------------------------------------------------------------------------------


class JwtTokenStore(TokenStore):
    """A ``TokenStore`` that can also issue tokens whose value is a JWT built from the record."""

    def mint_encoded(
        self,
        kind: TokenKind,
        encode: Callable[[IssuedToken], str],
        *,
        client_id: str,
        subject: str,
        ttl_seconds: float,
        grant_id: str,
        scope: str = "",
        extra: Mapping[str, Any] | None = None,
    ) -> IssuedToken:
        """Issue a token whose value is ``encode(record)`` (the record's expiry is already set)."""
        record = self.mint(
            kind,
            client_id=client_id,
            subject=subject,
            ttl_seconds=ttl_seconds,
            grant_id=grant_id,
            scope=scope,
            extra=extra,
        )
        # The record was stored under a random value: re-key it under its encoded form.
        self._tokens.pop(record.value)
        record.extra.setdefault("jti", record.value)
        record.value = encode(record)
        self._tokens[record.value] = record
        return record


# --------------------------------------------------------------------------------------------
# Rate limiting
# --------------------------------------------------------------------------------------------


@dataclass
class RateLimiter:
    """At most ``per_second`` calls per key in each clock second (0 or less: unlimited).

    Fixed one-second windows on the simulator clock: with a frozen test clock a window never
    ends until the test advances time, so limits are reproducible.
    """

    clock: SimClock
    per_second: int
    _windows: dict[str, tuple[int, int]] = field(default_factory=dict)

    def hit(self, key: str) -> int | None:
        """Count one call for ``key``; None when allowed, else the Retry-After in whole seconds."""
        if self.per_second <= 0:
            return None
        now = self.clock.now()
        window = math.floor(now)
        start, count = self._windows.get(key, (window, 0))
        if start != window:
            start, count = window, 0
        if count >= self.per_second:
            return max(1, math.ceil(start + 1 - now))
        self._windows[key] = (start, count + 1)
        return None

    def reset(self) -> None:
        """Forget every window."""
        self._windows.clear()


# --------------------------------------------------------------------------------------------
# Page tokens
# --------------------------------------------------------------------------------------------


@dataclass
class _PageState:
    query: str
    cursor: Any
    expires_at: float


PageProblem = Literal["unknown", "expired", "other_query"]


class PageTokens:
    """Opaque page tokens: each remembers a cursor and the query it belongs to, and expires."""

    def __init__(self, clock: SimClock, ttl_seconds: float, *, nbytes: int = 18) -> None:
        self._clock = clock
        self._ttl = ttl_seconds
        self._nbytes = nbytes
        self._states: dict[str, _PageState] = {}
        self.prune_above = 10_000

    def issue(self, query: str, cursor: Any) -> str:
        """A new token for the page after ``cursor`` of ``query`` (a canonical query string)."""
        now = self._clock.now()
        if len(self._states) >= self.prune_above:
            # Long dev-stack runs page a lot: forget expired tokens instead of growing forever.
            self._states = {k: v for k, v in self._states.items() if v.expires_at > now}
        token = mint_secret(self._nbytes)
        self._states[token] = _PageState(query, cursor, now + self._ttl)
        return token

    def resolve(self, token: str, query: str) -> tuple[Any, PageProblem | None]:
        """``(cursor, None)`` for a live token of the same query, else ``(None, problem)``."""
        state = self._states.get(token)
        if state is None:
            return None, "unknown"
        if self._clock.now() >= state.expires_at:
            return None, "expired"
        if state.query != query:
            return None, "other_query"
        return state.cursor, None

    def clear(self) -> None:
        """Forget every token."""
        self._states.clear()


def split_scopes(scope: str | None) -> list[str]:
    """Space-separated scopes as a list, order kept, duplicates dropped."""
    seen: dict[str, None] = {}
    for item in (scope or "").split():
        seen.setdefault(item, None)
    return list(seen)


def new_grant_id() -> str:
    """An id tying together the tokens of one authorization."""
    return mint_secret(12)


def apply_switches(sim: Any, options: Mapping[str, Any], switches: Mapping[str, type]) -> dict[str, Any]:
    """Set a simulator's run-time switches from ``options`` (``PATCH /_sim/options``).

    ``switches`` maps each switch to its type; an unknown name is a 400. The simulator's
    ``limiter`` follows ``rate_limit_per_second``. Returns every switch's value after the change.
    """
    unknown = sorted(set(options) - set(switches))
    if unknown:
        raise ControlError(400, f"unknown options for {sim.name}: {unknown}")
    for key, kind in switches.items():
        if key in options:
            setattr(sim, key, kind(options[key]))
    sim.limiter.per_second = sim.rate_limit_per_second
    return {key: getattr(sim, key) for key in switches}
