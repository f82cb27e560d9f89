"""The shared core of every provider simulator (Zoom, Microsoft, Google, Webex, Indeed).

A provider simulator is a plain WSGI application (werkzeug, no framework) that serves the
provider's real paths under one base URL, keeps all state in memory, and is deterministic for a
given seed. This module gives every simulator the same machinery, so that a provider module only
writes what is specific to that provider.

Interface for provider modules (keep to it; it is stable):

``Simulator`` (abstract base class, a WSGI app)
    Subclass it, set the class attribute ``name`` and implement the hooks:

    - ``seed_state(params)``: build the provider's users from ``self.demo`` / ``self.rng``.
      Called by the constructor, ``reset()`` and ``reseed()``, always under ``self.lock``.
    - ``control_list_users()`` / ``control_add_user(body)`` / ``control_remove_user(email)`` /
      ``control_update_user(email, body)``: the provider's user shape behind ``/_sim/users``.
      Raise ``ControlError`` for a bad request (400), a missing user (404) or a clash (409).
    - ``dev_info(base_url)``: the ``simulators.<name>`` block of ``.orgconnect/dev.json``
      (start from ``self.base_dev_info(base_url)``).

    Optional hooks (sensible defaults exist): ``validate_seed_params`` (check ``/_sim/seed``
    params before anything changes), ``error_response`` (provider error body for
    injected 5xx faults and unknown paths), ``oauth_error_response`` (the provider's token
    endpoint error for an injected ``invalid_grant``), ``rate_limited_response`` (an injected
    429), ``send_webhook_event`` (``/_sim/webhooks/send``), ``apply_options``
    (``PATCH /_sim/options``).

    In ``__init__`` a subclass calls ``super().__init__(demo, seed=..., clock=..., ...)`` *after*
    setting the attributes its ``seed_state`` needs, and adds its routes with
    ``self.add_route(rule, handler, methods=[...], target="token"|"api"|...)``. A handler is
    ``handler(request, **url_values) -> Response``; it runs under ``self.lock`` (one request at a
    time mutates state) unless registered with ``locked=False``. ``target`` names the route for
    fault injection.

Shared state on every instance: ``demo`` (the DemoDirectory), ``seed``, ``rng`` (a
``random.Random`` re-seeded on every reset, for ids that must be deterministic), ``clock``
(``SimClock``: ``now()``, ``advance(seconds)``), ``lock`` (re-entrant), ``apps`` (registered OAuth
apps, exact-match redirect URIs), ``codes`` (``CodeStore``: single-use authorization codes),
``tokens`` (``TokenStore``: access and refresh tokens), ``default_app`` (the OAuth app registered
for orgconnect, credentials derived from the seed), ``webhooks`` (``WebhookConfig``).

Helpers: ``json_response``, ``read_json``, ``request_params`` (query + form),
``parse_basic_auth``, ``bearer_token``, ``verify_pkce`` / ``pkce_challenge``, ``mint_secret``,
``render_signin_page`` (``data-testid="approve"`` / ``"deny"``), ``html_page`` /
``html_error_page``, ``redirect_with_params``, ``redact_params``, ``hmac_sha256_hex``.

Control API (JSON, mounted on every simulator under ``/_sim/``):

====================================  =========================================================
``GET  /_sim/info``                   ``dev_info`` for the URL the request came in on
``POST /_sim/reset``                  back to the seeded state (apps, webhooks and clock kept)
``POST /_sim/seed``                   reseed: ``{"seed", "primary_users", "secondary_users",
                                      ...provider params}``
``GET|POST /_sim/users``              list / add a user (provider shape)
``PATCH|DELETE /_sim/users/{email}``  rename (``{"email": new}``), change status, remove
``GET|POST|DELETE /_sim/faults``      list / add / clear injected faults
``GET|DELETE /_sim/requests``         the request log (secrets redacted) / clear it
``GET|POST /_sim/clock``              read the clock / ``{"advance_seconds": S}``
``GET|POST /_sim/apps``               list apps (no secrets) / register an OAuth app
``PATCH /_sim/apps/{client_id}``      ``{"redirect_uris": [...]}``
``GET|POST /_sim/webhooks/config``    read (no secret) / set ``{"url", "secret_token"}``
``POST /_sim/webhooks/send``          deliver an event now: ``{"event": ..., ...}``
``PATCH /_sim/options``               change provider switches at run time
====================================  =========================================================

Faults: ``{"target": "token"|"api"|...|"*", "kind": "500"|"503"|...|"429"|"timeout"|
"invalid_grant"|"invalid_client", "count": N, "delay_seconds": S, "path_prefix": "/v2/users"}``
makes the next N matching provider calls answer that way. ``timeout`` holds the request for
``delay_seconds`` (default ``timeout_delay_seconds``, 5 s), longer than a sane client timeout,
then answers 504.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import json
import logging
import math
import random
import secrets
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from devstack.simulators.demo import DemoDirectory, build_demo_directory

logger = logging.getLogger(__name__)

#: Parameter and header names whose values never reach the request log.
SECRET_NAMES = frozenset(
    {
        "authorization",
        "code",
        "token",
        "refresh_token",
        "access_token",
        "client_secret",
        "code_verifier",
        "password",
        "assertion",
        "secret_token",
        "id_token",
        "plaintoken",
        "encryptedtoken",
        "zak",
        "pwd",
    }
)
REDACTED = "[redacted]"

#: Fault kinds understood by every simulator besides plain HTTP statuses ("500", "503", ...).
SPECIAL_FAULT_KINDS = frozenset({"timeout", "invalid_grant", "invalid_client", "429"})

Handler = Callable[..., Response]
TokenKind = Literal["access", "refresh"]


class ControlError(Exception):
    """A refusal from a control-API hook, answered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class SimResponse(Exception):
    """Raise from deep inside a handler to answer with ``response`` straight away."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


# --------------------------------------------------------------------------------------------
# Clock
# --------------------------------------------------------------------------------------------


class SimClock:
    """Wall-clock time plus an offset that tests move forward; never reads ``time`` directly.

    ``base`` is the underlying time source (``time.time`` by default; tests pass a constant
    function so that time only moves when they advance it).
    """

    def __init__(self, base: Callable[[], float] | None = None) -> None:
        self._base = base or time.time
        self._offset = 0.0

    def now(self) -> float:
        """Seconds since the epoch, as the simulator sees it."""
        return self._base() + self._offset

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds`` (never backwards) and return the new time."""
        if seconds < 0 or not math.isfinite(seconds):
            raise ValueError("the clock only moves forward")
        self._offset += seconds
        return self.now()


