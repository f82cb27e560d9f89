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
import string
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from devstack.simulators.common import (
    ControlError,
    Simulator,
    json_response,
)
from devstack.simulators.demo import PRIMARY_DOMAIN, DemoDirectory
from devstack.simulators.google_api import GoogleApi
from devstack.simulators.google_directory import (
    WorkspaceUser,
)
from devstack.simulators.google_model import (
    DIRECTORY_USER_READONLY as DIRECTORY_USER_READONLY,
)
from devstack.simulators.google_model import (
    MEET_CREATED as MEET_CREATED,
)
from devstack.simulators.google_model import (
    NO_STORE,
    Grant,
    iso_millis,
)
from devstack.simulators.google_signin import GoogleSignIn
from devstack.simulators.google_tokens import GoogleTokenEndpoint
from devstack.simulators.google_watch import GoogleWatch
from devstack.simulators.provider_kit import (
    PageTokens,
    RateLimiter,
    apply_switches,
    shared_signing_key,
)


class GoogleSimulator(Simulator):
    """Google OAuth + Directory API + Meet for one Workspace customer (``example.com``).

    Options (constructor keywords; the run-time ones also via ``PATCH /_sim/options``):

    - ``domain`` (constructor only): the demo directory domain of the customer.
    - ``rate_limit_per_second`` (40): Directory and Meet calls per second per user; 0 = off.
    - ``code_ttl_seconds`` (600), ``access_token_ttl_seconds`` (3599).
    - ``page_token_ttl_seconds`` (3 days, providers.md section 4).
    - ``max_refresh_tokens`` (100): live refresh tokens per user and client; issuing one more
      revokes the oldest, as Google documents.
    - ``meet_api_enabled`` (True): False answers Meet calls as Google does when the Meet REST API
      is not enabled in the OAuth client's Cloud project (403 ``SERVICE_DISABLED``).
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
        meet_api_enabled: bool = True,
        **base_options: Any,
    ) -> None:
        self.domain = domain.lower()
        self.rate_limit_per_second = rate_limit_per_second
        self.code_ttl_seconds = code_ttl_seconds
        self.access_token_ttl_seconds = access_token_ttl_seconds
        self.page_token_ttl_seconds = page_token_ttl_seconds
        self.max_refresh_tokens = max_refresh_tokens
        self.meet_api_enabled = meet_api_enabled
        self.signing_key = shared_signing_key()
        self.customer_id = ""
        self.users: dict[str, WorkspaceUser] = {}
        self.grants: dict[tuple[str, str], Grant] = {}
        self.spaces: dict[str, dict[str, Any]] = {}
        self.signin = GoogleSignIn(self)
        self.token_endpoint = GoogleTokenEndpoint(self)
        self.api = GoogleApi(self)
        self.watch = GoogleWatch(self)
        super().__init__(demo, seed=seed, clock=clock, **base_options)
        for part in (self.signin, self.token_endpoint, self.api):
            self.add_routes(part.routes())
        self.watch.register()

    # ----- seeding ---------------------------------------------------------------------------

    def seed_state(self, params: Mapping[str, Any]) -> None:
        """Build the customer from the demo directory (ids come from ``self.rng``)."""
        alphabet = string.ascii_lowercase + string.digits
        named = random.Random(f"google:{self.seed}:customer")
        self.customer_id = "C0" + "".join(named.choice(alphabet) for _ in range(7))
        self.users = {}
        created = datetime(2020, 6, 1, 8, 0, tzinfo=UTC).timestamp()
        for index, person in enumerate(self.demo.in_domain(self.domain)):
            creation = iso_millis(created + index * 3600)
            user = WorkspaceUser.of_person(self._new_user_id(), person, self.customer_id, creation)
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
            creation_time=iso_millis(self.clock.now()),
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
        self.watch.user_changed(user, "delete")

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
        self.watch.user_changed(user, "update")  # Directory push notifications
        return {**user.to_resource(admin_view=True), "email": user.primary_email}

    def apply_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Change switches at run time (see the class docstring)."""
        switches: dict[str, type] = {
            "rate_limit_per_second": int,
            "code_ttl_seconds": float,
            "access_token_ttl_seconds": float,
            "page_token_ttl_seconds": float,
            "max_refresh_tokens": int,
            "meet_api_enabled": bool,
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
        return json_response({"error": error, "error_description": description}, status, headers=NO_STORE)

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
