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
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from devstack.simulators.common import (
    ControlError,
    IssuedToken,
    SimResponse,
    Simulator,
    bearer_token,
    json_response,
    read_json,
)
from devstack.simulators.demo import DemoDirectory
from devstack.simulators.indeed_model import (
    KNOWN_SCOPES,
    IndeedUser,
)
from devstack.simulators.indeed_oauth import IndeedOAuth
from devstack.simulators.provider_kit import (
    JwtTokenStore,
    RateLimiter,
    apply_switches,
    shared_signing_key,
    split_scopes,
)
from devstack.simulators.token_endpoint import (
    Refusal,
)


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
        self.oauth = IndeedOAuth(self)
        super().__init__(demo, seed=seed, clock=clock, **base_options)
        self.add_routes(self.oauth.routes())
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

    # ----- OAuth -----------------------------------------------------------------------------

    def token_refusal_response(self, refusal: Refusal) -> Response:
        """A refused token request; a failed client authentication names the Basic realm."""
        response = self.oauth_error_response(refusal.error, refusal.description, refusal.status)
        if refusal.error == "invalid_client":
            response.headers["WWW-Authenticate"] = 'Basic realm="indeed"'
        return response

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
