"""Microsoft 365 simulator: Entra ID (login.microsoftonline.com) and Microsoft Graph, also Teams.

One base URL serves what Microsoft splits over two hosts, with the real paths:

- identity platform v2: ``/{tenant}/oauth2/v2.0/authorize`` (sign-in page), ``/{tenant}/adminconsent``
  and ``/{tenant}/v2.0/adminconsent``, ``/{tenant}/oauth2/v2.0/token`` (authorization_code with
  PKCE, refresh_token, client_credentials), OpenID discovery and JWKS;
- Graph v1.0: ``/users`` (``$top``, ``$select``, ``$filter``, ``@odata.nextLink``), ``/users/{id|upn}``,
  ``/me``, ``/me/memberOf``, ``/directoryRoles``, ``/organization`` and Teams
  ``/users/{id}/onlineMeetings``.

``{tenant}`` is the tenant id (a GUID derived from the seed), one of its domains, ``common`` or
``organizations``. The tenant is the demo directory's ``subsidiary.example``; its ``is_admin``
person holds the Global Administrator role. Errors follow the identity platform's AADSTS body
(``error``, ``error_description``, ``error_codes``, ``timestamp``, ``trace_id``, ``correlation_id``)
and Graph's ``{"error": {"code", "message", "innerError"}}``. Tokens are RS256 JWTs verifiable
with the served JWKS. See docs/simulators-calendar-and-others.md for every switch and decision.
"""

from __future__ import annotations

import random
import secrets
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
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
    request_params,
)
from devstack.simulators.demo import SECONDARY_DOMAIN, DemoDirectory
from devstack.simulators.microsoft_graph import (
    GLOBAL_ADMIN_TEMPLATE_ID,
    GLOBAL_READER_TEMPLATE_ID,
    DirectoryRole,
    GraphUser,
    ODataError,
    filter_users,
    parse_filter,
    parse_select,
)
from devstack.simulators.provider_kit import (
    JwtTokenStore,
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

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
GRAPH_RESOURCE = "https://graph.microsoft.com"
OIDC_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})
#: Delegated Graph permissions the simulator knows (canonical casing).
DELEGATED_PERMISSIONS = frozenset(
    {
        "User.Read",
        "User.ReadBasic.All",
        "User.Read.All",
        "User.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
        "Directory.AccessAsUser.All",
        "GroupMember.Read.All",
        "RoleManagement.Read.Directory",
        "Calendars.Read",
        "Calendars.ReadWrite",
        "Mail.Send",
        "OnlineMeetings.Read",
        "OnlineMeetings.ReadWrite",
    }
)
#: Delegated permissions only an administrator may consent to.
ADMIN_ONLY_DELEGATED = frozenset(
    {
        "User.Read.All",
        "User.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
        "Directory.AccessAsUser.All",
        "GroupMember.Read.All",
        "RoleManagement.Read.Directory",
    }
)
#: Application permissions (app roles) the simulator knows.
APPLICATION_PERMISSIONS = frozenset(
    {
        "User.Read.All",
        "User.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
        "RoleManagement.Read.Directory",
        "Calendars.Read",
        "Calendars.ReadWrite",
        "Mail.Send",
        "OnlineMeetings.ReadWrite.All",
    }
)
#: What the orgconnect app registration asks for (API permissions blade of the app).
DEFAULT_APPLICATION_PERMISSIONS = ("User.Read.All", "Calendars.ReadWrite", "OnlineMeetings.ReadWrite.All")
DEFAULT_DELEGATED_PERMISSIONS = (
    "openid",
    "profile",
    "email",
    "offline_access",
    "User.Read",
    "User.Read.All",
    "Calendars.ReadWrite",
    "OnlineMeetings.ReadWrite",
)

