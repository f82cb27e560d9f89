"""Webex OAuth: ``/v1/authorize`` (sign-in, consent) and ``/v1/access_token`` (authorization_code,
refresh_token; the client secret in the form body only; refresh tokens extended while in use).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from devstack.simulators.common import (
    IssuedToken,
    OAuthApp,
    SignInOption,
    html_error_page,
    json_response,
    redirect_with_params,
    render_signin_page,
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
from devstack.simulators.webex_model import (
    ADMIN_SCOPES,
    CLIENT_AUTH,
    CODE_EXCHANGE,
    KNOWN_SCOPES,
)

if TYPE_CHECKING:
    from devstack.simulators.webex import WebexSimulator


class WebexOAuth:
    """``/v1/authorize`` (sign-in and consent) and ``/v1/access_token``."""

    def __init__(self, sim: WebexSimulator) -> None:
        self.sim = sim

    def routes(self) -> list[RouteSpec]:
        """The authorize and token routes."""
        return [
            ("/v1/authorize", self._authorize, "GET", "authorize"),
            ("/v1/authorize", self._authorize_submit, "POST", "authorize"),
            ("/v1/access_token", self._token, "POST", "token"),
        ]

    def _validate_authorize(self, params: Mapping[str, str]) -> tuple[OAuthApp, str] | Response:
        app = self.sim.apps.get(params.get("client_id", ""))
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
        admin = next((p for p in self.sim.people.values() if p.is_admin), None)
        options = [
            SignInOption(
                value=p.id,
                label=f"{p.display_name} <{p.email}>" + (" - Full Administrator" if p.is_admin else ""),
                selected=admin is not None and p.id == admin.id,
            )
            for p in self.sim.people.values()
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
        person = self.sim.people.get(params.get("user", ""))
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
        record = self.sim.codes.issue_for_request(
            params,
            client_id=app.client_id,
            redirect_uri=redirect_uri,
            subject=person.id,
            ttl_seconds=self.sim.code_ttl_seconds,
            scope=" ".join(scopes),
        )
        return redirect_with_params(redirect_uri, {"code": record.code, "state": state})

    def _token(self, request: Request) -> Response:
        params = {key: request.form.get(key, "") for key in request.form}
        app = authenticate_token_client(request, params, self.sim.apps, CLIENT_AUTH)
        grant_type = params.get("grant_type", "")
        if grant_type == "authorization_code":
            return self._exchange_code(app, params)
        if grant_type == "refresh_token":
            return self._refresh(app, params)
        return self.sim.oauth_error_response(
            "unsupported_grant_type", f"Unsupported grant_type: {grant_type}"
        )

    def _exchange_code(self, app: OAuthApp, params: Mapping[str, str]) -> Response:
        record = redeem_authorization_code(
            params, app.client_id, self.sim.codes, self.sim.tokens, CODE_EXCHANGE
        )
        if record.subject not in self.sim.people:
            return self.sim.oauth_error_response("invalid_grant", "The user no longer exists.")
        grant_id = new_grant_id()
        refresh = self.sim.tokens.mint(
            "refresh",
            client_id=app.client_id,
            subject=record.subject,
            ttl_seconds=self.sim.refresh_token_ttl_seconds,
            grant_id=grant_id,
            scope=record.scope,
            nbytes=48,
        )
        return self._token_response(app, record.subject, record.scope, grant_id, refresh)

    def _refresh(self, app: OAuthApp, params: Mapping[str, str]) -> Response:
        record = self.sim.tokens.valid(params.get("refresh_token", ""), "refresh")
        if record is None or record.client_id != app.client_id or record.subject not in self.sim.people:
            return self.sim.oauth_error_response(
                "invalid_grant", "The refresh token provided is expired, revoked, malformed, or invalid."
            )
        # Webex keeps the refresh token and extends it while it is in use.
        record.expires_at = self.sim.clock.now() + self.sim.refresh_token_ttl_seconds
        return self._token_response(app, record.subject, record.scope, record.grant_id, record)

    def _token_response(
        self, app: OAuthApp, subject: str, scope: str, grant_id: str, refresh: IssuedToken
    ) -> Response:
        access = self.sim.tokens.mint(
            "access",
            client_id=app.client_id,
            subject=subject,
            ttl_seconds=self.sim.access_token_ttl_seconds,
            grant_id=grant_id,
            scope=scope,
            nbytes=48,
        )
        body = {
            "access_token": access.value,
            "expires_in": int(self.sim.access_token_ttl_seconds),
            "refresh_token": refresh.value,
            "refresh_token_expires_in": int(refresh.expires_at - self.sim.clock.now()),
            "token_type": "Bearer",
            "scope": scope,
        }
        return json_response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
