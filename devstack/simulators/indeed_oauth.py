"""Indeed OAuth: OpenID discovery and JWKS, ``/oauth/v2/authorize`` (sign-in, consent, employer
selection) and ``/oauth/v2/token`` (authorization_code, refresh_token; JWT access and id tokens).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from devstack.simulators.common import (
    IssuedToken,
    OAuthApp,
    SignInOption,
    html_error_page,
    json_response,
    redirect_with_params,
    render_signin_page,
    request_params,
)
from devstack.simulators.indeed_model import (
    CLIENT_AUTH,
    CODE_EXCHANGE,
    KNOWN_SCOPES,
    NO_STORE,
    IndeedUser,
)
from devstack.simulators.provider_kit import (
    JwtTokenStore,
    new_grant_id,
    split_scopes,
)
from devstack.simulators.simulator import RouteSpec
from devstack.simulators.token_endpoint import (
    authenticate_token_client,
    redeem_authorization_code,
)

if TYPE_CHECKING:
    from devstack.simulators.indeed import IndeedSimulator


class IndeedOAuth:
    """Discovery, JWKS, ``/oauth/v2/authorize`` (with employer selection) and ``/oauth/v2/token``."""

    def __init__(self, sim: IndeedSimulator) -> None:
        self.sim = sim

    def routes(self) -> list[RouteSpec]:
        """The discovery, authorize and token routes."""
        return [
            ("/.well-known/openid-configuration", self._discovery, "GET", "discovery"),
            ("/.well-known/keys", self._jwks, "GET", "discovery"),
            ("/oauth/v2/authorize", self._authorize, "GET", "authorize"),
            ("/oauth/v2/authorize", self._authorize_submit, "POST", "authorize"),
            ("/oauth/v2/tokens", self._token, "POST", "token"),
        ]

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
        return json_response(self.sim.signing_key.jwks())

    def _check_client(self, params: Mapping[str, str]) -> tuple[OAuthApp, str] | Response:
        app = self.sim.apps.get(params.get("client_id", ""))
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
        admin = next((u for u in self.sim.users.values() if u.is_admin), None)
        options = [
            SignInOption(
                value=u.id, label=f"{u.name} <{u.email}>", selected=admin is not None and u.id == admin.id
            )
            for u in self.sim.users.values()
        ]
        selecting = params.get("prompt") == "select_employer"
        return render_signin_page(
            title="Sign in to Indeed",
            app_name=app.name,
            action_url=request.path,
            hidden=params,
            options=options,
            scopes=split_scopes(params.get("scope")),
            message=f"Employer account: {self.sim.employer_name}" if selecting else None,
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
        user = self.sim.users.get(params.get("user", ""))
        if user is None or user.status == "deactivated":
            return html_error_page("Indeed", "This account cannot sign in.", 403)
        selecting = params.get("prompt") == "select_employer"
        record = self.sim.codes.issue_for_request(
            params,
            client_id=app.client_id,
            redirect_uri=redirect_uri,
            subject=user.id,
            ttl_seconds=self.sim.code_ttl_seconds,
            scope=params.get("scope", ""),
            extra={"employer": self.sim.employer_id if selecting else None},
        )
        answer = {
            "code": record.code,
            "state": state,
            "employer": self.sim.employer_id if selecting else None,
        }
        return redirect_with_params(redirect_uri, answer)

    def _token(self, request: Request) -> Response:
        params = request_params(request)
        app = authenticate_token_client(request, params, self.sim.apps, CLIENT_AUTH)
        grant_type = params.get("grant_type", "")
        if grant_type == "authorization_code":
            return self._exchange_code(app, params, request.host_url.rstrip("/"))
        if grant_type == "refresh_token":
            return self._refresh(app, params, request.host_url.rstrip("/"))
        return self.sim.oauth_error_response(
            "unsupported_grant_type", f"Unsupported grant_type: {grant_type}"
        )

    def _exchange_code(self, app: OAuthApp, params: Mapping[str, str], issuer: str) -> Response:
        record = redeem_authorization_code(
            params, app.client_id, self.sim.codes, self.sim.tokens, CODE_EXCHANGE
        )
        employer = params.get("employer") or None
        if employer is not None and employer != record.extra.get("employer"):
            return self.sim.oauth_error_response(
                "invalid_grant", "The employer was not selected during authorization."
            )
        user = self.sim.users.get(record.subject)
        if user is None:
            return self.sim.oauth_error_response("invalid_grant", "The user no longer exists.")
        extra = {"employer": employer}
        return self._issue(
            app, user, split_scopes(record.scope), new_grant_id(), extra, issuer, with_id_token=True
        )

    def _refresh(self, app: OAuthApp, params: Mapping[str, str], issuer: str) -> Response:
        value = params.get("refresh_token", "")
        record = self.sim.tokens.valid(value, "refresh")
        if record is None or record.client_id != app.client_id:
            return self.sim.oauth_error_response(
                "invalid_grant", "The refresh token is invalid, expired or revoked."
            )
        user = self.sim.users.get(record.subject)
        if user is None or user.status == "deactivated":
            return self.sim.oauth_error_response(
                "invalid_grant", "The user can no longer authorize this application."
            )
        if self.sim.rotate_refresh_tokens:
            self.sim.tokens.revoke(value)
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
        assert isinstance(self.sim.tokens, JwtTokenStore)
        employer = extra.get("employer")

        def encode(record: IssuedToken) -> str:
            claims: dict[str, Any] = {
                "sub": f"user:{user.id}",
                "azp": app.client_id,
                "scope": " ".join(scopes),
                "iss": issuer,
                "iat": int(self.sim.clock.now()),
                "exp": int(record.expires_at),
                "jti": str(record.extra.get("jti", "")),  # unique: two tokens of one second differ
            }
            if employer:
                claims["act"] = {"sub": f"app:{employer}", "app_account": f"user:{user.id}"}
            return self.sim.signing_key.sign(claims)

        access = self.sim.tokens.mint_encoded(
            "access",
            encode,
            client_id=app.client_id,
            subject=user.id,
            ttl_seconds=self.sim.access_token_ttl_seconds,
            grant_id=grant_id,
            scope=" ".join(scopes),
            extra=extra,
        )
        body: dict[str, Any] = {
            "access_token": access.value,
            "token_type": "Bearer",
            "expires_in": int(self.sim.access_token_ttl_seconds),
            "scope": " ".join(scopes),
        }
        if "offline_access" in scopes:
            if keep_refresh is not None and not self.sim.rotate_refresh_tokens:
                body["refresh_token"] = keep_refresh.value
            else:
                body["refresh_token"] = self.sim.tokens.mint(
                    "refresh",
                    client_id=app.client_id,
                    subject=user.id,
                    ttl_seconds=self.sim.refresh_token_ttl_seconds,
                    grant_id=grant_id,
                    scope=" ".join(scopes),
                    extra=extra,
                ).value
        if with_id_token and "email" in scopes:
            now = int(self.sim.clock.now())
            body["id_token"] = self.sim.signing_key.sign(
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
        return json_response(body, headers=NO_STORE)