_READ_USERS_DELEGATED = frozenset(
    {
        "User.ReadBasic.All",
        "User.Read.All",
        "User.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
        "Directory.AccessAsUser.All",
    }
)
_READ_USERS_APP = frozenset(
    {"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
)
_READ_ROLES_DELEGATED = _READ_USERS_DELEGATED | {"RoleManagement.Read.Directory", "GroupMember.Read.All"}
_READ_ROLES_APP = _READ_USERS_APP | {"RoleManagement.Read.Directory"}

AdminConsentError = Literal["consent_required", "access_denied"]
_UNSUPPORTED_ODATA = ("$orderby", "$count", "$search", "$expand", "$skip", "$format")


_MISSING = "The request body must contain the following parameter: "
_BAD_VERIFIER = Refusal(
    "invalid_grant",
    "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
    provider_code=501481,
)
CODE_EXCHANGE = CodeExchangeRules(
    fallback=Refusal(
        "invalid_grant", "Invalid request. Request is malformed or invalid.", provider_code=9002313
    ),
    refusals={
        "missing_code": Refusal("invalid_request", _MISSING + "'code'.", provider_code=900144),
        "wrong_client": Refusal(
            "invalid_grant", "Provided grant is invalid or malformed.", provider_code=70000
        ),
        "used_code": Refusal(
            "invalid_grant",
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code "
            "or use an existing refresh token.",
            provider_code=54005,
        ),
        "expired_code": Refusal(
            "invalid_grant",
            "The provided authorization code or refresh token has expired due to inactivity. Send a new "
            "interactive authorization request for this user and resource.",
            provider_code=70008,
        ),
        "redirect_uri_mismatch": Refusal(
            "invalid_grant",
            "The redirect URI '{redirect_uri}' specified in the request does not "
            "match the redirect URI used in the authorization request.",
            provider_code=50011,
        ),
        "verifier_missing": _BAD_VERIFIER,
        "verifier_unexpected": _BAD_VERIFIER,
        "verifier_mismatch": _BAD_VERIFIER,
    },
)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _seeded_guid(*parts: object) -> str:
    return _guid(random.Random(":".join(str(p) for p in parts)))


@dataclass
class _TenantConsent:
    """Tenant-wide (admin) consent given to one app."""

    roles: set[str] = field(default_factory=set)
    delegated: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Caller:
    """Who a Graph request acts as."""

    token: IssuedToken
    kind: Literal["user", "app"]
    user: GraphUser | None
    scopes: frozenset[str]
    roles: frozenset[str]


class _ScopeError(ValueError):
    """A scope parameter that names something the simulator does not know."""


class MicrosoftSimulator(Simulator):
    """Entra ID + Microsoft Graph for one tenant (``subsidiary.example`` by default).

    Options (constructor keywords, also changeable with ``PATCH /_sim/options`` unless noted):

    - ``domain`` (constructor only): the demo directory domain that forms the tenant.
    - ``tenant_display_name`` (constructor only): the organization's display name.
    - ``rate_limit_per_second`` (100): Graph calls per second per app and signed-in user; 0 = off.
    - ``retry_after_seconds`` (5): ``Retry-After`` of an injected 429.
    - ``code_ttl_seconds`` (600), ``access_token_ttl_seconds`` (3599),
      ``refresh_token_ttl_seconds`` (90 days).
    - ``revoke_redeemed_refresh_tokens`` (False): Entra keeps a redeemed refresh token valid;
      True makes the simulator revoke it when a new one is issued.
    - ``admin_consent_error`` (``"consent_required"``): the ``error`` of a refused admin consent,
      as Microsoft documents it; ``"access_denied"`` is the alternative some clients expect.
    - ``teams_application_access_policy`` (True): whether app-only tokens may create Teams
      meetings (Microsoft requires an application access policy set by an admin).
    - ``preconsented`` (False, constructor only): start with the default app admin-consented.
    """

    name = "microsoft"

    def __init__(
        self,
        demo: DemoDirectory | None = None,
        *,
        seed: int = 7,
        clock: Callable[[], float] | None = None,
        domain: str = SECONDARY_DOMAIN,
        tenant_display_name: str = "Subsidiary Example Ltd",
        rate_limit_per_second: int = 100,
        retry_after_seconds: int = 5,
        code_ttl_seconds: float = 600,
        access_token_ttl_seconds: float = 3599,
        refresh_token_ttl_seconds: float = 90 * 86400,
        revoke_redeemed_refresh_tokens: bool = False,
        admin_consent_error: AdminConsentError = "consent_required",
        teams_application_access_policy: bool = True,
        preconsented: bool = False,
        **base_options: Any,
    ) -> None:
        self.domain = domain.lower()
        self.tenant_display_name = tenant_display_name
        self.rate_limit_per_second = rate_limit_per_second
        self.retry_after_seconds = retry_after_seconds
        self.code_ttl_seconds = code_ttl_seconds
        self.access_token_ttl_seconds = access_token_ttl_seconds
        self.refresh_token_ttl_seconds = refresh_token_ttl_seconds
        self.revoke_redeemed_refresh_tokens = revoke_redeemed_refresh_tokens
        self.admin_consent_error: AdminConsentError = admin_consent_error
        self.teams_application_access_policy = teams_application_access_policy
        self.preconsented = preconsented
        self.signing_key = shared_signing_key()
        # Filled by seed_state (called from the base constructor).
        self.tenant_id = ""
        self.users: dict[str, GraphUser] = {}
        self.roles: dict[str, DirectoryRole] = {}
        self.consents: dict[str, _TenantConsent] = {}
        self.meetings: dict[str, dict[str, Any]] = {}
        super().__init__(demo, seed=seed, clock=clock, **base_options)
        self.default_app.meta.update(
            {
                "application_permissions": list(DEFAULT_APPLICATION_PERMISSIONS),
                "delegated_permissions": list(DEFAULT_DELEGATED_PERMISSIONS),
            }
        )
        self._add_routes()

    # ----- seeding ---------------------------------------------------------------------------

    @property
    def initial_domain(self) -> str:
        """The tenant's ``*.onmicrosoft.com`` domain."""
        return self.domain.split(".", 1)[0].replace("-", "") + "example.onmicrosoft.com"

    @property
    def domains(self) -> list[str]:
        """Verified domains, default first."""
        return [self.domain, self.initial_domain]

    def seed_state(self, params: Mapping[str, Any]) -> None:
        """Build the tenant from the demo directory (ids come from ``self.rng``)."""
        self.tenant_id = _seeded_guid("microsoft", self.seed, "tenant")
        admin_role = DirectoryRole(
            id=_guid(self.rng),
            display_name="Global Administrator",
            description="Can manage all aspects of Microsoft Entra ID and Microsoft services that use "
            "Microsoft Entra identities.",
            role_template_id=GLOBAL_ADMIN_TEMPLATE_ID,
        )
        reader_role = DirectoryRole(
            id=_guid(self.rng),
            display_name="Global Reader",
            description="Can read everything that a Global Administrator can, but not update anything.",
            role_template_id=GLOBAL_READER_TEMPLATE_ID,
        )
        self.roles = {admin_role.id: admin_role, reader_role.id: reader_role}
        self.users = {}
        created = datetime(2021, 3, 1, 9, 0, tzinfo=UTC).timestamp()
        for index, person in enumerate(self.demo.in_domain(self.domain)):
            user = GraphUser(
                id=_guid(self.rng),
                user_principal_name=person.email,
                given_name=person.first_name,
                surname=person.last_name,
                created=_iso(created + index * 86400),
                job_title="IT Administrator" if person.is_admin else None,
            )
            if person.is_admin:
                user.member_of_roles.add(admin_role.id)
            self.users[user.id] = user
        self.consents = {}
        if self.preconsented:
            self.consents[self.default_app.client_id] = _TenantConsent(
                set(DEFAULT_APPLICATION_PERMISSIONS), set(DEFAULT_DELEGATED_PERMISSIONS) - OIDC_SCOPES
            )
        self.meetings = {}
        if not isinstance(self.tokens, JwtTokenStore):
            self.tokens = JwtTokenStore(self.clock)
        self.page_tokens = PageTokens(self.clock, ttl_seconds=86400)
        self.limiter = RateLimiter(self.clock, self.rate_limit_per_second)

    @property
    def jwt_tokens(self) -> JwtTokenStore:
        """The token store (replaced by a ``JwtTokenStore`` when the state is seeded)."""
        assert isinstance(self.tokens, JwtTokenStore)
        return self.tokens

    @property
    def global_admin_role(self) -> DirectoryRole:
        """The Global Administrator role object of the tenant."""
        return next(r for r in self.roles.values() if r.role_template_id == GLOBAL_ADMIN_TEMPLATE_ID)

    def is_global_admin(self, user: GraphUser) -> bool:
        """Whether ``user`` holds the Global Administrator role."""
        return self.global_admin_role.id in user.member_of_roles

    def find_user(self, key: str) -> GraphUser | None:
        """A user by object id or userPrincipalName (case-insensitive)."""
        if key in self.users:
            return self.users[key]
        lowered = key.lower()
        return next((u for u in self.users.values() if u.user_principal_name.lower() == lowered), None)

    # ----- control-API hooks -----------------------------------------------------------------

    def _control_shape(self, user: GraphUser) -> dict[str, Any]:
        return {
            **user.to_graph(
                ["id", "userPrincipalName", "mail", "displayName", "givenName", "surname", "accountEnabled"]
            ),
            "email": user.mail,
            "isGlobalAdmin": self.is_global_admin(user),
        }

    def control_list_users(self) -> list[dict[str, Any]]:
        """Every user of the tenant with its admin flag."""
        return [self._control_shape(u) for u in sorted(self.users.values(), key=lambda u: u.created)]

    def control_add_user(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Add a user: ``{"email", "first_name"?, "last_name"?, "is_admin"?, "account_enabled"?}``."""
        email = str(body.get("email", "")).strip()
        if "@" not in email:
            raise ControlError(400, "email is required")
        if email.rsplit("@", 1)[1].lower() not in self.domains:
            raise ControlError(400, f"{email} is not in a verified domain of the tenant: {self.domains}")
        if self.find_user(email) is not None:
            raise ControlError(409, f"{email} already exists")
        local = email.split("@", 1)[0]
        user = GraphUser(
            id=_guid(self.rng),
            user_principal_name=email,
            given_name=str(body.get("first_name") or local.split(".")[0].title()),
            surname=str(body.get("last_name") or (local.split(".")[1].title() if "." in local else "")),
            created=_iso(self.clock.now()),
            account_enabled=bool(body.get("account_enabled", True)),
        )
        if body.get("is_admin"):
            user.member_of_roles.add(self.global_admin_role.id)
        self.users[user.id] = user
        return self._control_shape(user)

    def control_remove_user(self, email: str) -> None:
        """Delete a user; its tokens stop working."""
        user = self.find_user(email)
        if user is None:
            raise ControlError(404, f"no user {email}")
        del self.users[user.id]
        self.tokens.revoke_where(lambda t: t.subject == user.id)

    def control_update_user(self, email: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``{"email": new}`` renames (UPN and mail; the id stays), ``first_name``, ``last_name``,
        ``is_admin``, ``account_enabled`` or ``status`` (``active`` / ``disabled``)."""
        user = self.find_user(email)
        if user is None:
            raise ControlError(404, f"no user {email}")
        if "email" in body:
            new_email = str(body["email"]).strip()
            if "@" not in new_email or new_email.rsplit("@", 1)[1].lower() not in self.domains:
                raise ControlError(400, f"{new_email} is not in a verified domain of the tenant")
            clash = self.find_user(new_email)
            if clash is not None and clash is not user:
                raise ControlError(409, f"{new_email} already exists")
            user.user_principal_name = new_email
        if "first_name" in body:
            user.given_name = str(body["first_name"])
        if "last_name" in body:
            user.surname = str(body["last_name"])
        if "is_admin" in body:
            if body["is_admin"]:
                user.member_of_roles.add(self.global_admin_role.id)
            else:
                user.member_of_roles.discard(self.global_admin_role.id)
        if "account_enabled" in body:
            user.account_enabled = bool(body["account_enabled"])
        if "status" in body:
            status = str(body["status"])
            if status not in ("active", "disabled", "inactive"):
                raise ControlError(400, "status must be active or disabled")
            user.account_enabled = status == "active"
        return self._control_shape(user)

    def apply_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Change switches at run time (see the class docstring)."""
        switches: dict[str, type] = {
            "rate_limit_per_second": int,
            "retry_after_seconds": int,
            "code_ttl_seconds": float,
            "access_token_ttl_seconds": float,
            "refresh_token_ttl_seconds": float,
            "revoke_redeemed_refresh_tokens": bool,
            "teams_application_access_policy": bool,
            "admin_consent_error": str,
        }
        if options.get("admin_consent_error", "consent_required") not in (
            "consent_required",
            "access_denied",
        ):
            raise ControlError(400, "admin_consent_error must be consent_required or access_denied")
        return apply_switches(self, options, switches)

    def dev_info(self, base_url: str) -> dict[str, Any]:
        """Endpoints, the default app's credentials and the tenant (id, domains, admin)."""
        base = base_url.rstrip("/")
        admin = next((u for u in self.users.values() if self.is_global_admin(u)), None)
        return {
            **self.base_dev_info(base),
            "tenant_id": self.tenant_id,
            "tenant_domain": self.domain,
            "tenant_domains": self.domains,
            "tenants": [
                {"tenant_id": self.tenant_id, "domain": self.domain, "display_name": self.tenant_display_name}
            ],
            "admin_email": admin.user_principal_name if admin else None,
            "authority": f"{base}/{self.tenant_id}",
            "authorize_url": f"{base}/{self.tenant_id}/oauth2/v2.0/authorize",
            "token_url": f"{base}/{self.tenant_id}/oauth2/v2.0/token",
            "admin_consent_url": f"{base}/{self.tenant_id}/v2.0/adminconsent",
            "graph_url": f"{base}/v1.0",
            "issuer": f"{base}/{self.tenant_id}/v2.0",
            "jwks_uri": f"{base}/{self.tenant_id}/discovery/v2.0/keys",
            "openid_configuration_url": f"{base}/{self.tenant_id}/v2.0/.well-known/openid-configuration",
            "global_admin_role_template_id": GLOBAL_ADMIN_TEMPLATE_ID,
            "application_permissions": list(DEFAULT_APPLICATION_PERMISSIONS),
            "delegated_permissions": list(DEFAULT_DELEGATED_PERMISSIONS),
        }

    # ----- routes ----------------------------------------------------------------------------

    def _add_routes(self) -> None:
        add = self.add_route
        add("/<tenant>/oauth2/v2.0/authorize", self._authorize, methods=["GET"], target="authorize")
        add("/<tenant>/oauth2/v2.0/authorize", self._authorize_submit, methods=["POST"], target="authorize")
        for rule in ("/<tenant>/adminconsent", "/<tenant>/v2.0/adminconsent"):
            add(rule, self._admin_consent, methods=["GET"], target="authorize")
            add(rule, self._admin_consent_submit, methods=["POST"], target="authorize")
        add("/<tenant>/oauth2/v2.0/token", self._token, methods=["POST"], target="token")
        add(
            "/<tenant>/v2.0/.well-known/openid-configuration",
            self._discovery,
            methods=["GET"],
            target="discovery",
        )
        add("/<tenant>/discovery/v2.0/keys", self._jwks, methods=["GET"], target="discovery")
        add("/v1.0/users", self._users_list, methods=["GET"], target="api")
        add("/v1.0/users/<key>", self._users_get, methods=["GET"], target="api")
        add("/v1.0/users/<key>/memberOf", self._member_of, methods=["GET"], target="api")
        add("/v1.0/users/<key>/onlineMeetings", self._create_meeting, methods=["POST"], target="api")
        add("/v1.0/me", self._me, methods=["GET"], target="api")
        add("/v1.0/me/memberOf", self._member_of, methods=["GET"], target="api")
        add("/v1.0/me/onlineMeetings", self._create_meeting, methods=["POST"], target="api")
        add("/v1.0/directoryRoles", self._roles_list, methods=["GET"], target="api")
        add("/v1.0/directoryRoles/<role_id>", self._role_get, methods=["GET"], target="api")
        add("/v1.0/directoryRoles/<role_id>/members", self._role_members, methods=["GET"], target="api")
        add("/v1.0/directoryRoles(roleTemplateId=<template>)", self._role_get, methods=["GET"], target="api")
        add(
            "/v1.0/directoryRoles(roleTemplateId=<template>)/members",
            self._role_members,
            methods=["GET"],
            target="api",
        )
        add("/v1.0/organization", self._organization, methods=["GET"], target="api")

    # ----- error bodies ----------------------------------------------------------------------

    def _aadsts_body(self, error: str, code: int, message: str) -> dict[str, Any]:
        now = self.clock.now()
        trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        return {
            "error": error,
            "error_description": f"AADSTS{code}: {message}\r\nTrace ID: {trace_id}\r\n"
            f"Correlation ID: {correlation_id}\r\nTimestamp: {stamp}",
            "error_codes": [code],
            "timestamp": stamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": f"https://login.microsoftonline.com/error?code={code}",
        }

    def _aadsts(self, error: str, code: int, message: str, status: int = 400) -> Response:
        return json_response(
            self._aadsts_body(error, code, message),
            status,
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    def token_refusal_response(self, refusal: Refusal) -> Response:
        """A refused token request, in the AADSTS shape."""
        return self._aadsts(refusal.error, refusal.provider_code or 0, refusal.description, refusal.status)

    def _client_auth_rules(self) -> ClientAuthRules:
        """Entra ID's client authentication: Basic or the body, never both."""
        return ClientAuthRules(
            methods=frozenset({"basic", "body"}),
            fallback=Refusal(
                "invalid_client",
                "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                "secret value, not the client secret ID, for a secret added to app '{client_id}'.",
                401,
                7000215,
            ),
            refusals={
                "auth_conflict": Refusal(
                    "invalid_request",
                    "Only one client authentication method may be used: HTTP Basic or client_secret in "
                    "the body.",
                    provider_code=90023,
                ),
                "missing_client_id": Refusal(
                    "invalid_request", _MISSING + "'client_id'.", provider_code=900144
                ),
                "unknown_client": Refusal(
                    "unauthorized_client",
                    "Application with identifier '{client_id}' was not found in the directory "
                    f"'{self.tenant_display_name}'.",
                    provider_code=700016,
                ),
                "missing_secret": Refusal(
                    "invalid_client", _MISSING + "'client_assertion' or 'client_secret'.", 401, 7000218
                ),
            },
        )

    def oauth_error_response(self, error: str, description: str, status: int = 400) -> Response:
        """An injected token-endpoint error, in the AADSTS shape."""
        if error == "invalid_client":
            return self._aadsts("invalid_client", 7000215, "Invalid client secret provided.", 401)
        return self._aadsts(
            error,
            50173,
            "The provided grant has expired due to it being revoked, a fresh auth token is needed.",
            status,
        )

    def _graph_error(
        self, request: Request, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> Response:
        request_id = str(uuid.uuid4())
        client_request_id = request.headers.get("client-request-id") or request_id
        body = {
            "error": {
                "code": code,
                "message": message,
                "innerError": {
                    "date": _iso(self.clock.now()),
                    "request-id": request_id,
                    "client-request-id": client_request_id,
                },
            }
        }
        merged = {"request-id": request_id, "client-request-id": client_request_id, **(headers or {})}
        return json_response(body, status, headers=merged)

    def error_response(self, status: int, message: str, request: Request) -> Response:
        """Graph's error shape on Graph paths, an AADSTS body on the identity paths."""
        identity_paths = ("/oauth2/", "/adminconsent", "/discovery/", "/.well-known/")
        if not any(marker in request.path for marker in identity_paths):
            codes = {
                400: "BadRequest",
                401: "InvalidAuthenticationToken",
                403: "Authorization_RequestDenied",
                404: "Request_ResourceNotFound",
                405: "Request_BadRequest",
                429: "TooManyRequests",
                503: "serviceNotAvailable",
                504: "gatewayTimeout",
            }
            return self._graph_error(request, status, codes.get(status, "generalException"), message)
        error = "temporarily_unavailable" if status in (503, 504) else "server_error"
        if status < 500:
            error = "invalid_request"
        return self._aadsts(error, 90033 if status >= 500 else 900144, message, status)

    def rate_limited_response(self, request: Request, target: str) -> Response:
        """A throttled call: 429 with ``Retry-After`` in seconds."""
        return self._throttled(request, self.retry_after_seconds)

    def _throttled(self, request: Request, retry_after: int) -> Response:
        headers = {"Retry-After": str(retry_after)}
        if not request.path.startswith("/v1.0/"):
            return json_response(
                self._aadsts_body(
                    "temporarily_unavailable",
                    50196,
                    "The server terminated an operation because it encountered a client request loop.",
                ),
                429,
                headers=headers,
            )
        return self._graph_error(
            request,
            429,
            "TooManyRequests",
            "Too many requests from Identifier: tenant and application. Please try again later.",
            headers,
        )

    # ----- tenants, apps, scopes --------------------------------------------------------------

    def _tenant_kind(self, segment: str) -> Literal["tenant", "multi"] | None:
        lowered = segment.lower()
        if lowered in ("common", "organizations"):
            return "multi"
        if lowered == self.tenant_id or lowered in self.domains:
            return "tenant"
        return None

    def _tenant_not_found(self, segment: str) -> str:
        return (
            f"Tenant '{segment}' not found. Check to make sure you have the correct tenant ID "
            "and are signing into the correct cloud."
        )

    def _app_permissions(self, app: OAuthApp) -> tuple[set[str], set[str]]:
        """(application permissions, delegated permissions) of an app registration."""
        roles = set(app.meta.get("application_permissions", DEFAULT_APPLICATION_PERMISSIONS))
        delegated = set(app.meta.get("delegated_permissions", DEFAULT_DELEGATED_PERMISSIONS))
        return roles, delegated

    def _normalize_scopes(self, raw: str) -> tuple[list[str], bool]:
        """Requested delegated scopes in canonical names, and whether ``.default`` was asked."""
        by_lower = {name.lower(): name for name in DELEGATED_PERMISSIONS}
        result: list[str] = []
        wants_default = False
        for item in split_scopes(raw):
            lowered = item.lower()
            if lowered in OIDC_SCOPES:
                result.append(lowered)
                continue
            for prefix in (GRAPH_RESOURCE.lower() + "/", GRAPH_APP_ID + "/"):
                if lowered.startswith(prefix):
                    lowered = lowered[len(prefix) :]
                    break
            else:
                if "://" in lowered or "/" in lowered:
                    raise _ScopeError(item)
            if lowered == ".default":
                wants_default = True
                continue
            canonical = by_lower.get(lowered)
            if canonical is None:
                raise _ScopeError(item)
            result.append(canonical)
        return list(dict.fromkeys(result)), wants_default

    def _signin_options(self, hint: str | None) -> list[SignInOption]:
        hinted = self.find_user(hint) if hint else None
        chosen = hinted or next((u for u in self.users.values() if self.is_global_admin(u)), None)
        return [
            SignInOption(
                value=u.id,
                label=f"{u.display_name} <{u.user_principal_name}>"
                + (" - Global Administrator" if self.is_global_admin(u) else ""),
                group=self.domain,
                selected=chosen is not None and u.id == chosen.id,
            )
            for u in sorted(self.users.values(), key=lambda u: u.created)
        ]

    def _client_and_redirect(
        self, segment: str, params: Mapping[str, str]
    ) -> tuple[OAuthApp, str] | Response:
        """Validate tenant, client and redirect URI; errors here are pages, never redirects."""
        if self._tenant_kind(segment) is None:
            return html_error_page("Sign in", f"AADSTS90002: {self._tenant_not_found(segment)}", 400)
        client_id = params.get("client_id", "")
        app = self.apps.get(client_id)
        if app is None or app.kind != "oauth":
            return html_error_page(
                "Sign in",
                f"AADSTS700016: Application with identifier '{client_id}' was not found in the directory "
                f"'{self.tenant_display_name}'. This can happen if the application has not been installed by "
                "the administrator of the tenant or consented to by any user in the tenant.",
                400,
            )
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in app.redirect_uris:
            return html_error_page(
                "Sign in",
                f"AADSTS50011: The redirect URI '{redirect_uri}' specified in the request does not match the "
                f"redirect URIs configured for the application '{client_id}'.",
                400,
            )
        return app, redirect_uri

    def _error_redirect(
        self, redirect_uri: str, state: str | None, error: str, code: int, message: str, **extra: str
    ) -> Response:
        body = self._aadsts_body(error, code, message)
        return redirect_with_params(
            redirect_uri,
            {"error": error, **extra, "error_description": body["error_description"], "state": state},
        )

    # ----- /authorize ------------------------------------------------------------------------

    def _authorize(self, request: Request, tenant: str) -> Response:
        params = {key: request.args.get(key, "") for key in request.args}
        checked = self._client_and_redirect(tenant, params)
        if isinstance(checked, Response):
            return checked
        app, redirect_uri = checked
        state = params.get("state")
        if params.get("response_type") != "code":
            return self._error_redirect(
                redirect_uri,
                state,
                "unsupported_response_type",
                700054,
                f"response_type '{params.get('response_type', '')}' is not enabled for the application.",
            )
        if params.get("response_mode", "query") != "query":
            return html_error_page(
                "Sign in", "The simulator only implements response_mode=query for the code flow.", 400
            )
        if not params.get("scope"):
            return self._error_redirect(
                redirect_uri,
                state,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'scope'.",
            )
        try:
            scopes, wants_default = self._normalize_scopes(params["scope"])
        except _ScopeError as exc:
            return self._error_redirect(
                redirect_uri,
                state,
                "invalid_scope",
                70011,
                f"The provided value for the input parameter 'scope' is not valid. "
                f"The scope {exc} is not valid.",
            )
        method = params.get("code_challenge_method") or None
        if method not in (None, "S256", "plain") or (method and not params.get("code_challenge")):
            return self._error_redirect(
                redirect_uri, state, "invalid_request", 501491, "Invalid size of Code_Challenge parameter."
            )
        if params.get("prompt") == "none":
            return self._error_redirect(
                redirect_uri,
                state,
                "login_required",
                50058,
                "A silent sign-in request was sent but no user is signed in.",
            )
        shown = scopes + ([f"{GRAPH_RESOURCE}/.default"] if wants_default else [])
        return render_signin_page(
            title="Sign in to your account",
            app_name=app.name,
            action_url=request.path,
            hidden=params,
            options=self._signin_options(params.get("login_hint")),
            scopes=shown,
        )

    def _authorize_submit(self, request: Request, tenant: str) -> Response:
        params = {key: request.form.get(key, "") for key in request.form}
        checked = self._client_and_redirect(tenant, params)
        if isinstance(checked, Response):
            return checked
        app, redirect_uri = checked
        state = params.get("state")
        try:
            scopes, wants_default = self._normalize_scopes(params.get("scope", ""))
        except _ScopeError:
            return html_error_page("Sign in", "The scope parameter was altered.", 400)
        if params.get("decision") != "approve":
            return self._error_redirect(
                redirect_uri,
                state,
                "access_denied",
                65004,
                "User declined to consent to access the app.",
                error_subcode="cancel",
            )
        user = self.users.get(params.get("user", ""))
        if user is None:
            return html_error_page(
                "Sign in", "AADSTS50034: The user account does not exist in this directory."
            )
        if not user.account_enabled:
            return html_error_page("Sign in", "AADSTS50057: The user account is disabled.", 400)
        consent = self.consents.get(app.client_id, _TenantConsent())
        _, app_delegated = self._app_permissions(app)
        granted = set(scopes)
        if wants_default:
            granted |= app_delegated | consent.delegated
        needs_admin = (granted & ADMIN_ONLY_DELEGATED) - consent.delegated
        is_admin = self.is_global_admin(user)
        if needs_admin and not is_admin:
            return self._error_redirect(
                redirect_uri,
                state,
                "access_denied",
                90094,
                f"{app.name} needs permission to access resources in your organization that only an admin "
                "can grant. Please ask an admin to grant permission to this app before you can use it.",
            )
        if wants_default and is_admin:
            # An admin's consent to /.default is tenant-wide (Microsoft Q&A, providers.md section 3).
            self._record_admin_consent(app, ())
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
            extra={"nonce": params.get("nonce") or None},
            nbytes=48,
        )
        return redirect_with_params(redirect_uri, {"code": record.code, "state": state})

    # ----- admin consent ---------------------------------------------------------------------

    def _admin_consent(self, request: Request, tenant: str) -> Response:
        params = {key: request.args.get(key, "") for key in request.args}
        checked = self._client_and_redirect(tenant, params)
        if isinstance(checked, Response):
            return checked
        app, redirect_uri = checked
        is_v2 = "/v2.0/" in request.path
        if is_v2 and not params.get("scope"):
            return self._error_redirect(
                redirect_uri,
                params.get("state"),
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'scope'.",
            )
        roles, delegated = self._app_permissions(app)
        listed = [f"{GRAPH_RESOURCE}/{r} (application)" for r in sorted(roles)] + [
            f"{GRAPH_RESOURCE}/{d} (delegated)" for d in sorted(delegated - OIDC_SCOPES)
        ]
        return render_signin_page(
            title="Permissions requested - Accept for your organization",
            app_name=app.name,
            action_url=request.path,
            hidden=params,
            options=self._signin_options(params.get("login_hint")),
            scopes=listed,
            message="Only a Global Administrator can consent on behalf of the organization.",
        )

    def _admin_consent_submit(self, request: Request, tenant: str) -> Response:
        params = {key: request.form.get(key, "") for key in request.form}
        checked = self._client_and_redirect(tenant, params)
        if isinstance(checked, Response):
            return checked
        app, redirect_uri = checked
        state = params.get("state")
        error = self.admin_consent_error
        if params.get("decision") != "approve":
            return self._error_redirect(
                redirect_uri,
                state,
                error,
                65004,
                "The resource owner or authorization server denied the request.",
            )
        user = self.users.get(params.get("user", ""))
        if user is None or not user.account_enabled:
            return html_error_page("Sign in", "AADSTS50057: The user account is disabled or does not exist.")
        if not self.is_global_admin(user):
            return self._error_redirect(
                redirect_uri,
                state,
                error,
                90093,
                f"{app.name} is requesting one or more permissions that you are not authorized to grant. "
                "Contact an administrator, who can consent to this application on your behalf.",
            )
        try:
            extra_scopes, _ = self._normalize_scopes(params.get("scope", ""))
        except _ScopeError:
            extra_scopes = []
        self._record_admin_consent(app, extra_scopes)
        answer: dict[str, str | None] = {"tenant": self.tenant_id, "state": state, "admin_consent": "True"}
        if "/v2.0/" in request.path:
            answer["scope"] = params.get("scope")
        return redirect_with_params(redirect_uri, answer)

    def _record_admin_consent(self, app: OAuthApp, extra_scopes: Iterable[str]) -> None:
        roles, delegated = self._app_permissions(app)
        extra = set(extra_scopes)
        consent = self.consents.setdefault(app.client_id, _TenantConsent())
        consent.roles |= roles | (extra & APPLICATION_PERMISSIONS)
        consent.delegated |= (delegated | (extra & DELEGATED_PERMISSIONS)) - OIDC_SCOPES

    # ----- token endpoint --------------------------------------------------------------------

    def _token(self, request: Request, tenant: str) -> Response:
        params = request_params(request)
        issuer = f"{request.host_url.rstrip('/')}/{self.tenant_id}/v2.0"
        tenant_kind = self._tenant_kind(tenant)
        if tenant_kind is None:
            return self._aadsts("invalid_request", 90002, self._tenant_not_found(tenant))
        grant_type = params.get("grant_type", "")
        if not grant_type:
            return self._aadsts(
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            )
        if grant_type not in ("authorization_code", "refresh_token", "client_credentials"):
            return self._aadsts(
                "unsupported_grant_type", 70003, "The app requested an unsupported grant type."
            )
        app = authenticate_token_client(request, params, self.apps, self._client_auth_rules())
        if grant_type == "client_credentials":
            return self._client_credentials(app, params, tenant_kind)
        if grant_type == "authorization_code":
            return self._authorization_code(app, params, issuer)
        return self._refresh(app, params, issuer)

    def _authorization_code(self, app: OAuthApp, params: Mapping[str, str], issuer: str) -> Response:
        record = redeem_authorization_code(params, app.client_id, self.codes, self.tokens, CODE_EXCHANGE)
        user = self.users.get(record.subject)
        if user is None:
            return self._aadsts("invalid_grant", 50034, "The user account does not exist in this directory.")
        if not user.account_enabled:
            return self._aadsts("invalid_grant", 50057, "The user account is disabled.")
        scopes = split_scopes(record.scope)
        return self._issue_user_tokens(app, user, scopes, new_grant_id(), record.extra.get("nonce"), issuer)

    def _refresh(self, app: OAuthApp, params: Mapping[str, str], issuer: str) -> Response:
        value = params.get("refresh_token", "")
        if not value:
            return self._aadsts(
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'refresh_token'.",
            )
        record = self.tokens.find(value)
        if record is None or record.kind != "refresh":
            return self._aadsts("invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
        if record.revoked:
            return self._aadsts(
                "invalid_grant",
                50173,
                "The provided grant has expired due to it being revoked, a fresh auth token is needed.",
            )
        if self.clock.now() >= record.expires_at:
            return self._aadsts("invalid_grant", 700082, "The refresh token has expired due to inactivity.")
        if record.client_id != app.client_id:
            return self._aadsts("invalid_grant", 70000, "Provided grant is invalid or malformed.")
        user = self.users.get(record.subject)
        if user is None:
            return self._aadsts("invalid_grant", 50034, "The user account does not exist in this directory.")
        if not user.account_enabled:
            return self._aadsts("invalid_grant", 50057, "The user account is disabled.")
        granted = split_scopes(record.scope)
        if params.get("scope"):
            try:
                asked, _ = self._normalize_scopes(params["scope"])
            except _ScopeError as exc:
                return self._aadsts("invalid_scope", 70011, f"The scope {exc} is not valid.")
            missing = set(asked) - set(granted) - {"offline_access", "openid", "profile", "email"}
            if missing:
                return self._aadsts(
                    "invalid_grant",
                    65001,
                    f"The user or administrator has not consented to use the application with ID "
                    f"'{app.client_id}'. Send an interactive authorization request for this user and "
                    "resource.",
                )
        if self.revoke_redeemed_refresh_tokens:
            self.tokens.revoke(value)
        return self._issue_user_tokens(app, user, granted, record.grant_id, None, issuer)

    def _client_credentials(
        self, app: OAuthApp, params: Mapping[str, str], tenant_kind: Literal["tenant", "multi"]
    ) -> Response:
        scope = params.get("scope", "")
        if not scope:
            return self._aadsts(
                "invalid_request", 900144, "The request body must contain the following parameter: 'scope'."
            )
        scopes = split_scopes(scope)
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            return self._aadsts(
                "invalid_scope",
                1002012,
                f"The provided value for scope {scope} is not valid. Client credential flows must have a "
                "scope value with /.default suffixed to the resource identifier (application ID URI).",
            )
        resource = scopes[0][: -len("/.default")].lower()
        if resource not in (GRAPH_RESOURCE, GRAPH_RESOURCE + "/", GRAPH_APP_ID):
            return self._aadsts(
                "invalid_resource",
                500011,
                f"The resource principal named {resource} was not found in the tenant named "
                f"{self.tenant_display_name}.",
            )
        if tenant_kind != "tenant":
            return self._aadsts(
                "invalid_request",
                50059,
                "No tenant-identifying information found in either the request or implied by any provided "
                "credentials.",
            )
        consent = self.consents.get(app.client_id)
        if consent is None:
            return self._aadsts(
                "unauthorized_client",
                700016,
                f"Application with identifier '{app.client_id}' was not found in the directory "
                f"'{self.tenant_display_name}'. This can happen if the application has not been installed by "
                "the administrator of the tenant or consented to by any user in the tenant.",
            )
        service_principal = _seeded_guid("microsoft", self.seed, "sp", app.client_id)
        roles = sorted(consent.roles)
        access = self.jwt_tokens.mint_encoded(
            "access",
            lambda rec: self._graph_jwt(rec, app, None, service_principal, [], roles),
            client_id=app.client_id,
            subject=service_principal,
            ttl_seconds=self.access_token_ttl_seconds,
            grant_id=new_grant_id(),
            extra={"kind": "app", "roles": roles},
        )
        ttl = int(self.access_token_ttl_seconds)
        return json_response(
            {"token_type": "Bearer", "expires_in": ttl, "ext_expires_in": ttl, "access_token": access.value},
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    def _issue_user_tokens(
        self, app: OAuthApp, user: GraphUser, scopes: Sequence[str], grant_id: str, nonce: Any, issuer: str
    ) -> Response:
        graph_scopes = [s for s in scopes if s not in OIDC_SCOPES]
        access = self.jwt_tokens.mint_encoded(
            "access",
            lambda rec: self._graph_jwt(rec, app, user, user.id, graph_scopes, []),
            client_id=app.client_id,
            subject=user.id,
            ttl_seconds=self.access_token_ttl_seconds,
            grant_id=grant_id,
            scope=" ".join(scopes),
            extra={"kind": "user"},
        )
        ttl = int(self.access_token_ttl_seconds)
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(graph_scopes + [s for s in ("openid", "profile", "email") if s in scopes]),
            "expires_in": ttl,
            "ext_expires_in": ttl,
            "access_token": access.value,
        }
        if "offline_access" in scopes:
            refresh = self.tokens.mint(
                "refresh",
                client_id=app.client_id,
                subject=user.id,
                ttl_seconds=self.refresh_token_ttl_seconds,
                grant_id=grant_id,
                scope=" ".join(scopes),
                prefix="0.A",
                nbytes=96,
            )
            body["refresh_token"] = refresh.value
        if "openid" in scopes:
            body["id_token"] = self._id_token(app, user, scopes, nonce, issuer)
        return json_response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    def _graph_jwt(
        self,
        record: IssuedToken,
        app: OAuthApp,
        user: GraphUser | None,
        object_id: str,
        scopes: Sequence[str],
        roles: Sequence[str],
    ) -> str:
        now = int(self.clock.now())
        claims: dict[str, Any] = {
            "aud": GRAPH_RESOURCE,
            "iss": f"https://sts.windows.net/{self.tenant_id}/",
            "iat": now,
            "nbf": now,
            "exp": int(record.expires_at),
            "appid": app.client_id,
            "app_displayname": app.name,
            "appidacr": "1",
            "idtyp": "user" if user else "app",
            "oid": object_id,
            "sub": object_id,
            "tid": self.tenant_id,
            "uti": str(record.extra.get("jti", ""))[:22],
            "ver": "1.0",
        }
        if user is not None:
            claims.update(
                {
                    "scp": " ".join(scopes),
                    "upn": user.user_principal_name,
                    "unique_name": user.user_principal_name,
                    "name": user.display_name,
                    "given_name": user.given_name,
                    "family_name": user.surname,
                }
            )
            if self.is_global_admin(user):
                claims["wids"] = [GLOBAL_ADMIN_TEMPLATE_ID]
        else:
            claims["roles"] = list(roles)
        return self.signing_key.sign(claims)

    def _id_token(
        self, app: OAuthApp, user: GraphUser, scopes: Sequence[str], nonce: Any, issuer: str
    ) -> str:
        now = int(self.clock.now())
        claims: dict[str, Any] = {
            "aud": app.client_id,
            "iss": issuer,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "tid": self.tenant_id,
            "oid": user.id,
            # ``sub`` is pairwise per app in Entra ID; ``oid`` is the stable user id.
            "sub": _seeded_guid("microsoft", "sub", app.client_id, user.id).replace("-", ""),
            "preferred_username": user.user_principal_name,
            "ver": "2.0",
        }
        if "email" in scopes:
            claims["email"] = user.mail
        if "profile" in scopes:
            claims["name"] = user.display_name
        if nonce:
            claims["nonce"] = nonce
        return self.signing_key.sign(claims)

    # ----- discovery ------------------------------------------------------------------------

    def _discovery(self, request: Request, tenant: str) -> Response:
        if self._tenant_kind(tenant) is None:
            return self._aadsts("invalid_tenant", 90002, self._tenant_not_found(tenant))
        base = request.host_url.rstrip("/")
        issuer_tenant = self.tenant_id if self._tenant_kind(tenant) == "tenant" else "{tenantid}"
        return json_response(
            {
                "issuer": f"{base}/{issuer_tenant}/v2.0",
                "authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/{tenant}/oauth2/v2.0/token",
                "jwks_uri": f"{base}/{tenant}/discovery/v2.0/keys",
                "userinfo_endpoint": f"{base}/oidc/userinfo",
                "response_types_supported": ["code"],
                "response_modes_supported": ["query"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                "code_challenge_methods_supported": ["S256", "plain"],
                "claims_supported": [
                    "sub",
                    "iss",
                    "aud",
                    "exp",
                    "iat",
                    "nbf",
                    "tid",
                    "oid",
                    "preferred_username",
                    "email",
                    "name",
                    "nonce",
                    "ver",
                ],
                "tenant_region_scope": "NA",
                "cloud_instance_name": "microsoftonline.com",
            }
        )

    def _jwks(self, request: Request, tenant: str) -> Response:
        return json_response(self.signing_key.jwks())

    # ----- Graph -----------------------------------------------------------------------------

    def _caller(self, request: Request) -> _Caller:
        """Authenticate a Graph call and apply the rate limit; raises ``SimResponse`` on refusal."""
        value = bearer_token(request)
        www = {
            "WWW-Authenticate": 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/'
            'common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"'
        }
        if value is None:
            raise SimResponse(
                self._graph_error(request, 401, "InvalidAuthenticationToken", "Access token is empty.", www)
            )
        record = self.tokens.find(value)
        if record is None or record.kind != "access" or record.revoked:
            raise SimResponse(
                self._graph_error(
                    request,
                    401,
                    "InvalidAuthenticationToken",
                    "Access token validation failure. Invalid audience.",
                    www,
                )
            )
        if self.clock.now() >= record.expires_at:
            raise SimResponse(
                self._graph_error(
                    request,
                    401,
                    "InvalidAuthenticationToken",
                    "Lifetime validation failed, the token is expired.",
                    www,
                )
            )
        retry_after = self.limiter.hit(f"{record.client_id}:{record.subject}")
        if retry_after is not None:
            raise SimResponse(self._throttled(request, retry_after))
        if record.extra.get("kind") == "app":
            return _Caller(record, "app", None, frozenset(), frozenset(record.extra.get("roles", [])))
        return _Caller(
            record, "user", self.users.get(record.subject), frozenset(split_scopes(record.scope)), frozenset()
        )

    def _require(
        self, request: Request, caller: _Caller, delegated: Iterable[str], app: Iterable[str]
    ) -> None:
        allowed = caller.scopes & set(delegated) if caller.kind == "user" else caller.roles & set(app)
        if not allowed:
            raise SimResponse(
                self._graph_error(
                    request,
                    403,
                    "Authorization_RequestDenied",
                    "Insufficient privileges to complete the operation.",
                )
            )

    def _signed_in_user(self, request: Request, caller: _Caller, delegated: Iterable[str] = ()) -> GraphUser:
        """The user behind a ``/me`` request: app tokens cannot use ``/me`` (400), the token must
        carry one of ``delegated`` when given, and the user must still exist (404)."""
        if caller.kind == "app":
            raise SimResponse(
                self._graph_error(
                    request,
                    400,
                    "BadRequest",
                    "/me request is only valid with delegated authentication flow.",
                )
            )
        if delegated:
            self._require(request, caller, set(delegated), ())
        if caller.user is None:
            raise SimResponse(self._not_found(request, caller.token.subject))
        return caller.user

    def _not_found(self, request: Request, key: str) -> Response:
        return self._graph_error(
            request,
            404,
            "Request_ResourceNotFound",
            f"Resource '{key}' does not exist or one of its queried reference-property objects are "
            "not present.",
        )

    def _users_list(self, request: Request) -> Response:
        caller = self._caller(request)
        self._require(request, caller, _READ_USERS_DELEGATED, _READ_USERS_APP)
        args = request.args
        for option in _UNSUPPORTED_ODATA:
            if option in args:
                message = (
                    "'$skip' is not supported by the service."
                    if option == "$skip"
                    else f"The simulator does not implement {option} on /users."
                )
                return self._graph_error(request, 400, "Request_UnsupportedQuery", message)
        top_raw = args.get("$top")
        top = 100
        if top_raw is not None:
            try:
                top = int(top_raw)
            except ValueError:
                return self._graph_error(request, 400, "BadRequest", f"Invalid value '{top_raw}' for $top.")
            if not 1 <= top <= 999:
                return self._graph_error(
                    request,
                    400,
                    "Request_BadRequest",
                    f"Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive.",
                )
        try:
            select = parse_select(args.get("$select"))
            predicate = parse_filter(args.get("$filter"))
        except ODataError as exc:
            return self._graph_error(request, 400, exc.code, exc.message)
        query = urlencode(sorted((k, v) for k, v in args.items(multi=True) if k != "$skiptoken"))
        matching = filter_users(self.users.values(), predicate)
        skiptoken = args.get("$skiptoken")
        if skiptoken is not None:
            cursor, problem = self.page_tokens.resolve(skiptoken, query)
            if problem is not None:
                return self._graph_error(
                    request,
                    400,
                    "Directory_ExpiredPageToken",
                    "The specified page token value has expired and can no longer be included in your "
                    "request.",
                )
            matching = [u for u in matching if u.id > str(cursor)]
        page, rest = matching[:top], matching[top:]
        base = request.host_url.rstrip("/")
        context = f"{base}/v1.0/$metadata#users" + (f"({','.join(select)})" if select else "")
        body: dict[str, Any] = {"@odata.context": context, "value": [u.to_graph(select) for u in page]}
        if rest:
            token = self.page_tokens.issue(query, page[-1].id)
            next_params = [(k, v) for k, v in args.items(multi=True) if k != "$skiptoken"] + [
                ("$skiptoken", token)
            ]
            body["@odata.nextLink"] = f"{base}/v1.0/users?" + urlencode(
                next_params, quote_via=quote, safe="$,'()"
            )
        return json_response(body)

    def _users_get(self, request: Request, key: str) -> Response:
        caller = self._caller(request)
        user = self.find_user(key)
        own = caller.user is not None and user is not None and caller.user.id == user.id
        if not own or "User.Read" not in caller.scopes:
            self._require(request, caller, _READ_USERS_DELEGATED, _READ_USERS_APP)
        if user is None:
            return self._not_found(request, key)
        try:
            select = parse_select(request.args.get("$select"))
        except ODataError as exc:
            return self._graph_error(request, 400, exc.code, exc.message)
        base = request.host_url.rstrip("/")
        return json_response(
            {"@odata.context": f"{base}/v1.0/$metadata#users/$entity", **user.to_graph(select)}
        )

    def _me(self, request: Request) -> Response:
        caller = self._caller(request)
        me = self._signed_in_user(request, caller, {"User.Read"} | _READ_USERS_DELEGATED)
        try:
            select = parse_select(request.args.get("$select"))
        except ODataError as exc:
            return self._graph_error(request, 400, exc.code, exc.message)
        base = request.host_url.rstrip("/")
        return json_response(
            {"@odata.context": f"{base}/v1.0/$metadata#users/$entity", **me.to_graph(select)}
        )

    def _member_of(self, request: Request, key: str | None = None) -> Response:
        caller = self._caller(request)
        if key is None:
            user = self._signed_in_user(request, caller, {"User.Read"} | _READ_ROLES_DELEGATED)
        else:
            self._require(request, caller, _READ_ROLES_DELEGATED, _READ_ROLES_APP)
            found = self.find_user(key)
            if found is None:
                return self._not_found(request, key)
            user = found
        base = request.host_url.rstrip("/")
        roles = [self.roles[r].to_graph() for r in sorted(user.member_of_roles) if r in self.roles]
        return json_response({"@odata.context": f"{base}/v1.0/$metadata#directoryObjects", "value": roles})

    def _find_role(self, role_id: str | None, template: str | None) -> DirectoryRole | None:
        if role_id is not None:
            return self.roles.get(role_id)
        wanted = (template or "").strip("'\"")
        return next((r for r in self.roles.values() if r.role_template_id == wanted), None)

    def _roles_list(self, request: Request) -> Response:
        caller = self._caller(request)
        self._require(request, caller, _READ_ROLES_DELEGATED, _READ_ROLES_APP)
        base = request.host_url.rstrip("/")
        value = [r.to_graph() for r in self.roles.values()]
        for item in value:
            item.pop("@odata.type")
        return json_response({"@odata.context": f"{base}/v1.0/$metadata#directoryRoles", "value": value})

    def _requested_role(self, request: Request, role_id: str | None, template: str | None) -> DirectoryRole:
        """The role named by id or ``roleTemplateId``, for a caller allowed to read roles (else 403/404)."""
        caller = self._caller(request)
        self._require(request, caller, _READ_ROLES_DELEGATED, _READ_ROLES_APP)
        role = self._find_role(role_id, template)
        if role is None:
            raise SimResponse(self._not_found(request, role_id or template or ""))
        return role

    def _role_get(
        self, request: Request, role_id: str | None = None, template: str | None = None
    ) -> Response:
        role = self._requested_role(request, role_id, template)
        base = request.host_url.rstrip("/")
        body = role.to_graph()
        body.pop("@odata.type")
        return json_response({"@odata.context": f"{base}/v1.0/$metadata#directoryRoles/$entity", **body})

    def _role_members(
        self, request: Request, role_id: str | None = None, template: str | None = None
    ) -> Response:
        role = self._requested_role(request, role_id, template)
        base = request.host_url.rstrip("/")
        members = [
            {"@odata.type": "#microsoft.graph.user", **u.to_graph()}
            for u in sorted(self.users.values(), key=lambda u: u.id)
            if role.id in u.member_of_roles
        ]
        return json_response({"@odata.context": f"{base}/v1.0/$metadata#directoryObjects", "value": members})

    def _organization(self, request: Request) -> Response:
        self._caller(request)
        base = request.host_url.rstrip("/")
        return json_response(
            {
                "@odata.context": f"{base}/v1.0/$metadata#organization",
                "value": [
                    {
                        "id": self.tenant_id,
                        "displayName": self.tenant_display_name,
                        "verifiedDomains": [
                            {
                                "capabilities": "Email, OfficeCommunicationsOnline",
                                "isDefault": name == self.domain,
                                "isInitial": name == self.initial_domain,
                                "name": name,
                                "type": "Managed",
                            }
                            for name in self.domains
                        ],
                        "tenantType": "AAD",
                    }
                ],
            }
        )

    def _create_meeting(self, request: Request, key: str | None = None) -> Response:
        caller = self._caller(request)
        if key is None:
            organizer = self._signed_in_user(request, caller)
        else:
            found = self.find_user(key)
            if caller.kind == "user" and (caller.user is None or found is None or found.id != caller.user.id):
                # Delegated tokens only create meetings for the signed-in user.
                return self._graph_error(
                    request, 403, "Forbidden", "Insufficient privileges to complete the operation."
                )
            if found is None:
                return self._not_found(request, key)
            organizer = found
        if caller.kind == "user":
            self._require(request, caller, {"OnlineMeetings.ReadWrite"}, ())
        else:
            self._require(request, caller, (), {"OnlineMeetings.ReadWrite.All"})
            if not self.teams_application_access_policy:
                return self._graph_error(
                    request, 403, "General", "No application access policy found for this app."
                )
        try:
            body = read_json(request)
        except ControlError as exc:
            return self._graph_error(request, 400, "BadRequest", exc.message)
        now = self.clock.now()
        start = str(body.get("startDateTime") or _iso(now))
        end = str(body.get("endDateTime") or _iso(now + 3600))
        try:
            if datetime.fromisoformat(end.replace("Z", "+00:00")) < datetime.fromisoformat(
                start.replace("Z", "+00:00")
            ):
                return self._graph_error(
                    request, 400, "BadRequest", "endDateTime must be after startDateTime."
                )
        except ValueError:
            return self._graph_error(
                request, 400, "BadRequest", "startDateTime and endDateTime must be ISO 8601."
            )
        thread = secrets.token_hex(24)
        meeting_id = "MSo" + secrets.token_urlsafe(60)
        context = quote(f'{{"Tid":"{self.tenant_id}","Oid":"{organizer.id}"}}', safe="")
        meeting = {
            "id": meeting_id,
            "creationDateTime": _iso(now),
            "startDateTime": start,
            "endDateTime": end,
            "subject": body.get("subject"),
            "joinWebUrl": f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_{thread}%40thread.v2/0"
            f"?context={context}",
            "joinMeetingIdSettings": {
                "isPasscodeRequired": True,
                "joinMeetingId": "".join(str(self.rng.randrange(10)) for _ in range(12)),
                "passcode": secrets.token_urlsafe(4)[:6],
            },
            "participants": {
                "organizer": {
                    "upn": organizer.user_principal_name,
                    "role": "presenter",
                    "identity": {
                        "user": {"id": organizer.id, "displayName": None, "tenantId": self.tenant_id}
                    },
                },
                "attendees": [],
            },
            "chatInfo": {"threadId": f"19:meeting_{thread}@thread.v2", "messageId": "0"},
            "videoTeleconferenceId": None,
        }
        self.meetings[meeting_id] = meeting
        base = request.host_url.rstrip("/")
        context_url = f"{base}/v1.0/$metadata#users('{organizer.id}')/onlineMeetings/$entity"
        return json_response({"@odata.context": context_url, **meeting}, 201)