# --------------------------------------------------------------------------------------------
# OAuth apps, codes, tokens
# --------------------------------------------------------------------------------------------


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


@dataclass
class Fault:
    """An injected fault: the next ``remaining`` calls matching ``target`` answer with ``kind``."""

    fault_id: int
    target: str
    kind: str
    remaining: int
    delay_seconds: float
    path_prefix: str | None = None

    def matches(self, target: str, path: str) -> bool:
        """Whether a call to ``path`` on a route of ``target`` triggers this fault."""
        if self.target not in ("*", target):
            return False
        return self.path_prefix is None or path.startswith(self.path_prefix)

    def public(self) -> dict[str, Any]:
        """JSON form for the control API."""
        return {
            "id": self.fault_id,
            "target": self.target,
            "kind": self.kind,
            "remaining": self.remaining,
            "delay_seconds": self.delay_seconds,
            "path_prefix": self.path_prefix,
        }


@dataclass
class WebhookConfig:
    """Where webhooks go and the secret they are signed with (``url`` None: not configured)."""

    url: str | None
    secret_token: str


@dataclass(frozen=True)
class SignInOption:
    """One user to sign in as on a simulated sign-in page."""

    value: str
    label: str
    group: str = ""
    selected: bool = False


@dataclass(frozen=True)
class Route:
    """What a URL rule points at: the handler, its fault target, and whether it takes the lock."""

    handler: Handler
    target: str
    locked: bool = True


@dataclass
class _PendingWebhook:
    event: str
    url: str
    body: bytes
    headers: dict[str, str]


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def mint_secret(nbytes: int = 32) -> str:
    """A URL-safe random string from the OS CSPRNG (codes and tokens are never seed-derived)."""
    return secrets.token_urlsafe(nbytes)


def hmac_sha256_hex(key: str, message: str | bytes) -> str:
    """Hex HMAC-SHA256 of ``message`` under ``key`` (webhook signatures and challenges)."""
    data = message.encode() if isinstance(message, str) else message
    return hmac.new(key.encode(), data, hashlib.sha256).hexdigest()


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


