"""Google OAuth, interactive part: ``/o/oauth2/v2/auth`` (sign-in, consent, code issue)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from devstack.simulators.common import (
    OAuthApp,
    SignInOption,
    html_error_page,
    redirect_with_params,
    render_signin_page,
)
from devstack.simulators.google_directory import (
    WorkspaceUser,
)
from devstack.simulators.google_model import (
    KNOWN_SCOPES,
    SHORT_SCOPES,
    Grant,
)
from devstack.simulators.provider_kit import (
    split_scopes,
)
from devstack.simulators.simulator import RouteSpec

if TYPE_CHECKING:
    from devstack.simulators.google import GoogleSimulator


class GoogleSignIn:
    """``/o/oauth2/v2/auth``: the sign-in and consent page, and the code it issues."""

    def __init__(self, sim: GoogleSimulator) -> None:
        self.sim = sim

    def routes(self) -> list[RouteSpec]:
        """The authorize routes."""
        return [
            ("/o/oauth2/v2/auth", self._authorize, "GET", "authorize"),
            ("/o/oauth2/v2/auth", self._authorize_submit, "POST", "authorize"),
        ]

    def normalize_scopes(self, raw: str) -> tuple[list[str], list[str]]:
        """(granted names, invalid names) for a space-separated ``scope``."""
        valid: list[str] = []
        invalid: list[str] = []
        for item in split_scopes(raw):
            name = SHORT_SCOPES.get(item, item)
            (valid if name in KNOWN_SCOPES else invalid).append(item)
        return list(dict.fromkeys(SHORT_SCOPES.get(s, s) for s in valid)), invalid

    def _page_error(self, code: int, error: str, message: str) -> Response:
        return html_error_page(f"Error {code}: {error}", message, code)

    def _validate_client(self, params: Mapping[str, str]) -> tuple[OAuthApp, str] | Response:
        app = self.sim.apps.get(params.get("client_id", ""))
        if app is None or app.kind != "oauth":
            return self._page_error(401, "invalid_client", "The OAuth client was not found.")
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in app.redirect_uris:
            return self._page_error(
                400,
                "redirect_uri_mismatch",
                "You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. "
                f"Request details: redirect_uri={redirect_uri}",
            )
        return app, redirect_uri

    def _validate_authorize(self, params: Mapping[str, str]) -> tuple[OAuthApp, str, list[str]] | Response:
        checked = self._validate_client(params)
        if isinstance(checked, Response):
            return checked
        app, redirect_uri = checked
        if params.get("response_type") != "code":
            return self._page_error(
                400, "unsupported_response_type", f"Invalid response_type: {params.get('response_type', '')}"
            )
        if not params.get("scope"):
            return self._page_error(400, "invalid_request", "Missing required parameter: scope")
        scopes, invalid = self.normalize_scopes(params["scope"])
        if invalid:
            return self._page_error(
                400,
                "invalid_scope",
                f"Some requested scopes were invalid. {{invalid=[{', '.join(invalid)}]}}",
            )
        if params.get("access_type", "online") not in ("online", "offline"):
            return self._page_error(400, "invalid_request", "Invalid access_type: " + params["access_type"])
        prompts = params.get("prompt", "").split()
        if any(p not in ("none", "consent", "select_account") for p in prompts) or (
            "none" in prompts and len(prompts) > 1
        ):
            return self._page_error(400, "invalid_request", "Invalid parameter value for prompt")
        method = params.get("code_challenge_method") or None
        if params.get("code_challenge"):
            if method not in (None, "S256", "plain"):
                return self._page_error(400, "invalid_request", "Invalid code_challenge_method value.")
        elif method:
            return self._page_error(400, "invalid_request", "Missing code_challenge.")
        return app, redirect_uri, scopes

    def _authorize(self, request: Request) -> Response:
        params = {key: request.args.get(key, "") for key in request.args}
        checked = self._validate_authorize(params)
        if isinstance(checked, Response):
            return checked
        app, redirect_uri, scopes = checked
        state = params.get("state") or None
        hinted = self.sim.find_user(params["login_hint"]) if params.get("login_hint") else None
        if "none" in params.get("prompt", "").split():
            # No browser session exists in the simulator: silent sign-in works only for a
            # login_hint user who already granted every requested scope to this client.
            if hinted is None:
                return redirect_with_params(redirect_uri, {"error": "login_required", "state": state})
            grant = self.sim.grants.get((app.client_id, hinted.id))
            if grant is None or not set(scopes) <= grant.scopes:
                return redirect_with_params(redirect_uri, {"error": "consent_required", "state": state})
            return self._issue_code(app, redirect_uri, hinted, scopes, params)
        hd = params.get("hd", "").lower()
        candidates = [u for u in self.sim.users.values() if not hd or hd == "*" or u.domain == hd]
        chosen = hinted if hinted in candidates else self.sim.admin
        options = [
            SignInOption(
                value=u.id,
                label=f"{u.full_name} <{u.primary_email}>" + (" - Super Admin" if u.is_admin else ""),
                group=u.domain,
                selected=chosen is not None and u.id == chosen.id,
            )
            for u in candidates
        ]
        message = None if candidates else f"No account of {hd} exists on this simulator."
        return render_signin_page(
            title="Sign in with Google",
            app_name=app.name,
            action_url=request.path,
            hidden=params,
            options=options,
            scopes=scopes,
            message=message,
        )

    def _authorize_submit(self, request: Request) -> Response:
        params = {key: request.form.get(key, "") for key in request.form}
        checked = self._validate_authorize(params)
        if isinstance(checked, Response):
            return checked
        app, redirect_uri, scopes = checked
        state = params.get("state") or None
        if params.get("decision") != "approve":
            return redirect_with_params(redirect_uri, {"error": "access_denied", "state": state})
        user = self.sim.users.get(params.get("user", ""))
        if user is None:
            return self._page_error(400, "invalid_request", "Choose an account to continue.")
        if user.suspended:
            return html_error_page("Account disabled", f"{user.primary_email} has been suspended.", 403)
        return self._issue_code(app, redirect_uri, user, scopes, params)

    def _issue_code(
        self,
        app: OAuthApp,
        redirect_uri: str,
        user: WorkspaceUser,
        scopes: Sequence[str],
        params: Mapping[str, str],
    ) -> Response:
        grant = self.sim.grants.setdefault((app.client_id, user.id), Grant())
        granted = set(scopes)
        if params.get("include_granted_scopes") == "true":
            granted |= grant.scopes
        grant.scopes |= set(scopes)
        offline = params.get("access_type") == "offline"
        # Google issues a refresh token on the first offline consent, or again with prompt=consent.
        wants_refresh = offline and (not grant.offline or "consent" in params.get("prompt", "").split())
        grant.offline = grant.offline or offline
        record = self.sim.codes.issue_for_request(
            params,
            client_id=app.client_id,
            redirect_uri=redirect_uri,
            subject=user.id,
            ttl_seconds=self.sim.code_ttl_seconds,
            scope=" ".join(sorted(granted)),
            extra={"nonce": params.get("nonce") or None, "refresh": wants_refresh},
            nbytes=40,
        )
        return redirect_with_params(
            redirect_uri,
            {
                "state": params.get("state") or None,
                "code": record.code,
                "scope": " ".join(sorted(granted)),
                "authuser": "0",
                "hd": user.domain,
                "prompt": "consent",
            },
        )
