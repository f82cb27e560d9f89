"""Google Workspace simulator: Google OAuth 2.0 / OpenID Connect, the Admin SDK Directory API and
the Meet REST API.

One base URL serves what Google splits over several hosts, with the real paths:

- ``accounts.google.com``: ``GET /o/oauth2/v2/auth`` (sign-in page; PKCE; ``access_type``,
  ``prompt``, ``hd``, ``login_hint``, ``include_granted_scopes``), discovery and JWKS;
- ``oauth2.googleapis.com``: ``POST /token`` (authorization_code, refresh_token), ``POST /revoke``,
  ``GET /tokeninfo``;
- ``openidconnect.googleapis.com`` / ``www.googleapis.com``: ``GET /v1/userinfo``,
  ``GET /oauth2/v3/userinfo``, ``GET /oauth2/v3/tokeninfo``;
- ``admin.googleapis.com``: ``GET /admin/directory/v1/users`` and ``/users/{userKey}``;
- ``meet.googleapis.com``: ``POST /v2/spaces``, ``GET /v2/spaces/{id}``.

The customer is the demo directory's ``example.com``; ``demo.admin`` is its super admin. Google
does not rotate refresh tokens: a refresh answers without a ``refresh_token`` and the old one
keeps working. See docs/simulators-calendar-and-others.md for every switch and decision.
"""

from __future__ import annotations

