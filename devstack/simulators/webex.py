"""Webex simulator: Webex integrations OAuth, the People API and meeting scheduling.

Serves the real ``webexapis.com`` paths under one base URL:

- ``GET /v1/authorize`` (sign-in page; PKCE), ``POST /v1/access_token`` (authorization_code and
  refresh_token; the client id and secret travel in the form body, never HTTP Basic);
- ``GET /v1/people`` (``email``, ``displayName``, ``id``, ``max``, RFC 5988 ``Link`` paging),
  ``GET /v1/people/me``, ``GET /v1/people/{personId}``;
- ``POST /v1/meetings`` (a scheduled meeting with its ``webLink``).

The Webex site's users are the demo people who have a Zoom user (the same organization uses
both products): active ones are active, pending ones are invited (``invitePending``), inactive
ones cannot sign in (``loginEnabled: false``). The demo admin is a full administrator. Errors use
Webex's ``{"message", "errors": [{"description"}], "trackingId"}``. See
docs/simulators-calendar-and-others.md for every switch and decision.
"""

from __future__ import annotations

import base64
import random
import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote, urlencode

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
)
from devstack.simulators.demo import DemoDirectory
from devstack.simulators.provider_kit import (
    PageTokens,
    RateLimiter,
    apply_switches,
    new_grant_id,
    split_scopes,
)
from devstack.simulators.token_endpoint import (
    ClientAuthRules,
    CodeExchangeRules,
    Refusal,
    authenticate_token_client,
    redeem_authorization_code,
)

PEOPLE_READ = "spark:people_read"
ADMIN_PEOPLE_READ = "spark-admin:people_read"
SCHEDULES_WRITE = "meeting:schedules_write"
ADMIN_SCHEDULES_WRITE = "meeting:admin_schedule_write"
#: Scopes the simulator knows.
KNOWN_SCOPES = frozenset(
    {
        "spark:all",
        "spark:kms",
        PEOPLE_READ,
        ADMIN_PEOPLE_READ,
        "spark-admin:people_write",
        "spark-admin:organizations_read",
        "meeting:schedules_read",
        SCHEDULES_WRITE,
        "meeting:admin_schedule_read",
        ADMIN_SCHEDULES_WRITE,
        "openid",
        "email",
        "profile",
    }
)
#: Scopes only an administrator of the organization can authorize.
ADMIN_SCOPES = frozenset(s for s in KNOWN_SCOPES if s.startswith("spark-admin:") or ":admin_" in s)
FULL_ADMIN_ROLE = "id_full_admin"

WebexStatus = Literal["active", "pending", "inactive"]
_STATUSES: dict[str, WebexStatus] = {"active": "active", "pending": "pending", "inactive": "inactive"}


_CREDENTIALS_REQUIRED = Refusal("invalid_request", "client_id and client_secret are required.")
#: Webex takes the client secret in the form body only.
CLIENT_AUTH = ClientAuthRules(
    methods=frozenset({"body"}),
    fallback=Refusal("invalid_client", "Invalid client_id or client_secret.", 401),
    refusals={
        "wrong_auth_method": Refusal(
            "invalid_request", "client_id and client_secret must be sent in the request body."
        ),
        "missing_client_id": _CREDENTIALS_REQUIRED,
        "missing_secret": _CREDENTIALS_REQUIRED,
    },
)
_CODE_AND_REDIRECT_REQUIRED = Refusal("invalid_request", "code and redirect_uri are required.")
_BAD_VERIFIER = Refusal("invalid_grant", "The code_verifier does not match the code_challenge.")
CODE_EXCHANGE = CodeExchangeRules(
    fallback=Refusal("invalid_grant", "The authorization code is invalid or expired."),
    refusals={
        "missing_code": _CODE_AND_REDIRECT_REQUIRED,
        "missing_redirect_uri": _CODE_AND_REDIRECT_REQUIRED,
        "redirect_uri_mismatch": Refusal(
            "invalid_grant", "The redirect_uri does not match the authorize request."
        ),
        "verifier_missing": _BAD_VERIFIER,
        "verifier_unexpected": _BAD_VERIFIER,
        "verifier_mismatch": _BAD_VERIFIER,
    },
    redirect_uri_required=True,
)


