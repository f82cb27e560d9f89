"""Indeed simulator: Indeed's OAuth 2.0 (3-legged, with employer selection), a user lookup and
interview links.

providers.md has no Indeed section, so this simulator is deliberately small and modelled on
generic OAuth 2.0 / OpenID Connect, shaped by the one public source found: Indeed's own Java
client (``indeedeng/oauth-client``). From it come the issuer-relative paths
(``/.well-known/openid-configuration``, ``/oauth/v2/authorize``, ``/oauth/v2/tokens``,
``/v2/api/userinfo``, ``/.well-known/keys``), the scopes (``email``, ``offline_access``,
``employer_access``), ``prompt=select_employer`` with an ``employer`` parameter on the token
request, 10-minute codes, one-hour access tokens that are JWTs with ``sub``, ``azp``, ``scope``,
``iss``, ``exp`` and ``iat``, and HTTP Basic client authentication (the form body works too).

The user lookup (``GET /v1/users?email=``) and interview links (``POST /v1/interviews``) are
**invented** for the simulator: Indeed's real APIs are GraphQL and not public in a form we could
reference. See docs/simulators-calendar-and-others.md.
"""

from __future__ import annotations

import random
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

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
from devstack.simulators.demo import DemoDirectory
from devstack.simulators.provider_kit import (
    JwtTokenStore,
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

KNOWN_SCOPES = frozenset({"email", "offline_access", "employer_access"})
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
#: Basic or the body, never both; every failure reads the same.
CLIENT_AUTH = ClientAuthRules(
    methods=frozenset({"basic", "body"}),
    fallback=Refusal("invalid_client", "Client authentication failed.", 401),
)
_BAD_VERIFIER = Refusal("invalid_grant", "code_verifier does not match code_challenge.")
CODE_EXCHANGE = CodeExchangeRules(
    fallback=Refusal("invalid_grant", "The authorization code is invalid, expired or already used."),
    refusals={
        "redirect_uri_mismatch": Refusal(
            "invalid_grant", "redirect_uri does not match the authorization request."
        ),
        "verifier_missing": _BAD_VERIFIER,
        "verifier_unexpected": _BAD_VERIFIER,
        "verifier_mismatch": _BAD_VERIFIER,
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


class IndeedSimulator(Simulator):
    """Indeed OAuth 2.0 for one employer account, a user lookup and interview links.

    Options (constructor keywords; also changeable with ``PATCH /_sim/options``):

    - ``code_ttl_seconds`` (600), ``access_token_ttl_seconds`` (3600),
      ``refresh_token_ttl_seconds`` (60 days).
    - ``rotate_refresh_tokens`` (True): every refresh returns a new refresh token and retires
      the old one (the stricter choice: Indeed's behaviour is not documented in our sources).
    - ``rate_limit_per_second`` (10): API calls per second per token holder; 0 = off.
    - ``retry_after_seconds`` (1): ``Retry-After`` of an injected 429.
    """

    name = "indeed"

    def __init__(
        self,
        demo: DemoDirectory | None = None,
        *,
        seed: int = 7,
        clock: Callable[[], float] | None = None,
        employer_name: str = "Example Corp",
        code_ttl_seconds: float = 600,
        access_token_ttl_seconds: float = 3600,
        refresh_token_ttl_seconds: float = 60 * 86400,
        rotate_refresh_tokens: bool = True,
        rate_limit_per_second: int = 10,
        retry_after_seconds: int = 1,
        **base_options: Any,
    ) -> None:
        self.employer_name = employer_name
        self.code_ttl_seconds = code_ttl_seconds
        self.access_token_ttl_seconds = access_token_ttl_seconds
        self.refresh_token_ttl_seconds = refresh_token_ttl_seconds
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.rate_limit_per_second = rate_limit_per_second
        self.retry_after_seconds = retry_after_seconds
        self.signing_key = shared_signing_key()
        self.employer_id = ""
        self.users: dict[str, IndeedUser] = {}
        self.interviews: dict[str, dict[str, Any]] = {}
        super().__init__(demo, seed=seed, clock=clock, **base_options)
        self._add_routes()

    # ----- seeding and control -----------------------------------------------------------------

    def seed_state(self, params: Mapping[str, Any]) -> None:
        """The employer's users are the demo people who have a Zoom user."""
        self.employer_id = random.Random(f"indeed:{self.seed}:employer").randbytes(16).hex()
        self.users = {}
        statuses = {"active": "active", "pending": "invited", "inactive": "deactivated"}
        for person in self.demo.zoom_users():
            self._add(
                person.email, person.display_name, statuses[person.zoom_status or "active"], person.is_admin
            )
        self.interviews = {}
        if not isinstance(self.tokens, JwtTokenStore):
            self.tokens = JwtTokenStore(self.clock)
        self.limiter = RateLimiter(self.clock, self.rate_limit_per_second)

    def _add(self, email: str, name: str, status: str, is_admin: bool) -> IndeedUser:
        user = IndeedUser(str(self.rng.randrange(10**7, 10**9)), email, name, status, is_admin)
        self.users[user.id] = user
        return user

    def find_user(self, key: str) -> IndeedUser | None:
        """A user by id or email (case-insensitive)."""
        if key in self.users:
            return self.users[key]
        return next((u for u in self.users.values() if u.email.lower() == key.lower()), None)

    def control_list_users(self) -> list[dict[str, Any]]:
        """Every user of the employer account."""
        return [u.to_api(self.employer_id) for u in self.users.values()]

    def control_add_user(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Add a user: ``{"email", "first_name"?, "last_name"?, "status"?, "is_admin"?}``."""
        email = str(body.get("email", "")).strip()
        if "@" not in email:
            raise ControlError(400, "email is required")
        if self.find_user(email) is not None:
            raise ControlError(409, f"{email} already exists")
        status = str(body.get("status", "active"))
        if status not in ("active", "invited", "deactivated"):
            raise ControlError(400, "status must be active, invited or deactivated")
        name = (
            " ".join(str(body.get(k, "")) for k in ("first_name", "last_name")).strip() or email.split("@")[0]
        )
        return self._add(email, name, status, bool(body.get("is_admin", False))).to_api(self.employer_id)

    def control_remove_user(self, email: str) -> None:
        """Delete a user; their tokens stop working."""
        user = self.find_user(email)
        if user is None:
            raise ControlError(404, f"no user {email}")
        del self.users[user.id]
        self.tokens.revoke_where(lambda t: t.subject == user.id)

    def control_update_user(self, email: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``{"email": new}`` renames (the id stays), ``status``, ``is_admin``."""
        user = self.find_user(email)
        if user is None:
            raise ControlError(404, f"no user {email}")
        if "email" in body:
            clash = self.find_user(str(body["email"]))
            if clash is not None and clash is not user:
                raise ControlError(409, f"{body['email']} already exists")
            user.email = str(body["email"])
        if "status" in body:
            if body["status"] not in ("active", "invited", "deactivated"):
                raise ControlError(400, "status must be active, invited or deactivated")
            user.status = str(body["status"])
        if "is_admin" in body:
            user.is_admin = bool(body["is_admin"])
        return user.to_api(self.employer_id)

    def apply_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Change switches at run time (see the class docstring)."""
        switches: dict[str, type] = {
            "code_ttl_seconds": float,
            "access_token_ttl_seconds": float,
            "refresh_token_ttl_seconds": float,
            "rotate_refresh_tokens": bool,
            "rate_limit_per_second": int,
            "retry_after_seconds": int,
        }
        return apply_switches(self, options, switches)

    def dev_info(self, base_url: str) -> dict[str, Any]:
        """Endpoints, the default app's credentials and the employer account."""
        base = base_url.rstrip("/")
        admin = next((u for u in self.users.values() if u.is_admin), None)
        return {
            **self.base_dev_info(base),
            "employer_id": self.employer_id,
            "employer_name": self.employer_name,
            "admin_email": admin.email if admin else None,
            "issuer": base,
            "authorize_url": f"{base}/oauth/v2/authorize",
            "token_url": f"{base}/oauth/v2/tokens",
            "userinfo_url": f"{base}/v2/api/userinfo",
            "jwks_uri": f"{base}/.well-known/keys",
            "api_url": f"{base}/v1",
            "scopes": sorted(KNOWN_SCOPES),
        }

    # ----- routes and errors -----------------------------------------------------------------

    def _add_routes(self) -> None:
        add = self.add_route
        add("/.well-known/openid-configuration", self._discovery, methods=["GET"], target="discovery")
        add("/.well-known/keys", self._jwks, methods=["GET"], target="discovery")
        add("/oauth/v2/authorize", self._authorize, methods=["GET"], target="authorize")
        add("/oauth/v2/authorize", self._authorize_submit, methods=["POST"], target="authorize")
        add("/oauth/v2/tokens", self._token, methods=["POST"], target="token")
        add("/v2/api/userinfo", self._userinfo, methods=["GET"], target="api")
        add("/v1/users", self._users_lookup, methods=["GET"], target="api")
        add("/v1/interviews", self._create_interview, methods=["POST"], target="api")

    def error_response(self, status: int, message: str, request: Request) -> Response:
        """Every error in RFC 6749 / 6750 shape: ``{"error", "error_description"}``."""
        code = {400: "invalid_request", 401: "invalid_token", 403: "insufficient_scope", 404: "not_found"}
        return json_response(
            {"error": code.get(status, "server_error"), "error_description": message}, status
        )

    def rate_limited_response(self, request: Request, target: str) -> Response:
        """A 429 with ``Retry-After`` in seconds."""
        return self._throttled(self.retry_after_seconds)

    def _throttled(self, retry_after: int) -> Response:
        return json_response(
            {"error": "rate_limited", "error_description": "Too many requests."},
            429,
            headers={"Retry-After": str(retry_after)},
        )

    def _discovery(self, request: Request) -> Response:
        base = request.host_url.rstrip("/")
        return json_response(
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/oauth/v2/authorize",
                "token_endpoint": f"{base}/oauth/v2/tokens",
                "userinfo_endpoint": f"{base}/v2/api/userinfo",
                "jwks_uri": f"{base}/.well-known/keys",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": sorted(KNOWN_SCOPES),
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "code_challenge_methods_supported": ["S256", "plain"],
            }
        )

    def _jwks(self, request: Request) -> Response:
        return json_response(self.signing_key.jwks())

    # ----- OAuth -----------------------------------------------------------------------------

    def _check_client(self, params: Mapping[str, str]) -> tuple[OAuthApp, str] | Response:
        app = self.apps.get(params.get("client_id", ""))
        if app is None or app.kind != "oauth":
            return html_error_page("Indeed", "Unknown client_id.", 400)
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in app.redirect_uris:
            return html_error_page("Indeed", "The redirect_uri is not registered for this application.", 400)
        return app, redirect_uri

    def _authorize_problem(self, params: Mapping[str, str]) -> str | None:
        scopes = split_scopes(params.get("scope"))
        if params.get("response_type") != "code":
            return "unsupported_response_type"
        if not scopes or not set(scopes) <= KNOWN_SCOPES:
            return "invalid_scope"
        if params.get("prompt") == "select_employer" and "employer_access" not in scopes:
            return "invalid_request"
        return None

    def _authorize(self, request: Request) -> Response:
        params = {key: request.args.get(key, "") for key in request.args}
        checked = self._check_client(params)
        if isinstance(checked, Response):
            return checked
        app, redirect_uri = checked
        problem = self._authorize_problem(params)
        if problem is not None:
            return redirect_with_params(
                redirect_uri, {"error": problem, "state": params.get("state") or None}
            )
        admin = next((u for u in self.users.values() if u.is_admin), None)
        options = [
            SignInOption(
                value=u.id, label=f"{u.name} <{u.email}>", selected=admin is not None and u.id == admin.id
            )
            for u in self.users.values()
        ]
        selecting = params.get("prompt") == "select_employer"
        return render_signin_page(
            title="Sign in to Indeed",
            app_name=app.name,
            action_url=request.path,
            hidden=params,
            options=options,
            scopes=split_scopes(params.get("scope")),
            message=f"Employer account: {self.employer_name}" if selecting else None,
        )

    def _authorize_submit(self, request: Request) -> Response:
        params = {key: request.form.get(key, "") for key in request.form}
        checked = self._check_client(params)
        if isinstance(checked, Response):
            return checked
        app, redirect_uri = checked
        state = params.get("state") or None
        problem = self._authorize_problem(params)
        if problem is not None:
            return redirect_with_params(redirect_uri, {"error": problem, "state": state})
        if params.get("decision") != "approve":
            return redirect_with_params(redirect_uri, {"error": "access_denied", "state": state})
        user = self.users.get(params.get("user", ""))
        if user is None or user.status == "deactivated":
            return html_error_page("Indeed", "This account cannot sign in.", 403)
        selecting = params.get("prompt") == "select_employer"
        record = self.codes.issue(
            client_id=app.client_id,
            redirect_uri=redirect_uri,
            subject=user.id,
            ttl_seconds=self.code_ttl_seconds,
            code_challenge=params.get("code_challenge") or None,
            code_challenge_method=(params.get("code_challenge_method") or "plain")
            if params.get("code_challenge")
            else None,
            scope=params.get("scope", ""),
            extra={"employer": self.employer_id if selecting else None},
        )
        answer = {"code": record.code, "state": state, "employer": self.employer_id if selecting else None}
        return redirect_with_params(redirect_uri, answer)

    def token_refusal_response(self, refusal: Refusal) -> Response:
        """A refused token request; a failed client authentication names the Basic realm."""
        response = self._oauth_error(refusal.error, refusal.description, refusal.status)
        if refusal.error == "invalid_client":
            response.headers["WWW-Authenticate"] = 'Basic realm="indeed"'
        return response

    def _oauth_error(self, error: str, description: str, status: int = 400) -> Response:
        return json_response({"error": error, "error_description": description}, status, headers=_NO_STORE)

    def _token(self, request: Request) -> Response:
        params = request_params(request)
        app = authenticate_token_client(request, params, self.apps, CLIENT_AUTH)
        grant_type = params.get("grant_type", "")
        if grant_type == "authorization_code":
            return self._exchange_code(app, params, request.host_url.rstrip("/"))
        if grant_type == "refresh_token":
            return self._refresh(app, params, request.host_url.rstrip("/"))
        return self._oauth_error("unsupported_grant_type", f"Unsupported grant_type: {grant_type}")

    def _exchange_code(self, app: OAuthApp, params: Mapping[str, str], issuer: str) -> Response:
        record = redeem_authorization_code(params, app.client_id, self.codes, self.tokens, CODE_EXCHANGE)
        employer = params.get("employer") or None
        if employer is not None and employer != record.extra.get("employer"):
            return self._oauth_error("invalid_grant", "The employer was not selected during authorization.")
        user = self.users.get(record.subject)
        if user is None:
            return self._oauth_error("invalid_grant", "The user no longer exists.")
        extra = {"employer": employer}
        return self._issue(
            app, user, split_scopes(record.scope), new_grant_id(), extra, issuer, with_id_token=True
        )

    def _refresh(self, app: OAuthApp, params: Mapping[str, str], issuer: str) -> Response:
        value = params.get("refresh_token", "")
        record = self.tokens.valid(value, "refresh")
        if record is None or record.client_id != app.client_id:
            return self._oauth_error("invalid_grant", "The refresh token is invalid, expired or revoked.")
        user = self.users.get(record.subject)
        if user is None or user.status == "deactivated":
            return self._oauth_error("invalid_grant", "The user can no longer authorize this application.")
        if self.rotate_refresh_tokens:
            self.tokens.revoke(value)
        scopes = split_scopes(record.scope)
        return self._issue(
            app, user, scopes, record.grant_id, dict(record.extra), issuer, keep_refresh=record
        )

    def _issue(
        self,
        app: OAuthApp,
        user: IndeedUser,
        scopes: list[str],
        grant_id: str,
        extra: dict[str, Any],
        issuer: str,
        *,
        with_id_token: bool = False,
        keep_refresh: IssuedToken | None = None,
    ) -> Response:
        assert isinstance(self.tokens, JwtTokenStore)
        employer = extra.get("employer")

        def encode(record: IssuedToken) -> str:
            claims: dict[str, Any] = {
                "sub": f"user:{user.id}",
                "azp": app.client_id,
                "scope": " ".join(scopes),
                "iss": issuer,
                "iat": int(self.clock.now()),
                "exp": int(record.expires_at),
            }
            if employer:
                claims["act"] = {"sub": f"app:{employer}", "app_account": f"user:{user.id}"}
            return self.signing_key.sign(claims)

        access = self.tokens.mint_encoded(
            "access",
            encode,
            client_id=app.client_id,
            subject=user.id,
            ttl_seconds=self.access_token_ttl_seconds,
            grant_id=grant_id,
            scope=" ".join(scopes),
            extra=extra,
        )
        body: dict[str, Any] = {
            "access_token": access.value,
            "token_type": "Bearer",
            "expires_in": int(self.access_token_ttl_seconds),
            "scope": " ".join(scopes),
        }
        if "offline_access" in scopes:
            if keep_refresh is not None and not self.rotate_refresh_tokens:
                body["refresh_token"] = keep_refresh.value
            else:
                body["refresh_token"] = self.tokens.mint(
                    "refresh",
                    client_id=app.client_id,
                    subject=user.id,
                    ttl_seconds=self.refresh_token_ttl_seconds,
                    grant_id=grant_id,
                    scope=" ".join(scopes),
                    extra=extra,
                ).value
        if with_id_token and "email" in scopes:
            now = int(self.clock.now())
            body["id_token"] = self.signing_key.sign(
                {
                    "iss": issuer,
                    "sub": user.id,
                    "aud": app.client_id,
                    "azp": app.client_id,
                    "iat": now,
                    "exp": now + 3600,
                    "email": user.email,
                    "email_verified": True,
                }
            )
        return json_response(body, headers=_NO_STORE)

    # ----- API -------------------------------------------------------------------------------

    def _caller(self, request: Request, scope: str) -> tuple[IssuedToken, IndeedUser]:
        value = bearer_token(request)
        record = self.tokens.valid(value, "access") if value else None
        user = self.users.get(record.subject) if record else None
        if record is None or user is None:
            response = json_response(
                {"error": "invalid_token", "error_description": "The access token is invalid or expired."},
                401,
            )
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            raise SimResponse(response)
        retry_after = self.limiter.hit(f"{record.client_id}:{record.subject}")
        if retry_after is not None:
            raise SimResponse(self._throttled(retry_after))
        if scope not in split_scopes(record.scope):
            raise SimResponse(
                json_response(
                    {"error": "insufficient_scope", "error_description": f"The {scope} scope is required."},
                    403,
                )
            )
        return record, user

    def _require_employer(self, record: IssuedToken) -> None:
        if record.extra.get("employer") != self.employer_id:
            raise SimResponse(
                json_response(
                    {
                        "error": "insufficient_scope",
                        "error_description": "Token not bound to an employer: use prompt=select_employer.",
                    },
                    403,
                )
            )

    def _userinfo(self, request: Request) -> Response:
        _, user = self._caller(request, "email")
        return json_response({"sub": user.id, "email": user.email, "email_verified": True})

    def _users_lookup(self, request: Request) -> Response:
        record, _ = self._caller(request, "employer_access")
        self._require_employer(record)
        email = request.args.get("email")
        if not email:
            return self.error_response(400, "The email parameter is required.", request)
        found = self.find_user(email)
        return json_response({"users": [found.to_api(self.employer_id)] if found else []})

    def _create_interview(self, request: Request) -> Response:
        record, caller = self._caller(request, "employer_access")
        self._require_employer(record)
        try:
            body = read_json(request, required=True)
        except ControlError as exc:
            return self.error_response(400, exc.message, request)
        host = self.find_user(str(body.get("hostEmail") or caller.email))
        if host is None:
            return self.error_response(404, "No user of the employer account has that email.", request)
        if host.status != "active":
            return self.error_response(
                400, f"{host.email} is not an active user of the employer account.", request
            )
        title = body.get("title")
        if not isinstance(title, str) or not title.strip():
            return self.error_response(400, "title is required.", request)
        interview_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        interview = {
            "id": interview_id,
            "title": title,
            "start": body.get("start"),
            "end": body.get("end"),
            "hostUserId": host.id,
            "employerId": self.employer_id,
            "joinUrl": f"https://interview.indeed.com/join/{interview_id}?pwd={secrets.token_urlsafe(9)}",
            "createdAt": datetime.fromtimestamp(self.clock.now(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        self.interviews[interview_id] = interview
        return json_response(interview, 201)
