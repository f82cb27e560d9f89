"""Microsoft identity platform, token part: ``/{tenant}/oauth2/v2.0/token``, discovery and JWKS.

Grants: ``authorization_code`` (PKCE), ``refresh_token``, ``client_credentials``. Access tokens
are RS256 JWTs for Graph; ``id_token``s follow OpenID Connect. Errors are AADSTS bodies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from werkzeug.wrappers import Request, Response

from devstack.simulators.common import IssuedToken, OAuthApp, json_response, request_params
from devstack.simulators.microsoft_errors import CODE_EXCHANGE, REVOKED_GRANT, client_auth_rules
from devstack.simulators.microsoft_graph import GLOBAL_ADMIN_TEMPLATE_ID, GraphUser
from devstack.simulators.microsoft_model import (
    GRAPH_APP_ID,
    GRAPH_RESOURCE,
    OIDC_SCOPES,
    ScopeError,
    seeded_guid,
)
from devstack.simulators.provider_kit import new_grant_id, split_scopes
from devstack.simulators.simulator import RouteSpec
from devstack.simulators.token_endpoint import authenticate_token_client, redeem_authorization_code

if TYPE_CHECKING:
    from devstack.simulators.microsoft import MicrosoftSimulator


class MicrosoftTokenEndpoint:
    """``/{tenant}/oauth2/v2.0/token``, the JWTs it issues, OpenID discovery and JWKS."""

    def __init__(self, sim: MicrosoftSimulator) -> None:
        self.sim = sim

    def routes(self) -> list[RouteSpec]:
        """The token, discovery and JWKS routes."""
        return [
            ("/<tenant>/oauth2/v2.0/token", self._token, "POST", "token"),
            ("/<tenant>/v2.0/.well-known/openid-configuration", self._discovery, "GET", "discovery"),
            ("/<tenant>/discovery/v2.0/keys", self._jwks, "GET", "discovery"),
        ]

    def _token(self, request: Request, tenant: str) -> Response:
        params = request_params(request)
        issuer = f"{request.host_url.rstrip('/')}/{self.sim.tenant_id}/v2.0"
        tenant_kind = self.sim.tenant_kind(tenant)
        if tenant_kind is None:
            return self.sim.aadsts("invalid_request", 90002, self.sim.tenant_not_found(tenant))
        grant_type = params.get("grant_type", "")
        if not grant_type:
            return self.sim.aadsts(
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            )
        if grant_type not in ("authorization_code", "refresh_token", "client_credentials"):
            return self.sim.aadsts(
                "unsupported_grant_type", 70003, "The app requested an unsupported grant type."
            )
        app = authenticate_token_client(
            request, params, self.sim.apps, client_auth_rules(self.sim.tenant_display_name)
        )
        if grant_type == "client_credentials":
            return self._client_credentials(app, params, tenant_kind)
        if grant_type == "authorization_code":
            return self._authorization_code(app, params, issuer)
        return self._refresh(app, params, issuer)

    def _authorization_code(self, app: OAuthApp, params: Mapping[str, str], issuer: str) -> Response:
        record = redeem_authorization_code(
            params, app.client_id, self.sim.codes, self.sim.tokens, CODE_EXCHANGE
        )
        user = self.sim.users.get(record.subject)
        if user is None:
            return self.sim.aadsts(
                "invalid_grant", 50034, "The user account does not exist in this directory."
            )
        if not user.account_enabled:
            return self.sim.aadsts("invalid_grant", 50057, "The user account is disabled.")
        scopes = split_scopes(record.scope)
        return self._issue_user_tokens(app, user, scopes, new_grant_id(), record.extra.get("nonce"), issuer)

    def _refresh(self, app: OAuthApp, params: Mapping[str, str], issuer: str) -> Response:
        value = params.get("refresh_token", "")
        if not value:
            return self.sim.aadsts(
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'refresh_token'.",
            )
        record = self.sim.tokens.find(value)
        if record is None or record.kind != "refresh":
            return self.sim.aadsts(
                "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."
            )
        if record.revoked:
            return self.sim.aadsts(
                "invalid_grant",
                50173,
                REVOKED_GRANT,
            )
        if self.sim.clock.now() >= record.expires_at:
            return self.sim.aadsts(
                "invalid_grant", 700082, "The refresh token has expired due to inactivity."
            )
        if record.client_id != app.client_id:
            return self.sim.aadsts("invalid_grant", 70000, "Provided grant is invalid or malformed.")
        user = self.sim.users.get(record.subject)
        if user is None:
            return self.sim.aadsts(
                "invalid_grant", 50034, "The user account does not exist in this directory."
            )
        if not user.account_enabled:
            return self.sim.aadsts("invalid_grant", 50057, "The user account is disabled.")
        granted = split_scopes(record.scope)
        if params.get("scope"):
            try:
                asked, _ = self.sim.signin.normalize_scopes(params["scope"])
            except ScopeError as exc:
                return self.sim.aadsts("invalid_scope", 70011, f"The scope {exc} is not valid.")
            missing = set(asked) - set(granted) - {"offline_access", "openid", "profile", "email"}
            if missing:
                return self.sim.aadsts(
                    "invalid_grant",
                    65001,
                    f"The user or administrator has not consented to use the application with ID "
                    f"'{app.client_id}'. Send an interactive authorization request for this user and "
                    "resource.",
                )
        if self.sim.revoke_redeemed_refresh_tokens:
            self.sim.tokens.revoke(value)
        return self._issue_user_tokens(app, user, granted, record.grant_id, None, issuer)

    def _client_credentials(
        self, app: OAuthApp, params: Mapping[str, str], tenant_kind: Literal["tenant", "multi"]
    ) -> Response:
        scope = params.get("scope", "")
        if not scope:
            return self.sim.aadsts(
                "invalid_request", 900144, "The request body must contain the following parameter: 'scope'."
            )
        scopes = split_scopes(scope)
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            return self.sim.aadsts(
                "invalid_scope",
                1002012,
                f"The provided value for scope {scope} is not valid. Client credential flows must have a "
                "scope value with /.default suffixed to the resource identifier (application ID URI).",
            )
        resource = scopes[0][: -len("/.default")].lower()
        if resource not in (GRAPH_RESOURCE, GRAPH_RESOURCE + "/", GRAPH_APP_ID):
            return self.sim.aadsts(
                "invalid_resource",
                500011,
                f"The resource principal named {resource} was not found in the tenant named "
                f"{self.sim.tenant_display_name}.",
            )
        if tenant_kind != "tenant":
            return self.sim.aadsts(
                "invalid_request",
                50059,
                "No tenant-identifying information found in either the request or implied by any provided "
                "credentials.",
            )
        consent = self.sim.consents.get(app.client_id)
        if consent is None:
            return self.sim.aadsts(
                "unauthorized_client",
                700016,
                f"Application with identifier '{app.client_id}' was not found in the directory "
                f"'{self.sim.tenant_display_name}'. This can happen if the application has not been "
                "installed by the administrator of the tenant or consented to by any user in the tenant.",
            )
        service_principal = seeded_guid("microsoft", self.sim.seed, "sp", app.client_id)
        roles = sorted(consent.roles)
        access = self.sim.jwt_tokens.mint_encoded(
            "access",
            lambda rec: self._graph_jwt(rec, app, None, service_principal, [], roles),
            client_id=app.client_id,
            subject=service_principal,
            ttl_seconds=self.sim.access_token_ttl_seconds,
            grant_id=new_grant_id(),
            extra={"kind": "app", "roles": roles},
        )
        ttl = int(self.sim.access_token_ttl_seconds)
        return json_response(
            {"token_type": "Bearer", "expires_in": ttl, "ext_expires_in": ttl, "access_token": access.value},
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    def _issue_user_tokens(
        self, app: OAuthApp, user: GraphUser, scopes: Sequence[str], grant_id: str, nonce: Any, issuer: str
    ) -> Response:
        graph_scopes = [s for s in scopes if s not in OIDC_SCOPES]
        access = self.sim.jwt_tokens.mint_encoded(
            "access",
            lambda rec: self._graph_jwt(rec, app, user, user.id, graph_scopes, []),
            client_id=app.client_id,
            subject=user.id,
            ttl_seconds=self.sim.access_token_ttl_seconds,
            grant_id=grant_id,
            scope=" ".join(scopes),
            extra={"kind": "user"},
        )
        ttl = int(self.sim.access_token_ttl_seconds)
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(graph_scopes + [s for s in ("openid", "profile", "email") if s in scopes]),
            "expires_in": ttl,
            "ext_expires_in": ttl,
            "access_token": access.value,
        }
        if "offline_access" in scopes:
            refresh = self.sim.tokens.mint(
                "refresh",
                client_id=app.client_id,
                subject=user.id,
                ttl_seconds=self.sim.refresh_token_ttl_seconds,
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
        now = int(self.sim.clock.now())
        claims: dict[str, Any] = {
            "aud": GRAPH_RESOURCE,
            "iss": f"https://sts.windows.net/{self.sim.tenant_id}/",
            "iat": now,
            "nbf": now,
            "exp": int(record.expires_at),
            "appid": app.client_id,
            "app_displayname": app.name,
            "appidacr": "1",
            "idtyp": "user" if user else "app",
            "oid": object_id,
            "sub": object_id,
            "tid": self.sim.tenant_id,
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
            if self.sim.is_global_admin(user):
                claims["wids"] = [GLOBAL_ADMIN_TEMPLATE_ID]
        else:
            claims["roles"] = list(roles)
        return self.sim.signing_key.sign(claims)

    def _id_token(
        self, app: OAuthApp, user: GraphUser, scopes: Sequence[str], nonce: Any, issuer: str
    ) -> str:
        now = int(self.sim.clock.now())
        claims: dict[str, Any] = {
            "aud": app.client_id,
            "iss": issuer,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "tid": self.sim.tenant_id,
            "oid": user.id,
            # ``sub`` is pairwise per app in Entra ID; ``oid`` is the stable user id.
            "sub": seeded_guid("microsoft", "sub", app.client_id, user.id).replace("-", ""),
            "preferred_username": user.user_principal_name,
            "ver": "2.0",
        }
        if "email" in scopes:
            claims["email"] = user.mail
        if "profile" in scopes:
            claims["name"] = user.display_name
        if nonce:
            claims["nonce"] = nonce
        return self.sim.signing_key.sign(claims)

    def _discovery(self, request: Request, tenant: str) -> Response:
        if self.sim.tenant_kind(tenant) is None:
            return self.sim.aadsts("invalid_tenant", 90002, self.sim.tenant_not_found(tenant))
        base = request.host_url.rstrip("/")
        issuer_tenant = self.sim.tenant_id if self.sim.tenant_kind(tenant) == "tenant" else "{tenantid}"
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
        return json_response(self.sim.signing_key.jwks())