def webex_id(kind: str, raw: str) -> str:
    """A Webex API id: base64url (unpadded) of ``ciscospark://us/{KIND}/{raw}``."""
    return base64.urlsafe_b64encode(f"ciscospark://us/{kind}/{raw}".encode()).rstrip(b"=").decode()


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _parse_time(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


@dataclass
class WebexPerson:
    """One person of the simulated Webex organization."""

    id: str
    email: str
    first_name: str
    last_name: str
    org_id: str
    created: str
    status: WebexStatus = "active"
    roles: list[str] = field(default_factory=list)

    @property
    def display_name(self) -> str:
        """``firstName lastName``."""
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_admin(self) -> bool:
        """Whether the person is a full administrator of the organization."""
        return webex_id("ROLE", FULL_ADMIN_ROLE) in self.roles

    def to_api(self) -> dict[str, Any]:
        """The person as the People API returns it."""
        return {
            "id": self.id,
            "emails": [self.email],
            "phoneNumbers": [],
            "displayName": self.display_name,
            "nickName": self.first_name,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "orgId": self.org_id,
            "roles": list(self.roles),
            "created": self.created,
            "lastModified": self.created,
            "status": self.status,
            "invitePending": self.status == "pending",
            "loginEnabled": self.status != "inactive",
            "type": "person",
        }


class WebexSimulator(Simulator):
    """Webex OAuth + People API + meetings for one organization and site.

    Options (constructor keywords; also changeable with ``PATCH /_sim/options``):

    - ``access_token_ttl_seconds`` (14400) and ``refresh_token_ttl_seconds`` (7776000): the
      lifetimes in providers.md's example (sources conflict; the shorter access token is kept).
    - ``code_ttl_seconds`` (600).
    - ``rate_limit_per_second`` (50): API calls per second per token holder; 0 = off.
    - ``retry_after_seconds`` (4): ``Retry-After`` of an injected 429.
    - ``max_page_size`` (1000): the largest ``max`` the People API accepts (default page 100).
    - ``paging_quirks`` (False): emit the ``Link`` next URL the way Webex sometimes does, with
      ``max=null`` and the original filters dropped (WebexPythonSDK's ``_fix_next_url`` case).
    """

    name = "webex"

    def __init__(
        self,
        demo: DemoDirectory | None = None,
        *,
        seed: int = 7,
        clock: Callable[[], float] | None = None,
        site_name: str = "example",
        access_token_ttl_seconds: float = 14400,
        refresh_token_ttl_seconds: float = 7776000,
        code_ttl_seconds: float = 600,
        rate_limit_per_second: int = 50,
        retry_after_seconds: int = 4,
        max_page_size: int = 1000,
        paging_quirks: bool = False,
        **base_options: Any,
    ) -> None:
        self.site_name = site_name
        self.access_token_ttl_seconds = access_token_ttl_seconds
        self.refresh_token_ttl_seconds = refresh_token_ttl_seconds
        self.code_ttl_seconds = code_ttl_seconds
        self.rate_limit_per_second = rate_limit_per_second
        self.retry_after_seconds = retry_after_seconds
        self.max_page_size = max_page_size
        self.paging_quirks = paging_quirks
        self.org_id = ""
        self.people: dict[str, WebexPerson] = {}
        self.meetings: dict[str, dict[str, Any]] = {}
        super().__init__(demo, seed=seed, clock=clock, **base_options)
        self._add_routes()

    @property
    def site_url(self) -> str:
        """The Webex site's host name."""
        return f"{self.site_name}.webex.com"

    # ----- seeding ---------------------------------------------------------------------------

    def seed_state(self, params: Mapping[str, Any]) -> None:
        """Build the organization from the demo people who have a Zoom user."""
        self.org_id = webex_id(
            "ORGANIZATION", str(uuid.UUID(int=random.Random(f"webex:{self.seed}").getrandbits(128)))
        )
        self.people = {}
        created = datetime(2022, 1, 10, 9, 0, tzinfo=UTC).timestamp()
        for index, person in enumerate(self.demo.zoom_users()):
            status: WebexStatus = person.zoom_status or "active"
            self._add(
                person.email,
                person.first_name,
                person.last_name,
                status,
                person.is_admin,
                created + index * 60,
            )
        self.meetings = {}
        self.cursors = PageTokens(self.clock, ttl_seconds=86400)
        self.limiter = RateLimiter(self.clock, self.rate_limit_per_second)

    def _add(
        self, email: str, first: str, last: str, status: WebexStatus, is_admin: bool, created: float
    ) -> WebexPerson:
        raw = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        person = WebexPerson(
            id=webex_id("PEOPLE", raw),
            email=email,
            first_name=first,
            last_name=last,
            org_id=self.org_id,
            created=_iso(created),
            status=status,
            roles=[webex_id("ROLE", FULL_ADMIN_ROLE)] if is_admin else [],
        )
        self.people[person.id] = person
        return person

    def find_person(self, key: str) -> WebexPerson | None:
        """A person by id or email (case-insensitive)."""
        if key in self.people:
            return self.people[key]
        lowered = key.lower()
        return next((p for p in self.people.values() if p.email.lower() == lowered), None)

    # ----- control-API hooks -----------------------------------------------------------------

    def control_list_users(self) -> list[dict[str, Any]]:
        """Every person, in the People API shape plus ``email``."""
        return [{**p.to_api(), "email": p.email} for p in self.people.values()]

    def control_add_user(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Add a person: ``{"email", "first_name"?, "last_name"?, "status"?, "is_admin"?}``."""
        email = str(body.get("email", "")).strip()
        if "@" not in email:
            raise ControlError(400, "email is required")
        if self.find_person(email) is not None:
            raise ControlError(409, f"{email} already exists")
        status = _STATUSES.get(str(body.get("status", "active")))
        if status is None:
            raise ControlError(400, "status must be active, pending or inactive")
        local = email.split("@", 1)[0]
        person = self._add(
            email,
            str(body.get("first_name") or local.split(".")[0].title()),
            str(body.get("last_name") or (local.split(".")[1].title() if "." in local else "")),
            status,
            bool(body.get("is_admin", False)),
            self.clock.now(),
        )
        return {**person.to_api(), "email": person.email}

    def control_remove_user(self, email: str) -> None:
        """Delete a person; their tokens stop working."""
        person = self.find_person(email)
        if person is None:
            raise ControlError(404, f"no person {email}")
        del self.people[person.id]
        self.tokens.revoke_where(lambda t: t.subject == person.id)

    def control_update_user(self, email: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``{"email": new}`` renames (the id stays), ``first_name``, ``last_name``, ``is_admin``,
        ``status`` (``active`` / ``pending`` / ``inactive``)."""
        person = self.find_person(email)
        if person is None:
            raise ControlError(404, f"no person {email}")
        if "email" in body:
            new_email = str(body["email"]).strip()
            clash = self.find_person(new_email)
            if "@" not in new_email or (clash is not None and clash is not person):
                raise ControlError(409 if clash else 400, f"cannot rename to {new_email}")
            person.email = new_email
        if "first_name" in body:
            person.first_name = str(body["first_name"])
        if "last_name" in body:
            person.last_name = str(body["last_name"])
        if "status" in body:
            status = _STATUSES.get(str(body["status"]))
            if status is None:
                raise ControlError(400, "status must be active, pending or inactive")
            person.status = status
        if "is_admin" in body:
            person.roles = [webex_id("ROLE", FULL_ADMIN_ROLE)] if body["is_admin"] else []
        return {**person.to_api(), "email": person.email}

    def apply_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Change switches at run time (see the class docstring)."""
        switches: dict[str, type] = {
            "access_token_ttl_seconds": float,
            "refresh_token_ttl_seconds": float,
            "code_ttl_seconds": float,
            "rate_limit_per_second": int,
            "retry_after_seconds": int,
            "max_page_size": int,
            "paging_quirks": bool,
        }
        return apply_switches(self, options, switches)

    def dev_info(self, base_url: str) -> dict[str, Any]:
        """Endpoints, the default integration's credentials, the organization and its admin."""
        base = base_url.rstrip("/")
        admin = next((p for p in self.people.values() if p.is_admin), None)
        return {
            **self.base_dev_info(base),
            "org_id": self.org_id,
            "site_url": self.site_url,
            "admin_email": admin.email if admin else None,
            "authorize_url": f"{base}/v1/authorize",
            "token_url": f"{base}/v1/access_token",
            "api_url": f"{base}/v1",
            "scopes": [PEOPLE_READ, ADMIN_PEOPLE_READ, SCHEDULES_WRITE, ADMIN_SCHEDULES_WRITE],
        }

    # ----- routes and errors -----------------------------------------------------------------

    def _add_routes(self) -> None:
        add = self.add_route
        add("/v1/authorize", self._authorize, methods=["GET"], target="authorize")
        add("/v1/authorize", self._authorize_submit, methods=["POST"], target="authorize")
        add("/v1/access_token", self._token, methods=["POST"], target="token")
        add("/v1/people", self._people_list, methods=["GET"], target="api")
        add("/v1/people/me", self._people_me, methods=["GET"], target="api")
        add("/v1/people/<person_id>", self._people_get, methods=["GET"], target="api")
        add("/v1/meetings", self._create_meeting, methods=["POST"], target="api")

    @staticmethod
    def webex_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
        """Webex's error body, with a ``trackingId`` echoed in the ``TrackingID`` header."""
        tracking = f"ROUTER_{uuid.uuid4()}"
        body = {"message": message, "errors": [{"description": message}], "trackingId": tracking}
        return json_response(body, status, headers={"TrackingID": tracking, **(headers or {})})

    def error_response(self, status: int, message: str, request: Request) -> Response:
        """Injected faults and unknown paths, in Webex's error shape."""
        return self.webex_error(status, message)

    def oauth_error_response(self, error: str, description: str, status: int = 400) -> Response:
        """Token-endpoint errors: the OAuth ``error`` inside Webex's error envelope."""
        if description == "Invalid Token!":  # the core's generic injected invalid_grant
            description = "The refresh token provided is expired, revoked, malformed, or invalid."
        tracking = f"ROUTER_{uuid.uuid4()}"
        body = {
            "error": error,
            "error_description": description,
            "message": description,
            "errors": [{"description": description}],
            "trackingId": tracking,
        }
        return json_response(body, status, headers={"TrackingID": tracking, "Cache-Control": "no-store"})

    def rate_limited_response(self, request: Request, target: str) -> Response:
        """A 429 with ``Retry-After`` in seconds (Webex's documented header)."""
        return self._throttled(self.retry_after_seconds)

    def _throttled(self, retry_after: int) -> Response:
        return self.webex_error(
            429, "Too many requests. Please try again later.", {"Retry-After": str(retry_after)}
        )

    # ----- OAuth -----------------------------------------------------------------------------

    def _validate_authorize(self, params: Mapping[str, str]) -> tuple[OAuthApp, str] | Response:
        app = self.apps.get(params.get("client_id", ""))
        if app is None or app.kind != "oauth":
            return html_error_page("Webex", "The client_id is invalid or the integration was deleted.", 400)
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in app.redirect_uris:
            return html_error_page(
                "Webex", "The redirect_uri does not match a Redirect URI of the integration.", 400
            )
        return app, redirect_uri

    def _authorize_problem(self, app: OAuthApp, params: Mapping[str, str]) -> tuple[str, str] | None:
        if params.get("response_type") != "code":
            return "unsupported_response_type", "response_type must be code."
        scopes = split_scopes(params.get("scope"))
        if not scopes:
            return "invalid_scope", "The scope parameter is required."
        unknown = [s for s in scopes if s not in KNOWN_SCOPES]
        if unknown:
            return "invalid_scope", f"Unknown scopes: {' '.join(unknown)}"
        method = params.get("code_challenge_method") or None
        if method not in (None, "S256", "plain") or (method and not params.get("code_challenge")):
            return "invalid_request", "Invalid code_challenge_method."
        return None

    def _authorize(self, request: Request) -> Response:
        params = {key: request.args.get(key, "") for key in request.args}
        checked = self._validate_authorize(params)
        if isinstance(checked, Response):
            return checked
        app, redirect_uri = checked
        problem = self._authorize_problem(app, params)
        if problem is not None:
            return redirect_with_params(
                redirect_uri,
                {"error": problem[0], "error_description": problem[1], "state": params.get("state")},
            )
        admin = next((p for p in self.people.values() if p.is_admin), None)
        options = [
            SignInOption(
                value=p.id,
                label=f"{p.display_name} <{p.email}>" + (" - Full Administrator" if p.is_admin else ""),
                selected=admin is not None and p.id == admin.id,
            )
            for p in self.people.values()
        ]
        return render_signin_page(
            title="Sign in to Webex",
            app_name=app.name,
            action_url=request.path,
            hidden=params,
            options=options,
            scopes=split_scopes(params.get("scope")),
        )

    def _authorize_submit(self, request: Request) -> Response:
        params = {key: request.form.get(key, "") for key in request.form}
        checked = self._validate_authorize(params)
        if isinstance(checked, Response):
            return checked
        app, redirect_uri = checked
        state = params.get("state") or None
        problem = self._authorize_problem(app, params)
        if problem is not None:
            return redirect_with_params(
                redirect_uri, {"error": problem[0], "error_description": problem[1], "state": state}
            )
        if params.get("decision") != "approve":
            return redirect_with_params(redirect_uri, {"error": "access_denied", "state": state})
        person = self.people.get(params.get("user", ""))
        if person is None:
            return html_error_page("Webex", "Choose a user to sign in as.", 400)
        if person.status == "inactive":
            return html_error_page(
                "Webex", "Your account has been deactivated. Contact your administrator.", 403
            )
        scopes = split_scopes(params.get("scope"))
        if set(scopes) & ADMIN_SCOPES and not person.is_admin:
            return redirect_with_params(
                redirect_uri,
                {
                    "error": "access_denied",
                    "error_description": "Admin scopes need an administrator of the organization.",
                    "state": state,
                },
            )
        record = self.codes.issue(
            client_id=app.client_id,
            redirect_uri=redirect_uri,
            subject=person.id,
            ttl_seconds=self.code_ttl_seconds,
            code_challenge=params.get("code_challenge") or None,
            code_challenge_method=(params.get("code_challenge_method") or "plain")
            if params.get("code_challenge")
            else None,
            scope=" ".join(scopes),
        )
        return redirect_with_params(redirect_uri, {"code": record.code, "state": state})

    def _token(self, request: Request) -> Response:
        params = {key: request.form.get(key, "") for key in request.form}
        app = authenticate_token_client(request, params, self.apps, CLIENT_AUTH)
        grant_type = params.get("grant_type", "")
        if grant_type == "authorization_code":
            return self._exchange_code(app, params)
        if grant_type == "refresh_token":
            return self._refresh(app, params)
        return self.oauth_error_response("unsupported_grant_type", f"Unsupported grant_type: {grant_type}")

    def _exchange_code(self, app: OAuthApp, params: Mapping[str, str]) -> Response:
        record = redeem_authorization_code(params, app.client_id, self.codes, self.tokens, CODE_EXCHANGE)
        if record.subject not in self.people:
            return self.oauth_error_response("invalid_grant", "The user no longer exists.")
        grant_id = new_grant_id()
        refresh = self.tokens.mint(
            "refresh",
            client_id=app.client_id,
            subject=record.subject,
            ttl_seconds=self.refresh_token_ttl_seconds,
            grant_id=grant_id,
            scope=record.scope,
            nbytes=48,
        )
        return self._token_response(app, record.subject, record.scope, grant_id, refresh)

    def _refresh(self, app: OAuthApp, params: Mapping[str, str]) -> Response:
        record = self.tokens.valid(params.get("refresh_token", ""), "refresh")
        if record is None or record.client_id != app.client_id or record.subject not in self.people:
            return self.oauth_error_response(
                "invalid_grant", "The refresh token provided is expired, revoked, malformed, or invalid."
            )
        # Webex keeps the refresh token and extends it while it is in use.
        record.expires_at = self.clock.now() + self.refresh_token_ttl_seconds
        return self._token_response(app, record.subject, record.scope, record.grant_id, record)

    def _token_response(
        self, app: OAuthApp, subject: str, scope: str, grant_id: str, refresh: IssuedToken
    ) -> Response:
        access = self.tokens.mint(
            "access",
            client_id=app.client_id,
            subject=subject,
            ttl_seconds=self.access_token_ttl_seconds,
            grant_id=grant_id,
            scope=scope,
            nbytes=48,
        )
        body = {
            "access_token": access.value,
            "expires_in": int(self.access_token_ttl_seconds),
            "refresh_token": refresh.value,
            "refresh_token_expires_in": int(refresh.expires_at - self.clock.now()),
            "token_type": "Bearer",
            "scope": scope,
        }
        return json_response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    # ----- API -------------------------------------------------------------------------------

    def _caller(self, request: Request, accepted: Sequence[str]) -> tuple[IssuedToken, WebexPerson]:
        """The token and person behind a call; raises ``SimResponse`` with 401/403/429."""
        value = bearer_token(request)
        record = self.tokens.valid(value, "access") if value else None
        person = self.people.get(record.subject) if record else None
        if record is None or person is None:
            raise SimResponse(
                self.webex_error(
                    401, "The request requires a valid access token set in the Authorization request header."
                )
            )
        retry_after = self.limiter.hit(f"{record.client_id}:{record.subject}")
        if retry_after is not None:
            raise SimResponse(self._throttled(retry_after))
        scopes = set(split_scopes(record.scope))
        if "spark:all" not in scopes and not scopes & set(accepted):
            raise SimResponse(
                self.webex_error(403, "The access token does not have the scopes this API requires.")
            )
        return record, person

    @staticmethod
    def _is_admin_call(record: IssuedToken, person: WebexPerson, admin_scope: str) -> bool:
        return admin_scope in split_scopes(record.scope) and person.is_admin

    def _people_list(self, request: Request) -> Response:
        record, caller = self._caller(request, (PEOPLE_READ, ADMIN_PEOPLE_READ))
        args: list[tuple[str, str]] = [
            (k, v) for k, v in request.args.items(multi=True) if k not in ("after", "before")
        ]
        after = request.args.get("after")
        cursor_id = ""
        if after:
            saved, problem = self.cursors.resolve(after, "")
            if problem is not None:
                return self.webex_error(400, "Invalid cursor.")
            # The cursor remembers the query: a next link that lost its filters still pages right.
            args, cursor_id = saved
        query = dict(args)
        max_raw = query.get("max", "100")
        try:
            page_size = int(max_raw)
        except ValueError:
            return self.webex_error(400, f"Invalid value for max: {max_raw}")
        if not 1 <= page_size <= self.max_page_size:
            return self.webex_error(400, f"max must be between 1 and {self.max_page_size}.")
        email, display_name, ids = query.get("email"), query.get("displayName"), query.get("id")
        if not (email or display_name or ids) and not self._is_admin_call(record, caller, ADMIN_PEOPLE_READ):
            return self.webex_error(400, "Email, displayName, or id list should be specified.")
        if query.get("orgId") and query["orgId"] != self.org_id:
            return self.webex_error(403, "The caller cannot access the requested organization.")
        matching = list(self.people.values())
        not_found: list[str] | None = None
        if ids:
            wanted = [i for i in ids.split(",") if i][:85]
            not_found = [i for i in wanted if i not in self.people]
            matching = [p for p in matching if p.id in wanted]
        if email:
            matching = [p for p in matching if p.email.lower() == email.lower()]
        if display_name:
            prefix = display_name.lower()
            matching = [
                p
                for p in matching
                if any(n.lower().startswith(prefix) for n in (p.display_name, p.first_name, p.last_name))
            ]
        matching.sort(key=lambda p: p.id)
        if cursor_id:
            matching = [p for p in matching if p.id > cursor_id]
        page, rest = matching[:page_size], matching[page_size:]
        body: dict[str, Any] = {"items": [p.to_api() for p in page]}
        if not_found is not None:
            body["notFoundIds"] = not_found
        headers: dict[str, str] = {}
        if rest:
            token = self.cursors.issue("", (args, page[-1].id))
            base = request.host_url.rstrip("/")
            if self.paging_quirks:
                link_query = f"max=null&before&after={quote(token)}"
            else:
                kept = [(k, v) for k, v in args if k != "max"] + [("max", str(page_size))]
                link_query = f"{urlencode(kept)}&before&after={quote(token)}"
            headers["Link"] = f'<{base}/v1/people?{link_query}>; rel="next"'
        return json_response(body, headers=headers)

    def _people_me(self, request: Request) -> Response:
        _, caller = self._caller(request, (PEOPLE_READ, ADMIN_PEOPLE_READ))
        return json_response(caller.to_api())

    def _people_get(self, request: Request, person_id: str) -> Response:
        self._caller(request, (PEOPLE_READ, ADMIN_PEOPLE_READ))
        person = self.people.get(person_id)
        if person is None:
            return self.webex_error(404, "Person not found.")
        return json_response(person.to_api())

    def _create_meeting(self, request: Request) -> Response:
        record, caller = self._caller(request, (SCHEDULES_WRITE, ADMIN_SCHEDULES_WRITE))
        try:
            body = read_json(request, required=True)
        except ControlError as exc:
            return self.webex_error(400, exc.message)
        title = body.get("title")
        if not isinstance(title, str) or not title.strip():
            return self.webex_error(400, "title is required.")
        start_raw, end_raw = body.get("start"), body.get("end")
        if not isinstance(start_raw, str) or not isinstance(end_raw, str):
            return self.webex_error(400, "start and end are required.")
        try:
            start, end = _parse_time(start_raw), _parse_time(end_raw)
        except ValueError:
            return self.webex_error(400, "start and end must be ISO 8601 date-times.")
        if end <= start:
            return self.webex_error(400, "end must be after start.")
        if start < self.clock.now() - 300:
            return self.webex_error(400, "Meeting start time cannot be in the past.")
        host = caller
        host_email = body.get("hostEmail")
        if host_email and str(host_email).lower() != caller.email.lower():
            if not self._is_admin_call(record, caller, ADMIN_SCHEDULES_WRITE):
                return self.webex_error(
                    403, "Only an administrator with meeting:admin_schedule_write can schedule for others."
                )
            found = self.find_person(str(host_email))
            if found is None:
                return self.webex_error(400, f"Host {host_email} is not a user of the site.")
            host = found
        if host.status != "active":
            return self.webex_error(400, f"Host {host.email} is not an active user of the site.")
        meeting_id = secrets.token_hex(16)
        number = "".join(str(self.rng.randrange(10)) for _ in range(10))
        password = str(body.get("password") or secrets.token_urlsafe(8)[:10])
        meeting = {
            "id": meeting_id,
            "meetingNumber": number,
            "title": title,
            "password": password,
            "meetingType": "meetingSeries",
            "state": "active",
            "timezone": str(body.get("timezone") or "UTC"),
            "start": _iso(start),
            "end": _iso(end),
            "hostUserId": host.id,
            "hostDisplayName": host.display_name,
            "hostEmail": host.email,
            "siteUrl": self.site_url,
            "webLink": f"https://{self.site_url}/{self.site_name}/j.php?MTID=m{meeting_id}",
            "sipAddress": f"{number}@{self.site_url}",
            "dialInIpAddress": "",
            "enabledAutoRecordMeeting": False,
            "allowAnyUserToBeCoHost": False,
        }
        self.meetings[meeting_id] = meeting
        return json_response(meeting)
