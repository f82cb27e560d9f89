"""Microsoft 365 simulator: Entra ID (login.microsoftonline.com) and Microsoft Graph, also Teams.

One base URL serves what Microsoft splits over two hosts, with the real paths:

- identity platform v2: ``/{tenant}/oauth2/v2.0/authorize`` (sign-in page), ``/{tenant}/adminconsent``
  and ``/{tenant}/v2.0/adminconsent``, ``/{tenant}/oauth2/v2.0/token`` (authorization_code with
  PKCE, refresh_token, client_credentials), OpenID discovery and JWKS;
- Graph v1.0: ``/users`` (``$top``, ``$select``, ``$filter``, ``@odata.nextLink``), ``/users/{id|upn}``,
  ``/me``, ``/me/memberOf``, ``/directoryRoles``, ``/organization``, Teams
  ``/users/{id}/onlineMeetings`` and ``/subscriptions`` on users (``microsoft_subscriptions``).

``{tenant}`` is the tenant id (a GUID derived from the seed), one of its domains, ``common`` or
``organizations``. The tenant is the demo directory's ``subsidiary.example``; its ``is_admin``
person holds the Global Administrator role. Errors follow the identity platform's AADSTS body
(``error``, ``error_description``, ``error_codes``, ``timestamp``, ``trace_id``, ``correlation_id``)
and Graph's ``{"error": {"code", "message", "innerError"}}``. Tokens are RS256 JWTs verifiable
with the served JWKS. See docs/simulators-calendar-and-others.md for every switch and decision.

This module holds the tenant (seeding, control hooks, options, error hooks); the handlers live in
``microsoft_signin``, ``microsoft_tokens`` and ``microsoft_graph_api``, over ``microsoft_graph``
(users, roles, OData) and ``microsoft_errors`` / ``microsoft_model`` (errors, permissions, ids).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from werkzeug.wrappers import Request, Response

from devstack.simulators.common import ControlError, Simulator
from devstack.simulators.demo import SECONDARY_DOMAIN, DemoDirectory
from devstack.simulators.microsoft_errors import (
    REVOKED_GRANT,
    aadsts_response,
    graph_error_response,
    status_error_response,
    throttled_response,
)
from devstack.simulators.microsoft_graph import (
    GLOBAL_ADMIN_TEMPLATE_ID,
    GLOBAL_READER_TEMPLATE_ID,
    DirectoryRole,
    GraphUser,
)
from devstack.simulators.microsoft_graph_api import MicrosoftGraphApi
from devstack.simulators.microsoft_model import (
    DEFAULT_APPLICATION_PERMISSIONS,
    DEFAULT_DELEGATED_PERMISSIONS,
    OIDC_SCOPES,
    AdminConsentError,
    TenantConsent,
    iso_utc,
    person_user,
    random_guid,
    seeded_guid,
)
from devstack.simulators.microsoft_signin import MicrosoftSignIn
from devstack.simulators.microsoft_subscriptions import MicrosoftSubscriptions
from devstack.simulators.microsoft_tokens import MicrosoftTokenEndpoint
from devstack.simulators.provider_kit import (
    JwtTokenStore,
    PageTokens,
    RateLimiter,
    apply_switches,
    shared_signing_key,
)
from devstack.simulators.token_endpoint import Refusal


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
        self.consents: dict[str, TenantConsent] = {}
        self.meetings: dict[str, dict[str, Any]] = {}
        self.signin = MicrosoftSignIn(self)
        self.token_endpoint = MicrosoftTokenEndpoint(self)
        self.graph = MicrosoftGraphApi(self)
        self.subscriptions = MicrosoftSubscriptions(self)
        super().__init__(demo, seed=seed, clock=clock, **base_options)
        self.default_app.meta.update(
            {
                "application_permissions": list(DEFAULT_APPLICATION_PERMISSIONS),
                "delegated_permissions": list(DEFAULT_DELEGATED_PERMISSIONS),
            }
        )
        for part in (self.signin, self.token_endpoint, self.graph):
            self.add_routes(part.routes())
        self.subscriptions.register()

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
        self.tenant_id = seeded_guid("microsoft", self.seed, "tenant")
        admin_role = DirectoryRole(
            id=random_guid(self.rng),
            display_name="Global Administrator",
            description="Can manage all aspects of Microsoft Entra ID and Microsoft services that use "
            "Microsoft Entra identities.",
            role_template_id=GLOBAL_ADMIN_TEMPLATE_ID,
        )
        reader_role = DirectoryRole(
            id=random_guid(self.rng),
            display_name="Global Reader",
            description="Can read everything that a Global Administrator can, but not update anything.",
            role_template_id=GLOBAL_READER_TEMPLATE_ID,
        )
        self.roles = {admin_role.id: admin_role, reader_role.id: reader_role}
        self.users = {}
        created = datetime(2021, 3, 1, 9, 0, tzinfo=UTC).timestamp()
        for index, person in enumerate(self.demo.in_domain(self.domain)):
            user = person_user(random_guid(self.rng), person, iso_utc(created + index * 86400))
            if person.is_admin:
                user.member_of_roles.add(admin_role.id)
            self.users[user.id] = user
        self.consents = {}
        if self.preconsented:
            self.consents[self.default_app.client_id] = TenantConsent(
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
        """Add a user: ``{"email", "first_name"?, "last_name"?, "is_admin"?, "account_enabled"?,
        "teams_licensed"?}``."""
        email = str(body.get("email", "")).strip()
        if "@" not in email:
            raise ControlError(400, "email is required")
        if email.rsplit("@", 1)[1].lower() not in self.domains:
            raise ControlError(400, f"{email} is not in a verified domain of the tenant: {self.domains}")
        if self.find_user(email) is not None:
            raise ControlError(409, f"{email} already exists")
        local = email.split("@", 1)[0]
        user = GraphUser(
            id=random_guid(self.rng),
            user_principal_name=email,
            given_name=str(body.get("first_name") or local.split(".")[0].title()),
            surname=str(body.get("last_name") or (local.split(".")[1].title() if "." in local else "")),
            created=iso_utc(self.clock.now()),
            account_enabled=bool(body.get("account_enabled", True)),
            teams_licensed=bool(body.get("teams_licensed", True)),
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
        self.subscriptions.user_changed(user, "deleted")

    def control_update_user(self, email: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``{"email": new}`` renames (UPN and mail; the id stays), ``first_name``, ``last_name``,
        ``is_admin``, ``account_enabled``, ``teams_licensed`` or ``status`` (``active`` / ``disabled``)."""
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
        if "teams_licensed" in body:
            user.teams_licensed = bool(body["teams_licensed"])
        if "status" in body:
            status = str(body["status"])
            if status not in ("active", "disabled", "inactive"):
                raise ControlError(400, "status must be active or disabled")
            user.account_enabled = status == "active"
        self.subscriptions.user_changed(user, "updated")  # Graph notifies subscribers
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

    # ----- error bodies (shapes in microsoft_errors) ------------------------------------------

    def aadsts(self, error: str, code: int, message: str, status: int = 400) -> Response:
        """An AADSTS error answer (never cached)."""
        return aadsts_response(error, code, message, status, self.clock.now())

    def token_refusal_response(self, refusal: Refusal) -> Response:
        """A refused token request, in the AADSTS shape."""
        return self.aadsts(refusal.error, refusal.provider_code or 0, refusal.description, refusal.status)

    def oauth_error_response(self, error: str, description: str, status: int = 400) -> Response:
        """An injected token-endpoint error, in the AADSTS shape."""
        if error == "invalid_client":
            return self.aadsts("invalid_client", 7000215, "Invalid client secret provided.", 401)
        return self.aadsts(error, 50173, REVOKED_GRANT, status)

    def graph_error(
        self, request: Request, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> Response:
        """Graph's ``{"error": {"code", "message", "innerError"}}``."""
        return graph_error_response(request, status, code, message, self.clock.now(), headers)

    def error_response(self, status: int, message: str, request: Request) -> Response:
        """Graph's error shape on Graph paths, an AADSTS body on the identity paths."""
        return status_error_response(request, status, message, self.clock.now())

    def rate_limited_response(self, request: Request, target: str) -> Response:
        """A throttled call: 429 with ``Retry-After`` in seconds."""
        return self.throttled(request, self.retry_after_seconds)

    def throttled(self, request: Request, retry_after: int) -> Response:
        """A 429: Graph's ``TooManyRequests`` under ``/v1.0``, else the AADSTS shape."""
        return throttled_response(request, retry_after, self.clock.now())

    # ----- tenants --------------------------------------------------------------

    def tenant_kind(self, segment: str) -> Literal["tenant", "multi"] | None:
        """``"tenant"`` for this tenant's id or domains, ``"multi"`` for common/organizations."""
        lowered = segment.lower()
        if lowered in ("common", "organizations"):
            return "multi"
        if lowered == self.tenant_id or lowered in self.domains:
            return "tenant"
        return None

    def tenant_not_found(self, segment: str) -> str:
        """AADSTS90002's message for an unknown tenant ``segment``."""
        return (
            f"Tenant '{segment}' not found. Check to make sure you have the correct tenant ID "
            "and are signing into the correct cloud."
        )
