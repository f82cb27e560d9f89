"""Google OAuth, token part: ``/token`` (authorization_code, refresh_token), ``/revoke``,
``/tokeninfo``, OpenID discovery and JWKS; ``id_token``s are RS256 JWTs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from devstack.simulators.common import (
    OAuthApp,
    json_response,
    request_params,
)
from devstack.simulators.google_directory import (
    WorkspaceUser,
)
from devstack.simulators.google_model import (
    CLIENT_AUTH,
    CODE_EXCHANGE,
    NO_STORE,
    USERINFO_EMAIL,
    USERINFO_PROFILE,
)
from devstack.simulators.provider_kit import (
    new_grant_id,
    split_scopes,
)
from devstack.simulators.simulator import RouteSpec
from devstack.simulators.token_endpoint import (
    authenticate_token_client,
    redeem_authorization_code,
)

if TYPE_CHECKING:
    from devstack.simulators.google import GoogleSimulator


class GoogleTokenEndpoint:
    """``/token``, ``/revoke``, ``/tokeninfo``, OpenID discovery and JWKS."""

    def __init__(self, sim: GoogleSimulator) -> None:
        self.sim = sim

    def routes(self) -> list[RouteSpec]:
        """The token, revoke, tokeninfo, discovery and JWKS routes."""
        return [
            ("/token", self._token, "POST", "token"),
            ("/revoke", self._revoke, "POST", "token"),
            ("/.well-known/openid-configuration", self._discovery, "GET", "discovery"),
            ("/oauth2/v3/certs", self._jwks, "GET", "discovery"),
            ("/tokeninfo", self._tokeninfo, "GET", "api"),
            ("/tokeninfo", self._tokeninfo, "POST", "api"),
            ("/oauth2/v3/tokeninfo", self._tokeninfo, "GET", "api"),
            ("/oauth2/v3/tokeninfo", self._tokeninfo, "POST", "api"),
        ]

    def _token(self, request: Request) -> Response:
        params = request_params(request)
        app = authenticate_token_client(request, params, self.sim.apps, CLIENT_AUTH)
        grant_type = params.get("grant_type", "")
        issuer = request.host_url.rstrip("/")
        if grant_type == "authorization_code":
            return self._exchange_code(app, params, issuer)
        if grant_type == "refresh_token":
            return self._refresh(app, params, issuer)
        return self.sim.oauth_error_response("unsupported_grant_type", f"Invalid grant_type: {grant_type}")

    def _exchange_code(self, app: OAuthApp, params: Mapping[str, str], issuer: str) -> Response:
        record = redeem_authorization_code(
            params, app.client_id, self.sim.codes, self.sim.tokens, CODE_EXCHANGE
        )
        user = self.sim.users.get(record.subject)
        if user is None or user.suspended:
            return self.sim.oauth_error_response("invalid_grant", "Bad Request")
        grant_id = new_grant_id()
        body = self._access_response(
            app, user, split_scopes(record.scope), grant_id, record.extra.get("nonce"), issuer
        )
        if record.extra.get("refresh"):
            refresh = self.sim.tokens.mint(
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
        return json_response(body, headers=NO_STORE)

    def _enforce_refresh_token_limit(self, client_id: str, subject: str) -> None:
        live = [
            t
            for t in self.sim.tokens.live()
            if t.kind == "refresh" and (t.client_id, t.subject) == (client_id, subject)
        ]
        for stale in live[: max(0, len(live) - self.sim.max_refresh_tokens)]:
            self.sim.tokens.revoke_grant(stale.grant_id)

    def _refresh(self, app: OAuthApp, params: Mapping[str, str], issuer: str) -> Response:
        value = params.get("refresh_token", "")
        if not value:
            return self.sim.oauth_error_response(
                "invalid_request", "Missing required parameter: refresh_token"
            )
        record = self.sim.tokens.valid(value, "refresh")
        if record is None:
            return self.sim.oauth_error_response("invalid_grant", "Token has been expired or revoked.")
        if record.client_id != app.client_id:
            return self.sim.oauth_error_response("unauthorized_client", "Unauthorized")
        user = self.sim.users.get(record.subject)
        if user is None or user.suspended:
            return self.sim.oauth_error_response("invalid_grant", "Token has been expired or revoked.")
        scopes = split_scopes(record.scope)
        if params.get("scope"):
            narrowed, invalid = self.sim.signin.normalize_scopes(params["scope"])
            if invalid or not set(narrowed) <= set(scopes):
                return self.sim.oauth_error_response("invalid_scope", "Bad Request")
            scopes = narrowed
        # No refresh_token in the answer: Google keeps the one the client already has.
        return json_response(
            self._access_response(app, user, scopes, record.grant_id, None, issuer), headers=NO_STORE
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
        access = self.sim.tokens.mint(
            "access",
            client_id=app.client_id,
            subject=user.id,
            ttl_seconds=self.sim.access_token_ttl_seconds,
            grant_id=grant_id,
            scope=" ".join(scopes),
            prefix="ya29.",
            nbytes=96,
        )
        body: dict[str, Any] = {
            "access_token": access.value,
            "expires_in": int(self.sim.access_token_ttl_seconds),
            "scope": " ".join(scopes),
            "token_type": "Bearer",
        }
        if "openid" in scopes:
            body["id_token"] = self._id_token(app, user, scopes, nonce, issuer)
        return body

    def _id_token(
        self, app: OAuthApp, user: WorkspaceUser, scopes: Sequence[str], nonce: Any, issuer: str
    ) -> str:
        now = int(self.sim.clock.now())
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
        return self.sim.signing_key.sign(claims)

    def _revoke(self, request: Request) -> Response:
        value = request_params(request).get("token", "")
        record = self.sim.tokens.find(value) if value else None
        if record is None or record.revoked:
            return self.sim.oauth_error_response("invalid_token", "Token expired or revoked")
        # Revoking either token of a grant revokes the whole grant (Google's documented behaviour).
        self.sim.tokens.revoke_grant(record.grant_id)
        return json_response({})

    def _tokeninfo(self, request: Request) -> Response:
        params = request_params(request)
        record = self.sim.tokens.valid(params.get("access_token", ""), "access")
        if record is None:
            return self.sim.oauth_error_response("invalid_token", "Invalid Value")
        user = self.sim.users.get(record.subject)
        scopes = split_scopes(record.scope)
        body: dict[str, Any] = {
            "azp": record.client_id,
            "aud": record.client_id,
            "sub": record.subject,
            "scope": record.scope,
            "exp": str(int(record.expires_at)),
            "expires_in": str(max(0, int(record.expires_at - self.sim.clock.now()))),
            "access_type": "offline"
            if any(t.grant_id == record.grant_id and t.kind == "refresh" for t in self.sim.tokens.live())
            else "online",
        }
        if user is not None and USERINFO_EMAIL in scopes:
            body.update({"email": user.primary_email, "email_verified": "true"})
        return json_response(body)

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
        return json_response(self.sim.signing_key.jwks())