def parse_basic_auth(header: str | None) -> tuple[str, str] | None:
    """``(client_id, client_secret)`` from an ``Authorization: Basic ...`` header, else None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    return user, password


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header, else None."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def request_params(request: Request) -> dict[str, str]:
    """Query-string and form parameters merged (the form wins), first value of each."""
    params = {key: request.args.get(key, "") for key in request.args}
    if request.mimetype == "application/x-www-form-urlencoded":
        params.update({key: request.form.get(key, "") for key in request.form})
    return params


def read_json(request: Request, *, required: bool = False) -> dict[str, Any]:
    """The request's JSON object body ({} when empty and not ``required``).

    Raises ``ControlError(400)`` for a malformed body or one that is not an object.
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise ControlError(400, "a JSON object body is required")
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ControlError(400, f"body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ControlError(400, "body must be a JSON object")
    return data


def json_response(
    data: Any,
    status: int = 200,
    *,
    headers: Mapping[str, str] | None = None,
    content_type: str = "application/json",
) -> Response:
    """A JSON response; ``data=None`` gives an empty body (for 204s)."""
    body = b"" if data is None else json.dumps(data).encode()
    response = Response(body, status=status, content_type=None if data is None else content_type)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def redirect_with_params(url: str, params: Mapping[str, str | None]) -> Response:
    """A 302 to ``url`` with ``params`` appended to its query (None values are left out)."""
    parts = urlsplit(url)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query and extra else (parts.query or extra)
    target = urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
    response = Response(status=302)
    response.headers["Location"] = target
    response.headers["Cache-Control"] = "no-store"
    return response


def redact_params(params: Mapping[str, str]) -> dict[str, str]:
    """``params`` with the values of secret-bearing names replaced by ``[redacted]``."""
    return {k: (REDACTED if k.lower() in SECRET_NAMES else v) for k, v in params.items()}


_PAGE_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#222}"
    "h1{font-size:1.4rem}.box{border:1px solid #ccc;border-radius:8px;padding:1.2rem}"
    "select,input[type=email]{width:100%;padding:.4rem;margin:.4rem 0 1rem;box-sizing:border-box}"
    "button{padding:.5rem 1.2rem;margin-right:.6rem;border-radius:6px;border:1px solid #888}"
    "button[value=approve]{background:#0b5cff;color:#fff;border-color:#0b5cff}"
    ".error{color:#a00}.muted{color:#666;font-size:.9rem}ul{padding-left:1.2rem}"
)