import random
import secrets
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from devstack.simulators.common import (
    ControlError,
    IssuedToken,
    OAuthApp,
    SignInOption,
    SimResponse,
    Simulator,
    bearer_token,
    html_error_page,
    json_response,
    read_json,
    redirect_with_params,
    render_signin_page,
    request_params,
)
from devstack.simulators.demo import PRIMARY_DOMAIN, DemoDirectory
from devstack.simulators.google_directory import (
    DirectoryQueryError,
    WorkspaceUser,
    order_key,
    parse_query,
    select_users,
)
from devstack.simulators.provider_kit import (
    PageTokens,
    RateLimiter,
    apply_switches,
    new_grant_id,
    shared_signing_key,
    split_scopes,
)
from devstack.simulators.token_endpoint import (
    ClientAuthRules,
    CodeExchangeRules,
    Refusal,
    authenticate_token_client,
    redeem_authorization_code,
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
_SHORT_SCOPES = {"email": USERINFO_EMAIL, "profile": USERINFO_PROFILE}
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
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


def _iso_millis(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class _Grant:
    """What one user granted one client (for ``include_granted_scopes`` and ``prompt=none``)."""

    scopes: set[str] = field(default_factory=set)
    offline: bool = False


class GoogleSimulator(Simulator):
    """Google OAuth + Directory API + Meet for one Workspace customer (``example.com``).

    Options (constructor keywords; the run-time ones also via ``PATCH /_sim/options``):

    - ``domain`` (constructor only): the demo directory domain of the customer.
    - ``rate_limit_per_second`` (40): Directory and Meet calls per second per user; 0 = off.
    - ``code_ttl_seconds`` (600), ``access_token_ttl_seconds`` (3599).
    - ``page_token_ttl_seconds`` (3 days, providers.md section 4).
    - ``max_refresh_tokens`` (100): live refresh tokens per user and client; issuing one more
      revokes the oldest, as Google documents.
    """

    name = "google"

    def __init__(
        self,
        demo: DemoDirectory | None = None,
        *,
        seed: int = 7,
        clock: Callable[[], float] | None = None,
        domain: str = PRIMARY_DOMAIN,
        rate_limit_per_second: int = 40,
        code_ttl_seconds: float = 600,
        access_token_ttl_seconds: float = 3599,
        page_token_ttl_seconds: float = 3 * 86400,
        max_refresh_tokens: int = 100,
        **base_options: Any,
    ) -> None:
        self.domain = domain.lower()
        self.rate_limit_per_second = rate_limit_per_second
        self.code_ttl_seconds = code_ttl_seconds
        self.access_token_ttl_seconds = access_token_ttl_seconds
        self.page_token_ttl_seconds = page_token_ttl_seconds
        self.max_refresh_tokens = max_refresh_tokens
        self.signing_key = shared_signing_key()
        self.customer_id = ""
        self.users: dict[str, WorkspaceUser] = {}
        self.grants: dict[tuple[str, str], _Grant] = {}
        self.spaces: dict[str, dict[str, Any]] = {}
        super().__init__(demo, seed=seed, clock=clock, **base_options)
        self._add_routes()

    # ----- seeding ---------------------------------------------------------------------------

    def seed_state(self, params: Mapping[str, Any]) -> None:
        """Build the customer from the demo directory (ids come from ``self.rng``)."""
        alphabet = string.ascii_lowercase + string.digits
        named = random.Random(f"google:{self.seed}:customer")
        self.customer_id = "C0" + "".join(named.choice(alphabet) for _ in range(7))
        self.users = {}
        created = datetime(2020, 6, 1, 8, 0, tzinfo=UTC).timestamp()
        for index, person in enumerate(self.demo.in_domain(self.domain)):
            user = WorkspaceUser(
                id=self._new_user_id(),
                primary_email=person.email,
                given_name=person.first_name,
                family_name=person.last_name,
                customer_id=self.customer_id,
                creation_time=_iso_millis(created + index * 3600),
                is_admin=person.is_admin,
            )
            self.users[user.id] = user
        self.grants = {}
        self.spaces = {}
        self.page_tokens = PageTokens(self.clock, ttl_seconds=self.page_token_ttl_seconds)
        self.limiter = RateLimiter(self.clock, self.rate_limit_per_second)

    def _new_user_id(self) -> str:
        # Google user ids are 21-digit decimal strings.
        return "1" + "".join(str(self.rng.randrange(10)) for _ in range(20))

    def find_user(self, key: str) -> WorkspaceUser | None:
        """A user by id, primary email or alias (emails case-insensitive)."""
        if key in self.users:
            return self.users[key]
        lowered = key.lower()
        return next(
            (
                u
                for u in self.users.values()
                if u.primary_email.lower() == lowered or lowered in (a.lower() for a in u.aliases)
            ),
            None,
        )

    @property
    def admin(self) -> WorkspaceUser | None:
        """The first super admin."""
        return next((u for u in self.users.values() if u.is_admin), None)

    # ----- control-API hooks -----------------------------------------------------------------

    def control_list_users(self) -> list[dict[str, Any]]:
        """Every user in the admin view, plus a plain ``email`` key."""
        return [{**u.to_resource(admin_view=True), "email": u.primary_email} for u in self.users.values()]

    def control_add_user(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Add a user: ``{"email", "first_name"?, "last_name"?, "is_admin"?, "suspended"?}``."""
        email = str(body.get("email", "")).strip()
        if "@" not in email or email.rsplit("@", 1)[1].lower() != self.domain:
            raise ControlError(400, f"email must be an address of {self.domain}")
        if self.find_user(email) is not None:
            raise ControlError(409, f"{email} already exists")
        local = email.split("@", 1)[0]
        user = WorkspaceUser(
            id=self._new_user_id(),
            primary_email=email,
            given_name=str(body.get("first_name") or local.split(".")[0].title()),
            family_name=str(body.get("last_name") or (local.split(".")[1].title() if "." in local else "")),
            customer_id=self.customer_id,
            creation_time=_iso_millis(self.clock.now()),
            is_admin=bool(body.get("is_admin", False)),
            suspended=bool(body.get("suspended", False)),
        )
        self.users[user.id] = user
        return {**user.to_resource(admin_view=True), "email": user.primary_email}

    def control_remove_user(self, email: str) -> None:
        """Delete a user; every token issued to it stops working."""
        user = self.find_user(email)
        if user is None:
            raise ControlError(404, f"no user {email}")
        del self.users[user.id]
        self.tokens.revoke_where(lambda t: t.subject == user.id)

    def control_update_user(self, email: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``{"email": new}`` renames (the old address stays as an alias, as in Google),
        ``first_name``, ``last_name``, ``is_admin``, ``suspended`` or ``status``
        (``active`` / ``suspended``)."""
        user = self.find_user(email)
        if user is None:
            raise ControlError(404, f"no user {email}")
        if "email" in body:
            new_email = str(body["email"]).strip()
            if "@" not in new_email or new_email.rsplit("@", 1)[1].lower() != self.domain:
                raise ControlError(400, f"email must be an address of {self.domain}")
            clash = self.find_user(new_email)
            if clash is not None and clash is not user:
                raise ControlError(409, f"{new_email} already exists")
            if new_email.lower() != user.primary_email.lower():
                user.aliases = [a for a in user.aliases if a.lower() != new_email.lower()]
                user.aliases.append(user.primary_email)
                user.primary_email = new_email
        if "first_name" in body:
            user.given_name = str(body["first_name"])
        if "last_name" in body:
            user.family_name = str(body["last_name"])
        if "is_admin" in body:
            user.is_admin = bool(body["is_admin"])
        if "suspended" in body:
            user.suspended = bool(body["suspended"])
        if "status" in body:
            if body["status"] not in ("active", "suspended"):
                raise ControlError(400, "status must be active or suspended")
            user.suspended = body["status"] == "suspended"
        return {**user.to_resource(admin_view=True), "email": user.primary_email}

    def apply_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Change switches at run time (see the class docstring)."""
        switches: dict[str, type] = {
            "rate_limit_per_second": int,
            "code_ttl_seconds": float,
            "access_token_ttl_seconds": float,
            "page_token_ttl_seconds": float,
            "max_refresh_tokens": int,
        }
        return apply_switches(self, options, switches)

    def dev_info(self, base_url: str) -> dict[str, Any]:
        """Endpoints, the default app's credentials and the customer (id, domain, admin)."""
        base = base_url.rstrip("/")
        admin = self.admin
        return {
            **self.base_dev_info(base),
            "customer_id": self.customer_id,
            "domain": self.domain,
            "admin_email": admin.primary_email if admin else None,
            "authorize_url": f"{base}/o/oauth2/v2/auth",
            "token_url": f"{base}/token",
            "revoke_url": f"{base}/revoke",
            "userinfo_url": f"{base}/v1/userinfo",
            "directory_url": f"{base}/admin/directory/v1",
            "meet_url": f"{base}/v2",
            "issuer": base,
            "jwks_uri": f"{base}/oauth2/v3/certs",
            "openid_configuration_url": f"{base}/.well-known/openid-configuration",
        }

    # ----- routes ----------------------------------------------------------------------------

    def _add_routes(self) -> None:
        add = self.add_route
        add("/o/oauth2/v2/auth", self._authorize, methods=["GET"], target="authorize")
        add("/o/oauth2/v2/auth", self._authorize_submit, methods=["POST"], target="authorize")
        add("/token", self._token, methods=["POST"], target="token")
        add("/revoke", self._revoke, methods=["POST"], target="token")
        add("/.well-known/openid-configuration", self._discovery, methods=["GET"], target="discovery")
        add("/oauth2/v3/certs", self._jwks, methods=["GET"], target="discovery")
        add("/v1/userinfo", self._userinfo, methods=["GET", "POST"], target="api")
        add("/oauth2/v3/userinfo", self._userinfo, methods=["GET", "POST"], target="api")
        add("/tokeninfo", self._tokeninfo, methods=["GET", "POST"], target="api")
        add("/oauth2/v3/tokeninfo", self._tokeninfo, methods=["GET", "POST"], target="api")
        add("/admin/directory/v1/users", self._users_list, methods=["GET"], target="api")
        add("/admin/directory/v1/users/<user_key>", self._users_get, methods=["GET"], target="api")
        add("/v2/spaces", self._create_space, methods=["POST"], target="api")
        add("/v2/spaces/<space_id>", self._get_space, methods=["GET"], target="api")

    # ----- error bodies ----------------------------------------------------------------------

    @staticmethod
    def google_error(
        status: int,
        message: str,
        reason: str | None,
        status_text: str,
        *,
        domain: str = "global",
        headers: Mapping[str, str] | None = None,
        **extra: str,
    ) -> Response:
        """Google's JSON error: ``{"error": {"code", "message", "errors": [...], "status"}}``."""
        error: dict[str, Any] = {"code": status, "message": message}
        if reason is not None:
            error["errors"] = [{"message": message, "domain": domain, "reason": reason, **extra}]
        error["status"] = status_text
        return json_response({"error": error}, status, headers=headers)

    def error_response(self, status: int, message: str, request: Request) -> Response:
        """Token-endpoint errors in OAuth shape, API errors in Google's JSON shape."""
        if request.path in ("/token", "/revoke"):
            return self.oauth_error_response(
                "internal_failure" if status >= 500 else "invalid_request", message, status
            )
        texts = {
            400: "INVALID_ARGUMENT",
            401: "UNAUTHENTICATED",
            403: "PERMISSION_DENIED",
            404: "NOT_FOUND",
            405: "INVALID_ARGUMENT",
            429: "RESOURCE_EXHAUSTED",
            500: "INTERNAL",
            503: "UNAVAILABLE",
            504: "DEADLINE_EXCEEDED",
        }
        reasons = {500: "backendError", 503: "backendError", 404: "notFound"}
        return self.google_error(
            status, message, reasons.get(status, "badRequest"), texts.get(status, "UNKNOWN")
        )

    def oauth_error_response(self, error: str, description: str, status: int = 400) -> Response:
        """Token-endpoint errors; an injected ``invalid_grant`` reads like a revoked token."""
        if error == "invalid_grant" and description == "Invalid Token!":
            description = "Token has been expired or revoked."
        if error == "invalid_client" and description == "Invalid client_id or client_secret":
            description = "Unauthorized"
        return json_response({"error": error, "error_description": description}, status, headers=_NO_STORE)

    def rate_limited_response(self, request: Request, target: str) -> Response:
        """Google's 429 (no ``Retry-After``: Google asks for exponential backoff)."""
        if target == "token":
            return self.oauth_error_response("rate_limit_exceeded", "Rate limit exceeded", 429)
        return self.google_error(
            429,
            "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' of service "
            "'admin.googleapis.com'.",
            "rateLimitExceeded",
            "RESOURCE_EXHAUSTED",
            domain="usageLimits",
        )

    # ----- OAuth: authorize ------------------------------------------------------------------

    def _normalize_scopes(self, raw: str) -> tuple[list[str], list[str]]:
        """(granted names, invalid names) for a space-separated ``scope``."""
        valid: list[str] = []
        invalid: list[str] = []
        for item in split_scopes(raw):
            name = _SHORT_SCOPES.get(item, item)
            (valid if name in KNOWN_SCOPES else invalid).append(item)
        return list(dict.fromkeys(_SHORT_SCOPES.get(s, s) for s in valid)), invalid

    def _page_error(self, code: int, error: str, message: str) -> Response:
        return html_error_page(f"Error {code}: {error}", message, code)

    def _validate_client(self, params: Mapping[str, str]) -> tuple[OAuthApp, str] | Response:
        app = self.apps.get(params.get("client_id", ""))
        if app is None or app.kind != "oauth":
            return self._page_error(401, "invalid_client", "The OAuth client was not found.")
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in app.redirect_uris:
            return self._page_error(
                400,
                "redirect_uri_mismatch",
                "You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. "
                f"Request details: redirect_uri={redirect_uri}",
            )
        return app, redirect_uri

    def _validate_authorize(self, params: Mapping[str, str]) -> tuple[OAuthApp, str, list[str]] | Response:
        checked = self._validate_client(params)
        if isinstance(checked, Response):
            return checked
        app, redirect_uri = checked
        if params.get("response_type") != "code":
            return self._page_error(
                400, "unsupported_response_type", f"Invalid response_type: {params.get('response_type', '')}"
            )
        if not params.get("scope"):
            return self._page_error(400, "invalid_request", "Missing required parameter: scope")
        scopes, invalid = self._normalize_scopes(params["scope"])
        if invalid:
            return self._page_error(
                400,
                "invalid_scope",
                f"Some requested scopes were invalid. {{invalid=[{', '.join(invalid)}]}}",
            )
        if params.get("access_type", "online") not in ("online", "offline"):
            return self._page_error(400, "invalid_request", "Invalid access_type: " + params["access_type"])
        prompts = params.get("prompt", "").split()
        if any(p not in ("none", "consent", "select_account") for p in prompts) or (
            "none" in prompts and len(prompts) > 1
        ):
            return self._page_error(400, "invalid_request", "Invalid parameter value for prompt")
        method = params.get("code_challenge_method") or None
        if params.get("code_challenge"):
            if method not in (None, "S256", "plain"):
                return self._page_error(400, "invalid_request", "Invalid code_challenge_method value.")
        elif method:
            return self._page_error(400, "invalid_request", "Missing code_challenge.")
        return app, redirect_uri, scopes

    def _authorize(self, request: Request) -> Response:
        params = {key: request.args.get(key, "") for key in request.args}
        checked = self._validate_authorize(params)
        if isinstance(checked, Response):
            return checked
        app, redirect_uri, scopes = checked
        state = params.get("state") or None
        hinted = self.find_user(params["login_hint"]) if params.get("login_hint") else None
        if "none" in params.get("prompt", "").split():
            # No browser session exists in the simulator: silent sign-in works only for a
            # login_hint user who already granted every requested scope to this client.
            if hinted is None:
                return redirect_with_params(redirect_uri, {"error": "login_required", "state": state})
            grant = self.grants.get((app.client_id, hinted.id))
            if grant is None or not set(scopes) <= grant.scopes:
                return redirect_with_params(redirect_uri, {"error": "consent_required", "state": state})
            return self._issue_code(app, redirect_uri, hinted, scopes, params)
        hd = params.get("hd", "").lower()
        candidates = [u for u in self.users.values() if not hd or hd == "*" or u.domain == hd]
        chosen = hinted if hinted in candidates else self.admin
        options = [
            SignInOption(
                value=u.id,
                label=f"{u.full_name} <{u.primary_email}>" + (" - Super Admin" if u.is_admin else ""),
                group=u.domain,
                selected=chosen is not None and u.id == chosen.id,
            )
            for u in candidates
        ]
        message = None if candidates else f"No account of {hd} exists on this simulator."
        return render_signin_page(
            title="Sign in with Google",
            app_name=app.name,
            action_url=request.path,
            hidden=params,
            options=options,
            scopes=scopes,
            message=message,
        )

    def _authorize_submit(self, request: Request) -> Response:
        params = {key: request.form.get(key, "") for key in request.form}
        checked = self._validate_authorize(params)
        if isinstance(checked, Response):
            return checked
        app, redirect_uri, scopes = checked
        state = params.get("state") or None
        if params.get("decision") != "approve":
            return redirect_with_params(redirect_uri, {"error": "access_denied", "state": state})
        user = self.users.get(params.get("user", ""))
        if user is None:
            return self._page_error(400, "invalid_request", "Choose an account to continue.")
        if user.suspended:
            return html_error_page("Account disabled", f"{user.primary_email} has been suspended.", 403)
        return self._issue_code(app, redirect_uri, user, scopes, params)

    def _issue_code(
        self,
        app: OAuthApp,
        redirect_uri: str,
        user: WorkspaceUser,
        scopes: Sequence[str],
        params: Mapping[str, str],
    ) -> Response:
        grant = self.grants.setdefault((app.client_id, user.id), _Grant())
        granted = set(scopes)
        if params.get("include_granted_scopes") == "true":
            granted |= grant.scopes
        grant.scopes |= set(scopes)
        offline = params.get("access_type") == "offline"
        # Google issues a refresh token on the first offline consent, or again with prompt=consent.
        wants_refresh = offline and (not grant.offline or "consent" in params.get("prompt", "").split())
        grant.offline = grant.offline or offline
        record = self.codes.issue(
            client_id=app.client_id,
            redirect_uri=redirect_uri,
            subject=user.id,
            ttl_seconds=self.code_ttl_seconds,
            code_challenge=params.get("code_challenge") or None,
            code_challenge_method=(params.get("code_challenge_method") or "plain")
            if params.get("code_challenge")
            else None,
            scope=" ".join(sorted(granted)),
            extra={"nonce": params.get("nonce") or None, "refresh": wants_refresh},
            nbytes=40,
        )
        return redirect_with_params(
            redirect_uri,
            {
                "state": params.get("state") or None,
                "code": record.code,
                "scope": " ".join(sorted(granted)),
                "authuser": "0",
                "hd": user.domain,
                "prompt": "consent",
            },
        )

    # ----- OAuth: token, revoke, tokeninfo ---------------------------------------------------

    def _token(self, request: Request) -> Response:
        params = request_params(request)
        app = authenticate_token_client(request, params, self.apps, CLIENT_AUTH)
        grant_type = params.get("grant_type", "")
        issuer = request.host_url.rstrip("/")
        if grant_type == "authorization_code":
            return self._exchange_code(app, params, issuer)
        if grant_type == "refresh_token":
            return self._refresh(app, params, issuer)
        return self.oauth_error_response("unsupported_grant_type", f"Invalid grant_type: {grant_type}")

    def _exchange_code(self, app: OAuthApp, params: Mapping[str, str], issuer: str) -> Response:
        record = redeem_authorization_code(params, app.client_id, self.codes, self.tokens, CODE_EXCHANGE)
        user = self.users.get(record.subject)
        if user is None or user.suspended:
            return self.oauth_error_response("invalid_grant", "Bad Request")
        grant_id = new_grant_id()
        body = self._access_response(
            app, user, split_scopes(record.scope), grant_id, record.extra.get("nonce"), issuer
        )
        if record.extra.get("refresh"):
            refresh = self.tokens.mint(
                "refresh",
                client_id=app.client_id,
                subject=user.id,
                ttl_seconds=float("inf"),
                grant_id=grant_id,
                scope=record.scope,
                prefix="1//0",
                nbytes=72,
            )
            body["refresh_token"] = refresh.value
            self._enforce_refresh_token_limit(app.client_id, user.id)
        return json_response(body, headers=_NO_STORE)

    def _enforce_refresh_token_limit(self, client_id: str, subject: str) -> None:
        live = [
            t
            for t in self.tokens.live()
            if t.kind == "refresh" and (t.client_id, t.subject) == (client_id, subject)
        ]
        for stale in live[: max(0, len(live) - self.max_refresh_tokens)]:
            self.tokens.revoke_grant(stale.grant_id)

    def _refresh(self, app: OAuthApp, params: Mapping[str, str], issuer: str) -> Response:
        value = params.get("refresh_token", "")
        if not value:
            return self.oauth_error_response("invalid_request", "Missing required parameter: refresh_token")
        record = self.tokens.valid(value, "refresh")
        if record is None:
            return self.oauth_error_response("invalid_grant", "Token has been expired or revoked.")
        if record.client_id != app.client_id:
            return self.oauth_error_response("unauthorized_client", "Unauthorized")
        user = self.users.get(record.subject)
        if user is None or user.suspended:
            return self.oauth_error_response("invalid_grant", "Token has been expired or revoked.")
        scopes = split_scopes(record.scope)
        if params.get("scope"):
            narrowed, invalid = self._normalize_scopes(params["scope"])
            if invalid or not set(narrowed) <= set(scopes):
                return self.oauth_error_response("invalid_scope", "Bad Request")
            scopes = narrowed
        # No refresh_token in the answer: Google keeps the one the client already has.
        return json_response(
            self._access_response(app, user, scopes, record.grant_id, None, issuer), headers=_NO_STORE
        )

    def _access_response(
        self,
        app: OAuthApp,
        user: WorkspaceUser,
        scopes: Sequence[str],
        grant_id: str,
        nonce: Any,
        issuer: str,
    ) -> dict[str, Any]:
        access = self.tokens.mint(
            "access",
            client_id=app.client_id,
            subject=user.id,
            ttl_seconds=self.access_token_ttl_seconds,
            grant_id=grant_id,
            scope=" ".join(scopes),
            prefix="ya29.",
            nbytes=96,
        )
        body: dict[str, Any] = {
            "access_token": access.value,
            "expires_in": int(self.access_token_ttl_seconds),
            "scope": " ".join(scopes),
            "token_type": "Bearer",
        }
        if "openid" in scopes:
            body["id_token"] = self._id_token(app, user, scopes, nonce, issuer)
        return body

    def _id_token(
        self, app: OAuthApp, user: WorkspaceUser, scopes: Sequence[str], nonce: Any, issuer: str
    ) -> str:
        now = int(self.clock.now())
        claims: dict[str, Any] = {
            "iss": issuer,
            "azp": app.client_id,
            "aud": app.client_id,
            "sub": user.id,
            "hd": user.domain,
            "iat": now,
            "exp": now + 3600,
        }
        if USERINFO_EMAIL in scopes:
            claims.update({"email": user.primary_email, "email_verified": True})
        if USERINFO_PROFILE in scopes:
            claims.update(
                {"name": user.full_name, "given_name": user.given_name, "family_name": user.family_name}
            )
        if nonce:
            claims["nonce"] = nonce
        return self.signing_key.sign(claims)

    def _revoke(self, request: Request) -> Response:
        value = request_params(request).get("token", "")
        record = self.tokens.find(value) if value else None
        if record is None or record.revoked:
            return self.oauth_error_response("invalid_token", "Token expired or revoked")
        # Revoking either token of a grant revokes the whole grant (Google's documented behaviour).
        self.tokens.revoke_grant(record.grant_id)
        return json_response({})

    def _tokeninfo(self, request: Request) -> Response:
        params = request_params(request)
        record = self.tokens.valid(params.get("access_token", ""), "access")
        if record is None:
            return self.oauth_error_response("invalid_token", "Invalid Value")
        user = self.users.get(record.subject)
        scopes = split_scopes(record.scope)
        body: dict[str, Any] = {
            "azp": record.client_id,
            "aud": record.client_id,
            "sub": record.subject,
            "scope": record.scope,
            "exp": str(int(record.expires_at)),
            "expires_in": str(max(0, int(record.expires_at - self.clock.now()))),
            "access_type": "offline"
            if any(t.grant_id == record.grant_id and t.kind == "refresh" for t in self.tokens.live())
            else "online",
        }
        if user is not None and USERINFO_EMAIL in scopes:
            body.update({"email": user.primary_email, "email_verified": "true"})
        return json_response(body)

    # ----- discovery -------------------------------------------------------------------------

    def _discovery(self, request: Request) -> Response:
        base = request.host_url.rstrip("/")
        return json_response(
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/o/oauth2/v2/auth",
                "token_endpoint": f"{base}/token",
                "userinfo_endpoint": f"{base}/v1/userinfo",
                "revocation_endpoint": f"{base}/revoke",
                "jwks_uri": f"{base}/oauth2/v3/certs",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                "claims_supported": [
                    "aud",
                    "email",
                    "email_verified",
                    "exp",
                    "family_name",
                    "given_name",
                    "hd",
                    "iat",
                    "iss",
                    "name",
                    "sub",
                    "nonce",
                ],
                "code_challenge_methods_supported": ["plain", "S256"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
            }
        )

    def _jwks(self, request: Request) -> Response:
        return json_response(self.signing_key.jwks())

    # ----- APIs ------------------------------------------------------------------------------

    def _authenticate(
        self, request: Request, *, rate_limited: bool = True
    ) -> tuple[IssuedToken, WorkspaceUser]:
        """The caller's token and user, or a ``SimResponse`` with Google's 401 / 429."""
        value = bearer_token(request)
        record = self.tokens.valid(value, "access") if value else None
        user = self.users.get(record.subject) if record else None
        if record is None or user is None:
            raise SimResponse(
                self.google_error(
                    401,
                    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
                    "cookie or other valid authentication credential.",
                    "authError",
                    "UNAUTHENTICATED",
                    headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
                    location="Authorization",
                    locationType="header",
                )
            )
        if rate_limited and self.limiter.hit(f"{record.client_id}:{record.subject}") is not None:
            raise SimResponse(self.rate_limited_response(request, "api"))
        return record, user

    def _require_scope(self, record: IssuedToken, accepted: Sequence[str]) -> None:
        if not set(split_scopes(record.scope)) & set(accepted):
            raise SimResponse(
                self.google_error(
                    403,
                    "Request had insufficient authentication scopes.",
                    "insufficientPermissions",
                    "PERMISSION_DENIED",
                    headers={
                        "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", '
                        'error="insufficient_scope"'
                    },
                )
            )

    def _forbidden(self) -> Response:
        return self.google_error(
            403, "Not Authorized to access this resource/api", "forbidden", "PERMISSION_DENIED"
        )

    def _userinfo(self, request: Request) -> Response:
        value = bearer_token(request) or request_params(request).get("access_token")
        record = self.tokens.valid(value, "access") if value else None
        user = self.users.get(record.subject) if record else None
        if record is None or user is None:
            if request.path.startswith("/oauth2/"):
                return json_response(
                    {"error": "invalid_request", "error_description": "Invalid Credentials"}, 401
                )
            return self.google_error(
                401,
                "Request is missing required authentication credential. Expected OAuth 2 access token, login "
                "cookie or other valid authentication credential.",
                None,
                "UNAUTHENTICATED",
            )
        scopes = split_scopes(record.scope)
        body: dict[str, Any] = {"sub": user.id}
        if USERINFO_PROFILE in scopes:
            body.update(
                {
                    "name": user.full_name,
                    "given_name": user.given_name,
                    "family_name": user.family_name,
                    "picture": f"https://lh3.googleusercontent.com/a/default-user=s96-c#{user.id}",
                }
            )
        if USERINFO_EMAIL in scopes:
            body.update({"email": user.primary_email, "email_verified": True})
        body["hd"] = user.domain
        return json_response(body)

    def _users_list(self, request: Request) -> Response:
        record, caller = self._authenticate(request)
        self._require_scope(record, (DIRECTORY_USER, DIRECTORY_USER_READONLY))
        args = request.args
        customer, domain = args.get("customer"), args.get("domain")
        if not customer and not domain:
            return self.google_error(400, "Bad Request", "badRequest", "INVALID_ARGUMENT")
        if customer and customer not in ("my_customer", self.customer_id):
            return self._forbidden()
        if domain and domain.lower() != self.domain:
            return self._forbidden()
        view = args.get("viewType", "admin_view")
        if view not in ("admin_view", "domain_public"):
            return self.google_error(
                400,
                f"Invalid value '{view}'. Values must be one of: admin_view, domain_public",
                "invalid",
                "INVALID_ARGUMENT",
            )
        admin_view = view == "admin_view"
        if admin_view and not caller.is_admin:
            return self._forbidden()
        max_raw = args.get("maxResults", "100")
        try:
            max_results = int(max_raw)
        except ValueError:
            return self.google_error(
                400, f"Invalid value '{max_raw}'. Values must be an integer.", "invalid", "INVALID_ARGUMENT"
            )
        if not 1 <= max_results <= 500:
            return self.google_error(
                400,
                f"Invalid value '{max_raw}'. Values must be within the range: [1, 500]",
                "invalid",
                "INVALID_ARGUMENT",
            )
        order_by, sort_order = args.get("orderBy"), args.get("sortOrder", "ASCENDING").upper()
        key = order_key(order_by)
        if key is None or sort_order not in ("ASCENDING", "DESCENDING"):
            return self.google_error(400, "Invalid Input: orderBy/sortOrder", "invalid", "INVALID_ARGUMENT")
        try:
            predicate = parse_query(args.get("query"))
        except DirectoryQueryError as exc:
            return self.google_error(400, str(exc), "invalid", "INVALID_ARGUMENT")
        descending = sort_order == "DESCENDING"
        users = [u for u in self.users.values() if not domain or u.domain == domain.lower()]
        matching = select_users(users, predicate, key)
        if descending:
            matching.reverse()
        query = urlencode(
            sorted((k, v) for k, v in args.items(multi=True) if k not in ("pageToken", "fields"))
        )
        page_token = args.get("pageToken")
        if page_token:
            cursor, problem = self.page_tokens.resolve(page_token, query)
            if problem is not None:
                return self.google_error(400, "Invalid page token", "invalid", "INVALID_ARGUMENT")
            after = tuple(cursor)
            matching = [u for u in matching if (key(u) < after if descending else key(u) > after)]
        page, rest = matching[:max_results], matching[max_results:]
        body: dict[str, Any] = {"kind": "admin#directory#users", "etag": f'"{secrets.token_hex(13)}"'}
        if page:  # Google leaves "users" out of an empty result
            body["users"] = [u.to_resource(admin_view=admin_view) for u in page]
        if rest:
            body["nextPageToken"] = self.page_tokens.issue(query, list(key(page[-1])))
        return json_response(body)

    def _users_get(self, request: Request, user_key: str) -> Response:
        record, caller = self._authenticate(request)
        self._require_scope(record, (DIRECTORY_USER, DIRECTORY_USER_READONLY))
        view = request.args.get("viewType", "admin_view")
        admin_view = view != "domain_public"
        if "@" in user_key and user_key.rsplit("@", 1)[1].lower() != self.domain:
            return self._forbidden()
        if admin_view and not caller.is_admin:
            return self._forbidden()
        user = self.find_user(user_key)
        if user is None:
            return self.google_error(404, "Resource Not Found: userKey", "notFound", "NOT_FOUND")
        return json_response(user.to_resource(admin_view=admin_view))

    def _create_space(self, request: Request) -> Response:
        record, caller = self._authenticate(request)
        self._require_scope(record, (MEET_CREATED,))
        try:
            body = read_json(request)
        except ControlError as exc:
            return self.google_error(400, exc.message, None, "INVALID_ARGUMENT")
        raw_config = body.get("config")
        config: dict[str, Any] = raw_config if isinstance(raw_config, dict) else {}
        access_type = str(config.get("accessType", "TRUSTED"))
        if access_type not in ("OPEN", "TRUSTED", "RESTRICTED"):
            return self.google_error(
                400, f"Invalid value at 'space.config.access_type' ({access_type})", None, "INVALID_ARGUMENT"
            )
        letters = string.ascii_lowercase
        code = "-".join("".join(self.rng.choice(letters) for _ in range(n)) for n in (3, 4, 3))
        space_id = "".join(self.rng.choice(string.ascii_letters + string.digits) for _ in range(12))
        space = {
            "name": f"spaces/{space_id}",
            "meetingUri": f"https://meet.google.com/{code}",
            "meetingCode": code,
            "config": {"accessType": access_type, "entryPointAccess": "ALL"},
        }
        self.spaces[space_id] = {**space, "_owner": caller.id}
        return json_response(space)

    def _get_space(self, request: Request, space_id: str) -> Response:
        record, caller = self._authenticate(request)
        self._require_scope(record, (MEET_CREATED, MEET_READONLY))
        space = self.spaces.get(space_id)
        readable = space is not None and (
            space["_owner"] == caller.id or MEET_READONLY in record.scope.split()
        )
        if space is None or not readable:
            return self.google_error(404, "Requested entity was not found.", None, "NOT_FOUND")
        return json_response({k: v for k, v in space.items() if not k.startswith("_")})
