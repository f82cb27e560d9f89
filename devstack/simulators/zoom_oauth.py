"""Zoom OAuth: ``/oauth/authorize``, ``/oauth/token``, ``/oauth/revoke`` (providers.md 1.1-1.3).

- Authorize: unknown client or a redirect_uri that is not exactly registered gives an error page
  and never a redirect; other problems redirect with an RFC 6749 error. The sign-in page lists
  the active users of every simulated account (default: the paid account's owner).
- Token: HTTP Basic client authentication only; parameters from the query string or the form
  body; grants ``authorization_code`` (single-use 5-minute codes, PKCE S256/plain),
  ``refresh_token`` (rotating: every refresh retires the presented refresh token) and
  ``account_credentials`` (Server-to-Server; no refresh token; concurrent tokens stay valid).
  Errors are ``{"reason": ..., "error": ...}`` (400, or 401 for a bad client).
- Revoke: ``POST /oauth/revoke?token=...`` with Basic auth revokes the token's whole grant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from devstack.simulators.common import (
    OAuthApp,
    SignInOption,
    html_error_page,
    json_response,
    mint_secret,
    redirect_with_params,
    render_signin_page,
    request_params,
)
from devstack.simulators.simulator import RouteSpec
from devstack.simulators.token_endpoint import (
    ClientAuthRules,
    CodeExchangeRules,
    Refusal,
    authenticate_token_client,
    redeem_authorization_code,
)
from devstack.simulators.zoom_model import ACCESS_TOKEN_TTL, CODE_TTL, ROLE_MEMBER, ZoomUser

if TYPE_CHECKING:
    from devstack.simulators.zoom import ZoomSimulator

#: Query parameters the authorize page carries through its form.
AUTHORIZE_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "code_challenge",
    "code_challenge_method",
)
SIGNIN_LIST_LIMIT = 200  # a 100,000-user seed must not render 100,000 <option>s

_MISSING_CLIENT = Refusal("invalid_client", "Client ID or client secret is missing.", 401)
#: Zoom authenticates clients with HTTP Basic only (credentials in the body do not count).
CLIENT_AUTH = ClientAuthRules(
    methods=frozenset({"basic"}),
    both="basic",
    oauth_apps_only=False,  # server-to-server apps authenticate here too (account_credentials)
    fallback=Refusal("invalid_client", "Invalid client_id or client_secret", 401),
    refusals={"wrong_auth_method": _MISSING_CLIENT, "no_credentials": _MISSING_CLIENT},
)
_BAD_VERIFIER = Refusal("invalid_grant", "Invalid code_verifier.")
CODE_EXCHANGE = CodeExchangeRules(
    fallback=Refusal("invalid_grant", "Invalid authorization code"),
    refusals={
        "missing_code": Refusal("invalid_request", "Missing code."),
        "expired_code": Refusal("invalid_grant", "Code is expired."),
        "redirect_uri_mismatch": Refusal("invalid_grant", "Redirect URI mismatch."),
        "verifier_missing": _BAD_VERIFIER,
        "verifier_unexpected": _BAD_VERIFIER,
        "verifier_mismatch": _BAD_VERIFIER,
    },
    revoke_on_replay=True,  # RFC 6749 4.1.2: a replayed code revokes what was issued from it
)


class TokenError(Exception):
    """A refusal from the token or revoke endpoint."""

    def __init__(self, error: str, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.error = error
        self.reason = reason
        self.status = status


class ZoomOAuth:
    """The handlers of Zoom's OAuth host."""

    def __init__(self, sim: ZoomSimulator) -> None:
        self.sim = sim

    def routes(self) -> list[RouteSpec]:
        """The authorize, token and revoke routes."""
        return [
            ("/oauth/authorize", self.authorize_page, "GET", "authorize"),
            ("/oauth/authorize", self.authorize_decision, "POST", "authorize"),
            ("/oauth/token", self.token, "POST", "token"),
            ("/oauth/revoke", self.revoke, "POST", "revoke"),
        ]

    # ----- authorize -----------------------------------------------------------------------

    def authorize_page(self, request: Request) -> Response:
        """``GET /oauth/authorize``: validate, then show the sign-in and consent page."""
        params = {k: request.args.get(k) for k in AUTHORIZE_PARAMS}
        checked = self._check_authorize(params)
        if isinstance(checked, Response):
            return checked
        hidden = {k: v for k, v in params.items() if v is not None}
        return self._signin(request, checked, hidden)

    def authorize_decision(self, request: Request) -> Response:
        """``POST /oauth/authorize``: the Approve / Deny form of the sign-in page."""
        params = {k: request.form.get(k) for k in AUTHORIZE_PARAMS}
        checked = self._check_authorize(params)
        if isinstance(checked, Response):
            return checked
        app = checked
        redirect_uri = params["redirect_uri"] or ""
        state = params["state"]
        if request.form.get("decision") != "approve":
            return redirect_with_params(redirect_uri, {"error": "access_denied", "state": state})
        typed_email = (request.form.get("login_email") or "").strip()
        user = (
            self.sim.directory.by_email(typed_email)
            if typed_email
            else self.sim.directory.users.get(request.form.get("user", ""))
        )
        hidden = {k: v for k, v in params.items() if v is not None}
        if user is None or user.status != "active":
            return self._signin(request, app, hidden, message="No active Zoom user with that sign-in.")
        if app.meta.get("admin_level", True) and user.role_id == ROLE_MEMBER:
            # providers.md 1.1: account-level apps must be authorized by an admin or owner.
            if self.sim.switches.non_admin_authorize == "access_denied":
                return redirect_with_params(redirect_uri, {"error": "access_denied", "state": state})
            return html_error_page(
                "Administrator approval required",
                f"{user.email} is not an admin or owner of this Zoom account. This app uses "
                "account-level (admin) scopes and must be added by an account admin or owner.",
                403,
            )
        code = self.sim.codes.issue_for_request(
            params,
            client_id=app.client_id,
            redirect_uri=redirect_uri,
            subject=user.id,
            ttl_seconds=CODE_TTL,
            scope=" ".join(self.sim.app_scopes(app)),
            extra={"account_id": user.account_id, "grant_id": mint_secret(12)},
        )
        return redirect_with_params(redirect_uri, {"code": code.code, "state": state})

    def _check_authorize(self, params: dict[str, str | None]) -> OAuthApp | Response:
        app = self.sim.apps.get(params["client_id"] or "")
        if app is None or app.kind != "oauth":
            return html_error_page(
                "Invalid client_id", "The app with this client_id does not exist (4702).", 400
            )
        redirect_uri = params["redirect_uri"]
        if not redirect_uri or redirect_uri not in app.redirect_uris:
            # An unregistered redirect_uri is never redirected to (open-redirect protection).
            return html_error_page("Invalid redirect", "Redirect URI mismatch (4709).", 400)
        state = params["state"]
        if params["response_type"] != "code":
            return redirect_with_params(
                redirect_uri,
                {
                    "error": "unsupported_response_type",
                    "error_description": "response_type must be code",
                    "state": state,
                },
            )
        method = params["code_challenge_method"]
        if method is not None and (method not in ("S256", "plain") or not params["code_challenge"]):
            return redirect_with_params(
                redirect_uri,
                {
                    "error": "invalid_request",
                    "error_description": "Invalid code_challenge_method",
                    "state": state,
                },
            )
        return app

    def _signin(
        self, request: Request, app: OAuthApp, hidden: dict[str, str], message: str | None = None
    ) -> Response:
        options: list[SignInOption] = []
        default_owner = self.sim.paid_account().owner_id
        for account in self.sim.directory.accounts.values():
            label = f"{account.name} ({account.plan.capitalize()} plan)"
            for user in self._signin_users(account.id):
                options.append(
                    SignInOption(
                        value=user.id,
                        label=f"{user.display_name} <{user.email}> - {_role_label(user)}",
                        group=label,
                        selected=user.id == default_owner,
                    )
                )
        return render_signin_page(
            title="Sign in to Zoom",
            app_name=app.name,
            action_url="/oauth/authorize",
            hidden=hidden,
            options=options,
            scopes=self.sim.app_scopes(app),
            message=message,
            email_field="login_email",
        )

    def _signin_users(self, account_id: str) -> list[ZoomUser]:
        """Owners and admins first, then other active users, capped for huge seeds."""
        directory = self.sim.directory
        first = directory.page(account_id, "active", 0, SIGNIN_LIST_LIMIT)
        admins = [u for u in first if u.role_id != ROLE_MEMBER]
        return admins + [u for u in first if u.role_id == ROLE_MEMBER]

    # ----- token ----------------------------------------------------------------------------

    def token(self, request: Request) -> Response:
        """``POST /oauth/token``."""
        try:
            return self._token(request)
        except TokenError as exc:
            return self.sim.oauth_error_response(exc.error, exc.reason, exc.status)

    def _token(self, request: Request) -> Response:
        app = self._client(request)
        params = request_params(request)
        grant_type = params.get("grant_type")
        if not grant_type:
            raise TokenError("invalid_request", "Missing grant type.")
        if grant_type == "authorization_code":
            return self._authorization_code(request, app, params)
        if grant_type == "refresh_token":
            return self._refresh(request, app, params)
        if grant_type == "account_credentials":
            return self._account_credentials(request, app, params)
        raise TokenError("unsupported_grant_type", "Grant type is not supported from token endpoint.")

    def _client(self, request: Request) -> OAuthApp:
        return authenticate_token_client(request, request_params(request), self.sim.apps, CLIENT_AUTH)

    def _authorization_code(self, request: Request, app: OAuthApp, params: dict[str, str]) -> Response:
        if app.kind != "oauth":
            raise TokenError("unsupported_grant_type", "Grant type is not supported for this app.")
        record = redeem_authorization_code(
            params, app.client_id, self.sim.codes, self.sim.tokens, CODE_EXCHANGE
        )
        user = self.sim.directory.users.get(record.subject)
        if user is None or user.status != "active":
            raise TokenError("invalid_grant", "The owner of the token does not exist.")
        # providers.md 1.2 (4741): with multiple authorizations only the last one stays valid.
        self.sim.tokens.revoke_where(
            lambda t: t.client_id == app.client_id and t.subject == user.id and t.extra.get("flow") == "oauth"
        )
        return self._issue_pair(request, app, user, record.scope, grant_id=str(record.extra["grant_id"]))

    def _refresh(self, request: Request, app: OAuthApp, params: dict[str, str]) -> Response:
        if app.kind != "oauth":
            raise TokenError("unsupported_grant_type", "Grant type is not supported for this app.")
        value = params.get("refresh_token")
        if not value:
            raise TokenError("invalid_request", "Missing refresh_token.")
        record = self.sim.tokens.valid(value, "refresh")
        if record is None or record.client_id != app.client_id:
            # devsupport: using a prior refresh token gives "Invalid Token!".
            raise TokenError("invalid_grant", "Invalid Token!")
        user = self.sim.directory.users.get(record.subject)
        if user is None or user.status != "active":
            raise TokenError("invalid_grant", "The owner of the token does not exist.")
        self.sim.tokens.revoke(value)  # rotation: the presented refresh token is retired now
        return self._issue_pair(request, app, user, record.scope, grant_id=record.grant_id)

    def _issue_pair(
        self,
        request: Request,
        app: OAuthApp,
        user: ZoomUser,
        scope: str,
        *,
        grant_id: str,
    ) -> Response:
        """A new access and refresh token for ``grant_id`` (one authorization)."""
        extra: dict[str, Any] = {"account_id": user.account_id, "flow": "oauth"}
        access = self.sim.tokens.mint(
            "access",
            client_id=app.client_id,
            subject=user.id,
            ttl_seconds=ACCESS_TOKEN_TTL,
            grant_id=grant_id,
            scope=scope,
            extra=extra,
        )
        refresh = self.sim.tokens.mint(
            "refresh",
            client_id=app.client_id,
            subject=user.id,
            ttl_seconds=self.sim.switches.refresh_token_ttl_seconds,
            grant_id=grant_id,
            scope=scope,
            extra=extra,
        )
        return self._token_response(
            request,
            {
                "access_token": access.value,
                "token_type": "bearer",
                "refresh_token": refresh.value,
                "expires_in": ACCESS_TOKEN_TTL - 1,
                "scope": scope,
            },
        )

    def _account_credentials(self, request: Request, app: OAuthApp, params: dict[str, str]) -> Response:
        if app.kind != "server_to_server":
            raise TokenError("unsupported_grant_type", "Grant type is not supported for this app.")
        account_id = params.get("account_id")
        if not account_id:
            raise TokenError("invalid_request", "Missing account_id.")
        account = self.sim.directory.accounts.get(account_id)
        if account is None or app.meta.get("account_id") != account_id:
            raise TokenError("invalid_request", "Invalid account_id.")
        if self.sim.switches.s2s_single_token:
            # Historical (2022) behaviour: a new S2S token invalidated the previous ones.
            self.sim.tokens.revoke_where(lambda t: t.client_id == app.client_id)
        scope = " ".join(self.sim.app_scopes(app))
        access = self.sim.tokens.mint(
            "access",
            client_id=app.client_id,
            subject=account.owner_id,  # "The token is the owner's access token."
            ttl_seconds=ACCESS_TOKEN_TTL,
            grant_id=mint_secret(12),
            scope=scope,
            extra={"account_id": account.id, "flow": "s2s"},
        )
        return self._token_response(
            request,
            {
                "access_token": access.value,
                "token_type": "bearer",
                "expires_in": ACCESS_TOKEN_TTL,
                "scope": scope,
            },
        )

    def _token_response(self, request: Request, body: dict[str, Any]) -> Response:
        body["api_url"] = request.host_url.rstrip("/")
        return json_response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    # ----- revoke ---------------------------------------------------------------------------

    def revoke(self, request: Request) -> Response:
        """``POST /oauth/revoke?token=...``: revokes the token's whole authorization."""
        try:
            app = self._client(request)
            value = request_params(request).get("token")
            if not value:
                raise TokenError("invalid_request", "Token cannot be empty.")
            record = self.sim.tokens.find(value)
            if record is None or record.client_id != app.client_id or record.revoked:
                raise TokenError("invalid_request", "Invalid Token!")
        except TokenError as exc:
            return self.sim.oauth_error_response(exc.error, exc.reason, exc.status)
        self.sim.tokens.revoke_grant(record.grant_id)
        return json_response({"status": "success"})


def _role_label(user: ZoomUser) -> str:
    return {"0": "Owner", "1": "Admin"}.get(user.role_id, "Member")