def html_page(title: str, body_html: str, status: int = 200) -> Response:
    """A self-contained HTML page (no third-party assets) with strict security headers."""
    document = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_PAGE_STYLE}</style></head>"
        f"<body><main class=box>{body_html}</main></body></html>"
    )
    response = Response(document, status=status, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def html_error_page(title: str, message: str, status: int = 400) -> Response:
    """An HTML error page; used where a provider must not redirect (bad client or redirect_uri)."""
    body = (
        f'<h1 data-testid="error-title">{html.escape(title)}</h1>'
        f'<p class=error data-testid="error-message">{html.escape(message)}</p>'
    )
    return html_page(title, body, status)


def render_signin_page(
    *,
    title: str,
    app_name: str,
    action_url: str,
    hidden: Mapping[str, str],
    options: Sequence[SignInOption],
    field_name: str = "user",
    scopes: Iterable[str] = (),
    message: str | None = None,
    email_field: str | None = None,
) -> Response:
    """A sign-in and consent page: pick a user, then Approve or Deny.

    The form posts ``hidden`` back to ``action_url`` together with ``<field_name>=<option
    value>`` and ``decision=approve|deny``. The submit buttons carry ``data-testid="approve"``
    and ``data-testid="deny"``; the select carries ``data-testid="signin-user"``. With
    ``email_field`` set, a text input of that name (``data-testid="signin-email"``) lets the
    user type any email instead (for directories too large to list); it wins when filled in.
    """
    hidden_inputs = "".join(
        f'<input type=hidden name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in hidden.items()
    )
    grouped: dict[str, list[SignInOption]] = {}
    for option in options:
        grouped.setdefault(option.group, []).append(option)
    select_parts: list[str] = []
    for group, members in grouped.items():
        rendered = "".join(
            f'<option value="{html.escape(o.value)}"{" selected" if o.selected else ""}>'
            f"{html.escape(o.label)}</option>"
            for o in members
        )
        select_parts.append(
            f'<optgroup label="{html.escape(group)}">{rendered}</optgroup>' if group else rendered
        )
    scope_list = "".join(f"<li>{html.escape(s)}</li>" for s in scopes)
    body = (
        f"<h1>{html.escape(title)}</h1>"
        + (f'<p class=error data-testid="signin-message">{html.escape(message)}</p>' if message else "")
        + f"<p><strong>{html.escape(app_name)}</strong> is requesting access to your account.</p>"
        + (f"<p class=muted>Permissions:</p><ul>{scope_list}</ul>" if scope_list else "")
        + f'<form method=post action="{html.escape(action_url)}">{hidden_inputs}'
        + f'<label for=signin-user>Sign in as</label><select id=signin-user name="{html.escape(field_name)}"'
        + f' data-testid="signin-user">{"".join(select_parts)}</select>'
        + (
            f"<label for=signin-email>or sign in with email</label><input id=signin-email type=email"
            f' name="{html.escape(email_field)}" data-testid="signin-email" autocomplete=off><br><br>'
            if email_field
            else ""
        )
        + '<button type=submit name=decision value=approve data-testid="approve">Approve</button>'
        + '<button type=submit name=decision value=deny data-testid="deny">Deny</button>'
        + "</form><p class=muted>Simulated provider: nothing leaves this machine.</p>"
    )
    return html_page(title, body)


# --------------------------------------------------------------------------------------------
# The base class
# --------------------------------------------------------------------------------------------


class Simulator(ABC):
    """A provider simulator: a WSGI app with provider routes plus the ``/_sim/`` control API.

    Constructor: ``Simulator(demo=None, *, seed=7, clock=None, redirect_uris=None,
    timeout_delay_seconds=5.0, webhook_timeout_seconds=3.0, request_log_size=10_000,
    seed_params=None)``.
    ``clock`` is a zero-argument callable returning epoch seconds (``time.time`` by default);
    the instance wraps it in a ``SimClock`` that the control API can advance. ``redirect_uris``
    are the default OAuth app's initial redirect URIs. ``seed_params`` are the provider's
    seeding parameters (passed to ``seed_state`` and kept for ``reset``).

    Thread safety: the server is threaded; every handler registered with ``locked=True`` (the
    default) runs under ``self.lock``. Webhooks queued with ``queue_webhook`` during a handler
    are delivered after the lock is released (so a receiver may call back into the simulator),
    still before the response is sent.
    """

    #: The provider name, e.g. ``"zoom"`` (also the registry key and dev.json key).
    name: ClassVar[str] = "simulator"

    def __init__(
        self,
        demo: DemoDirectory | None = None,
        *,
        seed: int = 7,
        clock: Callable[[], float] | None = None,
        redirect_uris: Sequence[str] | None = None,
        timeout_delay_seconds: float = 5.0,
        webhook_timeout_seconds: float = 3.0,
        request_log_size: int = 10_000,
        seed_params: Mapping[str, Any] | None = None,
    ) -> None:
        self.demo = demo if demo is not None else build_demo_directory(seed=seed)
        self.seed = seed
        self.seed_params: dict[str, Any] = dict(seed_params or {})
        self.rng = random.Random(seed)
        self.clock = SimClock(clock)
        self.lock = threading.RLock()
        self.timeout_delay_seconds = timeout_delay_seconds
        self.webhook_timeout_seconds = webhook_timeout_seconds
        self.apps: dict[str, OAuthApp] = {}
        self.codes = CodeStore(self.clock)
        self.tokens = TokenStore(self.clock)
        self.webhooks = WebhookConfig(url=None, secret_token=self.derived_secret("webhook-secret"))
        self.url_map = Map(strict_slashes=False, merge_slashes=False)
        self._faults: list[Fault] = []
        self._fault_seq = 0
        self._log: deque[dict[str, Any]] = deque(maxlen=request_log_size)
        self._log_seq = 0
        self._local = threading.local()
        self._release = threading.Event()
        self._add_control_routes()
        self.default_app = self.register_app(
            self.derived_id("oauth-client-id"),
            self.derived_secret("oauth-client-secret"),
            list(redirect_uris) if redirect_uris is not None else [self.initial_redirect_uri()],
            name="orgconnect",
        )
        with self.transaction():
            self.seed_state(dict(self.seed_params))

    # ----- hooks a provider implements ----------------------------------------------------

    @abstractmethod
    def seed_state(self, params: Mapping[str, Any]) -> None:
        """(Re)build the provider's in-memory directory from ``self.demo`` and ``params``."""

    @abstractmethod
    def control_list_users(self) -> list[dict[str, Any]]:
        """Every user, in the provider's shape (``GET /_sim/users``)."""

    @abstractmethod
    def control_add_user(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Add a user described by ``body`` (at least ``email``) and return it."""

    @abstractmethod
    def control_remove_user(self, email: str) -> None:
        """Remove the user with ``email`` (``ControlError(404)`` when unknown)."""

    @abstractmethod
    def control_update_user(self, email: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Change the user with ``email`` (``{"email": new}`` renames, ``{"status": ...}``)."""

    @abstractmethod
    def dev_info(self, base_url: str) -> dict[str, Any]:
        """The ``simulators.<name>`` block of ``.orgconnect/dev.json`` for ``base_url``."""

    def error_response(self, status: int, message: str, request: Request) -> Response:
        """The provider's error body for an injected HTTP fault or an unknown path."""
        return json_response({"error": {"code": status, "message": message}}, status)

    def oauth_error_response(self, error: str, description: str, status: int = 400) -> Response:
        """The provider's token-endpoint error (RFC 6749 section 5.2 by default)."""
        return json_response(
            {"error": error, "error_description": description},
            status,
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    def rate_limited_response(self, request: Request, target: str) -> Response:
        """The provider's 429 for an injected ``429`` fault."""
        return json_response(
            {"error": {"code": 429, "message": "Too many requests"}}, 429, headers={"Retry-After": "1"}
        )

    def send_webhook_event(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Build and deliver one webhook event now (``POST /_sim/webhooks/send``).

        Called without the lock held. Providers with webhooks override this.
        """
        raise ControlError(404, f"the {self.name} simulator sends no webhooks")

    def validate_seed_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Check provider seed params before a reseed touches state (``ControlError(400)``)."""
        return dict(params)

    def apply_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Change provider switches at run time; returns the switches now in force."""
        if options:
            raise ControlError(400, f"unknown options for {self.name}: {sorted(options)}")
        return {}

    def initial_redirect_uri(self) -> str:
        """The default app's redirect URI until the dev stack registers the real one."""
        return f"http://127.0.0.1:8000/oauth/callback/{self.name}"

    # ----- deterministic values -------------------------------------------------------------

    def derived_id(self, purpose: str, length: int = 22) -> str:
        """An id that depends only on (provider, seed, purpose): stable across runs."""
        rng = random.Random(f"{self.name}:{self.seed}:{purpose}")
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return "".join(rng.choice(alphabet) for _ in range(length))

    def derived_secret(self, purpose: str) -> str:
        """A demo secret that depends only on (provider, seed, purpose) (dev credentials)."""
        return self.derived_id(purpose, 32)

    # ----- routing and dispatch -------------------------------------------------------------

    def add_route(
        self,
        rule: str,
        handler: Handler,
        *,
        methods: Sequence[str],
        target: str,
        locked: bool = True,
    ) -> None:
        """Serve ``rule`` (werkzeug syntax) with ``handler(request, **values) -> Response``."""
        self.url_map.add(Rule(rule, endpoint=Route(handler, target, locked), methods=list(methods)))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """WSGI entry point."""
        request = Request(environ)
        response = self.handle(request)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        """Route, apply faults, run the handler, log the call, then deliver queued webhooks."""
        adapter = self.url_map.bind_to_environ(request.environ)
        route: Route | None = None
        fault: Fault | None = None
        try:
            endpoint, values = adapter.match()
            route = endpoint
            assert isinstance(route, Route)
            if route.target != "control":
                fault = self._take_fault(route.target, request.path)
            if fault is not None:
                response = self._fault_response(fault, request, route.target)
            elif route.locked:
                with self.transaction():
                    response = self._run(route, request, values)
            else:
                response = self._run(route, request, values)
        except NotFound:
            response = self.error_response(404, "Not Found", request)
        except MethodNotAllowed:
            response = self.error_response(405, "Method Not Allowed", request)
        except HTTPException as exc:  # werkzeug's own refusals (e.g. body too large)
            response = self.error_response(exc.code or 400, exc.description or "Bad Request", request)
        target = route.target if route else "unknown"
        if target != "control":  # control calls are the test talking to itself: not logged
            self._record(request, response, target, fault)
        return response

    def _run(self, route: Route, request: Request, values: Mapping[str, Any]) -> Response:
        try:
            return route.handler(request, **values)
        except SimResponse as answer:
            return answer.response
        except ControlError as exc:
            return json_response({"error": exc.message}, exc.status)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock; webhooks queued inside go out once the outermost block is left.

        Deliveries happen after the lock is released, so a webhook receiver may call back into
        the simulator. Nothing queued by a block that raised is delivered.
        """
        outer = False
        try:
            with self.lock:
                depth: int = getattr(self._local, "depth", 0)
                outer = depth == 0
                if outer:
                    self._local.outbox = []
                self._local.depth = depth + 1
                try:
                    yield
                finally:
                    self._local.depth = depth
            pending: list[_PendingWebhook] = self._local.outbox if outer else []
        finally:
            if outer:
                self._local.outbox = None
        for item in pending:
            self.deliver_webhook(item.event, item.url, item.body, item.headers)

    # ----- request log ------------------------------------------------------------------------

    def _record(self, request: Request, response: Response, target: str, fault: Fault | None) -> None:
        auth = request.headers.get("Authorization", "")
        params = {key: request.args.get(key, "") for key in request.args}
        if request.mimetype == "application/x-www-form-urlencoded":
            params.update({key: request.form.get(key, "") for key in request.form})
        entry = {
            "kind": "request",
            "time": self.clock.now(),
            "method": request.method,
            "path": request.path,
            "target": target,
            "params": redact_params(params),
            "auth_scheme": auth.partition(" ")[0] or None,
            "status": response.status_code,
            "fault": fault.kind if fault else None,
        }
        self.log_event(entry)

    def log_event(self, entry: dict[str, Any]) -> None:
        """Append ``entry`` (already free of secret values) to the request log."""
        with self.lock:
            self._log_seq += 1
            self._log.append({"seq": self._log_seq, **entry})

    def requests(self) -> list[dict[str, Any]]:
        """A copy of the request log, oldest first."""
        with self.lock:
            return [dict(entry) for entry in self._log]

    def clear_requests(self) -> None:
        """Empty the request log."""
        with self.lock:
            self._log.clear()

    # ----- faults -----------------------------------------------------------------------------

    def add_fault(
        self,
        target: str,
        kind: str,
        count: int = 1,
        *,
        delay_seconds: float | None = None,
        path_prefix: str | None = None,
    ) -> Fault:
        """Make the next ``count`` calls to routes of ``target`` answer with ``kind``."""
        kind = str(kind)
        if kind not in SPECIAL_FAULT_KINDS and not (kind.isdigit() and 400 <= int(kind) <= 599):
            raise ControlError(400, f"unknown fault kind {kind!r}")
        if count < 1:
            raise ControlError(400, "count must be at least 1")
        with self.lock:
            self._fault_seq += 1
            fault = Fault(
                fault_id=self._fault_seq,
                target=target,
                kind=kind,
                remaining=count,
                delay_seconds=self.timeout_delay_seconds if delay_seconds is None else delay_seconds,
                path_prefix=path_prefix,
            )
            self._faults.append(fault)
            return fault

    def faults(self) -> list[dict[str, Any]]:
        """Faults still armed."""
        with self.lock:
            return [f.public() for f in self._faults]

    def clear_faults(self) -> None:
        """Disarm every fault and let go of requests held by ``timeout`` faults."""
        with self.lock:
            self._faults.clear()
        self.release_held_requests()

    def release_held_requests(self) -> None:
        """Answer every request currently held by a ``timeout`` fault now (used on stop)."""
        with self.lock:
            release, self._release = self._release, threading.Event()
        release.set()

    def _take_fault(self, target: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self._faults:
                if fault.matches(target, path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _fault_response(self, fault: Fault, request: Request, target: str) -> Response:
        if fault.kind == "timeout":
            with self.lock:
                release = self._release
            release.wait(fault.delay_seconds)
            return self.error_response(504, "Gateway Timeout", request)
        if fault.kind == "429":
            return self.rate_limited_response(request, target)
        if fault.kind == "invalid_grant":
            return self.oauth_error_response("invalid_grant", "Invalid Token!")
        if fault.kind == "invalid_client":
            return self.oauth_error_response("invalid_client", "Invalid client_id or client_secret", 401)
        status = int(fault.kind)
        return self.error_response(status, _REASONS.get(status, "Injected fault"), request)

    # ----- OAuth apps ------------------------------------------------------------------------

    def register_app(
        self,
        client_id: str,
        client_secret: str,
        redirect_uris: Sequence[str],
        *,
        name: str = "OAuth app",
        kind: str = "oauth",
        scopes: Sequence[str] = (),
        meta: Mapping[str, Any] | None = None,
    ) -> OAuthApp:
        """Register (or replace) an OAuth app; redirect URIs are matched exactly."""
        if not client_id or not client_secret:
            raise ControlError(400, "client_id and client_secret are required")
        app = OAuthApp(
            client_id=client_id,
            client_secret=client_secret,
            redirect_uris=list(redirect_uris),
            name=name,
            kind=kind,
            scopes=list(scopes),
            meta=dict(meta or {}),
        )
        with self.lock:
            self.apps[client_id] = app
        return app

    def set_redirect_uris(self, client_id: str, redirect_uris: Sequence[str]) -> OAuthApp:
        """Replace the redirect URIs of a registered app (the dev stack learns its port late)."""
        with self.lock:
            app = self.apps.get(client_id)
            if app is None:
                raise ControlError(404, f"no app with client_id {client_id!r}")
            app.redirect_uris = list(redirect_uris)
            return app

    def authenticate_client(self, client_id: str, client_secret: str) -> OAuthApp | None:
        """The registered app when ``client_id``/``client_secret`` match, else None."""
        app = self.apps.get(client_id)
        if app is None or not app.check_secret(client_secret):
            return None
        return app

    # ----- webhooks ---------------------------------------------------------------------------

    def configure_webhooks(self, url: str | None, secret_token: str | None = None) -> WebhookConfig:
        """Set where webhooks go (None stops them) and, optionally, the signing secret."""
        with self.lock:
            self.webhooks.url = url
            if secret_token is not None:
                self.webhooks.secret_token = secret_token
            return self.webhooks

    def queue_webhook(self, event: str, body: bytes, headers: Mapping[str, str]) -> None:
        """Deliver ``body`` to the configured URL once the current transaction ends.

        Outside a transaction the delivery happens at once. Does nothing when no URL is set.
        """
        url = self.webhooks.url
        if url is None:
            return
        item = _PendingWebhook(event, url, body, dict(headers))
        outbox: list[_PendingWebhook] | None = getattr(self._local, "outbox", None)
        if outbox is None:
            self.deliver_webhook(item.event, item.url, item.body, item.headers)
        else:
            outbox.append(item)

    def deliver_webhook(
        self, event: str, url: str, body: bytes, headers: Mapping[str, str]
    ) -> dict[str, Any]:
        """POST ``body`` to ``url`` synchronously and record the outcome in the request log.

        Returns ``{"event", "url", "status", "error", "response_json"}``; never raises.
        """
        result: dict[str, Any] = {"event": event, "url": url, "status": None, "error": None}
        response_json: Any = None
        try:
            reply = httpx.post(url, content=body, headers=dict(headers), timeout=self.webhook_timeout_seconds)
            result["status"] = reply.status_code
            try:
                response_json = reply.json()
            except ValueError:
                response_json = None
        except httpx.HTTPError as exc:
            result["error"] = type(exc).__name__
        self.log_event(
            {
                "kind": "webhook",
                "time": self.clock.now(),
                "method": "POST",
                "path": urlsplit(url).path,
                "target": "webhook",
                "event": event,
                "url": url,
                "status": result["status"],
                "error": result["error"],
            }
        )
        return {**result, "response_json": response_json}

    # ----- state lifecycle ----------------------------------------------------------------

    def reset(self) -> None:
        """Back to the seeded state: users re-seeded, codes, tokens, faults and log cleared.

        Registered apps, the webhook configuration and the clock are kept (they are
        configuration and time, not directory state).
        """
        with self.transaction():
            self.rng = random.Random(self.seed)
            self.codes.clear()
            self.tokens.clear()
            self._faults.clear()
            self._log.clear()
            self.seed_state(dict(self.seed_params))
        self.release_held_requests()

    def reseed(self, seed: int | None = None, **params: Any) -> None:
        """Reseed: ``seed``, ``primary_users``, ``secondary_users`` rebuild the demo directory;
        other params are the provider's and are remembered for later resets."""
        demo_keys = {"primary_users", "secondary_users"}
        demo_params = {k: int(params.pop(k)) for k in list(params) if k in demo_keys}
        self.validate_seed_params({**self.seed_params, **params})  # refuse before changing anything
        with self.transaction():
            if seed is not None or demo_params:
                self.seed = self.seed if seed is None else int(seed)
                self.demo = build_demo_directory(seed=self.seed, **demo_params)
            self.seed_params = self.validate_seed_params({**self.seed_params, **params})
            self.reset()

    def advance_clock(self, seconds: float) -> float:
        """Move the simulator's clock forward; returns the new time."""
        with self.lock:
            return self.clock.advance(seconds)

    # ----- user control (wrappers that take the lock around the provider hooks) ----------

    def list_users(self) -> list[dict[str, Any]]:
        """Every user in the provider's shape."""
        with self.transaction():
            return self.control_list_users()

    def add_user(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Add a user (see ``control_add_user``)."""
        with self.transaction():
            return self.control_add_user(body)

    def remove_user(self, email: str) -> None:
        """Remove a user (see ``control_remove_user``)."""
        with self.transaction():
            self.control_remove_user(email)

    def update_user(self, email: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Change a user (see ``control_update_user``)."""
        with self.transaction():
            return self.control_update_user(email, body)

    def base_dev_info(self, base_url: str) -> dict[str, Any]:
        """The keys every simulator's dev_info has."""
        return {
            "base_url": base_url.rstrip("/"),
            "oauth_client_id": self.default_app.client_id,
            "oauth_client_secret": self.default_app.client_secret,
            "oauth_redirect_uris": list(self.default_app.redirect_uris),
            "control_url": f"{base_url.rstrip('/')}/_sim",
            "seed": self.seed,
        }

    # ----- the control API ----------------------------------------------------------------

    def _add_control_routes(self) -> None:
        control: list[tuple[str, Handler, list[str], bool]] = [
            ("/_sim/info", self._c_info, ["GET"], True),
            ("/_sim/reset", self._c_reset, ["POST"], False),
            ("/_sim/seed", self._c_seed, ["POST"], False),
            ("/_sim/users", self._c_users_list, ["GET"], False),
            ("/_sim/users", self._c_users_add, ["POST"], False),
            ("/_sim/users/<path:email>", self._c_user_remove, ["DELETE"], False),
            ("/_sim/users/<path:email>", self._c_user_update, ["PATCH"], False),
            ("/_sim/faults", self._c_faults_list, ["GET"], True),
            ("/_sim/faults", self._c_faults_add, ["POST"], True),
            ("/_sim/faults", self._c_faults_clear, ["DELETE"], False),
            ("/_sim/requests", self._c_requests, ["GET"], True),
            ("/_sim/requests", self._c_requests_clear, ["DELETE"], True),
            ("/_sim/clock", self._c_clock_get, ["GET"], True),
            ("/_sim/clock", self._c_clock_advance, ["POST"], True),
            ("/_sim/apps", self._c_apps_list, ["GET"], True),
            ("/_sim/apps", self._c_apps_register, ["POST"], True),
            ("/_sim/apps/<client_id>", self._c_apps_update, ["PATCH"], True),
            ("/_sim/webhooks/config", self._c_webhooks_get, ["GET"], True),
            ("/_sim/webhooks/config", self._c_webhooks_set, ["POST"], True),
            ("/_sim/webhooks/send", self._c_webhooks_send, ["POST"], False),
            ("/_sim/options", self._c_options, ["PATCH"], True),
        ]
        for rule, handler, methods, locked in control:
            self.add_route(rule, handler, methods=methods, target="control", locked=locked)

    def _c_info(self, request: Request) -> Response:
        return json_response(self.dev_info(request.host_url.rstrip("/")))

    def _c_reset(self, request: Request) -> Response:
        self.reset()
        return json_response({"status": "reset"})

    def _c_seed(self, request: Request) -> Response:
        body = read_json(request)
        seed = body.pop("seed", None)
        try:
            self.reseed(None if seed is None else int(seed), **body)
        except (TypeError, ValueError) as exc:
            raise ControlError(400, f"bad seed parameters: {exc}") from exc
        return json_response({"status": "seeded", "seed": self.seed, "params": self.seed_params})

    def _c_users_list(self, request: Request) -> Response:
        return json_response({"users": self.list_users()})

    def _c_users_add(self, request: Request) -> Response:
        return json_response({"user": self.add_user(read_json(request, required=True))}, 201)

    def _c_user_remove(self, request: Request, email: str) -> Response:
        self.remove_user(email)
        return json_response(None, 204)

    def _c_user_update(self, request: Request, email: str) -> Response:
        return json_response({"user": self.update_user(email, read_json(request, required=True))})

    def _c_faults_list(self, request: Request) -> Response:
        return json_response({"faults": self.faults()})

    def _c_faults_add(self, request: Request) -> Response:
        body = read_json(request, required=True)
        try:
            delay = body.get("delay_seconds")
            fault = self.add_fault(
                str(body.get("target", "*")),
                str(body.get("kind", "")),
                int(body.get("count", 1)),
                delay_seconds=None if delay is None else float(delay),
                path_prefix=body.get("path_prefix"),
            )
        except (TypeError, ValueError) as exc:
            raise ControlError(400, f"bad fault: {exc}") from exc
        return json_response({"fault": fault.public()}, 201)

    def _c_faults_clear(self, request: Request) -> Response:
        self.clear_faults()
        return json_response(None, 204)

    def _c_requests(self, request: Request) -> Response:
        return json_response({"requests": self.requests()})

    def _c_requests_clear(self, request: Request) -> Response:
        self.clear_requests()
        return json_response(None, 204)

    def _c_clock_get(self, request: Request) -> Response:
        return json_response({"now": self.clock.now()})

    def _c_clock_advance(self, request: Request) -> Response:
        body = read_json(request, required=True)
        try:
            now = self.advance_clock(float(body.get("advance_seconds", 0)))
        except (TypeError, ValueError) as exc:
            raise ControlError(400, f"bad advance_seconds: {exc}") from exc
        return json_response({"now": now})

    def _c_apps_list(self, request: Request) -> Response:
        return json_response({"apps": [app.public() for app in self.apps.values()]})

    def _c_apps_register(self, request: Request) -> Response:
        body = read_json(request, required=True)
        uris = body.get("redirect_uris", [])
        if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
            raise ControlError(400, "redirect_uris must be a list of strings")
        app = self.register_app(
            str(body.get("client_id", "")),
            str(body.get("client_secret", "")),
            uris,
            name=str(body.get("name", "OAuth app")),
            kind=str(body.get("kind", "oauth")),
            scopes=[str(s) for s in body.get("scopes", [])],
            meta=body.get("meta") or {},
        )
        return json_response({"app": app.public()}, 201)

    def _c_apps_update(self, request: Request, client_id: str) -> Response:
        uris = read_json(request, required=True).get("redirect_uris")
        if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
            raise ControlError(400, "redirect_uris must be a list of strings")
        return json_response({"app": self.set_redirect_uris(client_id, uris).public()})

    def _c_webhooks_get(self, request: Request) -> Response:
        return json_response({"url": self.webhooks.url, "secret_token_set": bool(self.webhooks.secret_token)})

    def _c_webhooks_set(self, request: Request) -> Response:
        body = read_json(request, required=True)
        url = body.get("url")
        secret = body.get("secret_token")
        if url is not None and not isinstance(url, str):
            raise ControlError(400, "url must be a string or null")
        if secret is not None and (not isinstance(secret, str) or not secret):
            raise ControlError(400, "secret_token must be a non-empty string")
        self.configure_webhooks(url, secret)
        return json_response({"url": self.webhooks.url, "secret_token_set": True})

    def _c_webhooks_send(self, request: Request) -> Response:
        body = read_json(request, required=True)
        if not isinstance(body.get("event"), str):
            raise ControlError(400, "event is required")
        if self.webhooks.url is None:
            raise ControlError(409, "no webhook URL configured (POST /_sim/webhooks/config first)")
        return json_response(self.send_webhook_event(body))

    def _c_options(self, request: Request) -> Response:
        return json_response({"options": self.apply_options(read_json(request, required=True))})


_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
