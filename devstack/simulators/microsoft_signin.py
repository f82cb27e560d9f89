"""Microsoft identity platform, interactive part: ``/{tenant}/oauth2/v2.0/authorize`` and admin consent.

The sign-in page lists the tenant's users; consent is recorded per app (delegated permissions by
user, application permissions by an administrator's admin consent).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from devstack.simulators.common import (
    OAuthApp,
    SignInOption,
    html_error_page,
    redirect_with_params,
    render_signin_page,
)
from devstack.simulators.microsoft_errors import aadsts_body
from devstack.simulators.microsoft_model import (
    ADMIN_ONLY_DELEGATED,
    APPLICATION_PERMISSIONS,
    DEFAULT_APPLICATION_PERMISSIONS,
    DEFAULT_DELEGATED_PERMISSIONS,
    DELEGATED_PERMISSIONS,
    GRAPH_APP_ID,
    GRAPH_RESOURCE,
    OIDC_SCOPES,
    ScopeError,
    TenantConsent,
)
from devstack.simulators.provider_kit import split_scopes
from devstack.simulators.simulator import RouteSpec

if TYPE_CHECKING:
    from devstack.simulators.microsoft import MicrosoftSimulator


class MicrosoftSignIn:
    """The interactive endpoints: ``/authorize`` (sign-in and consent) and admin consent."""

    def __init__(self, sim: MicrosoftSimulator) -> None:
        self.sim = sim

    def routes(self) -> list[RouteSpec]:
        """The sign-in and admin-consent routes."""
        return [
            ("/<tenant>/oauth2/v2.0/authorize", self._authorize, "GET", "authorize"),
            ("/<tenant>/oauth2/v2.0/authorize", self._authorize_submit, "POST", "authorize"),
            ("/<tenant>/adminconsent", self._admin_consent, "GET", "authorize"),
            ("/<tenant>/adminconsent", self._admin_consent_submit, "POST", "authorize"),
            ("/<tenant>/v2.0/adminconsent", self._admin_consent, "GET", "authorize"),
            ("/<tenant>/v2.0/adminconsent", self._admin_consent_submit, "POST", "authorize"),
        ]

    def _app_permissions(self, app: OAuthApp) -> tuple[set[str], set[str]]:
        """(application permissions, delegated permissions) of an app registration."""
        roles = set(app.meta.get("application_permissions", DEFAULT_APPLICATION_PERMISSIONS))
        delegated = set(app.meta.get("delegated_permissions", DEFAULT_DELEGATED_PERMISSIONS))
        return roles, delegated

    def normalize_scopes(self, raw: str) -> tuple[list[str], bool]:
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
                    raise ScopeError(item)
            if lowered == ".default":
                wants_default = True
                continue
            canonical = by_lower.get(lowered)
            if canonical is None:
                raise ScopeError(item)
            result.append(canonical)
        if wants_default and any(name not in OIDC_SCOPES for name in result):
            # Entra ID refuses /.default next to other scopes of the same resource (AADSTS70011).
            raise ScopeError(f"{GRAPH_RESOURCE}/.default combined with other Graph scopes")
        return list(dict.fromkeys(result)), wants_default

    def _signin_options(self, hint: str | None) -> list[SignInOption]:
        hinted = self.sim.find_user(hint) if hint else None
        chosen = hinted or next((u for u in self.sim.users.values() if self.sim.is_global_admin(u)), None)
        return [
            SignInOption(
                value=u.id,
                label=f"{u.display_name} <{u.user_principal_name}>"
                + (" - Global Administrator" if self.sim.is_global_admin(u) else ""),
                group=self.sim.domain,
                selected=chosen is not None and u.id == chosen.id,
            )
            for u in sorted(self.sim.users.values(), key=lambda u: u.created)
        ]

    def _client_and_redirect(
        self, segment: str, params: Mapping[str, str]
    ) -> tuple[OAuthApp, str] | Response:
        """Validate tenant, client and redirect URI; errors here are pages, never redirects."""
        if self.sim.tenant_kind(segment) is None:
            return html_error_page("Sign in", f"AADSTS90002: {self.sim.tenant_not_found(segment)}", 400)
        client_id = params.get("client_id", "")
        app = self.sim.apps.get(client_id)
        if app is None or app.kind != "oauth":
            return html_error_page(
                "Sign in",
                f"AADSTS700016: Application with identifier '{client_id}' was not found in the directory "
                f"'{self.sim.tenant_display_name}'. This can happen if the application has not been "
                "installed by the administrator of the tenant or consented to by any user in the tenant.",
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
        body = aadsts_body(error, code, message, self.sim.clock.now())
        return redirect_with_params(
            redirect_uri,
            {"error": error, **extra, "error_description": body["error_description"], "state": state},
        )

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
            scopes, wants_default = self.normalize_scopes(params["scope"])
        except ScopeError as exc:
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
            scopes, wants_default = self.normalize_scopes(params.get("scope", ""))
        except ScopeError:
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
        user = self.sim.users.get(params.get("user", ""))
        if user is None:
            return html_error_page(
                "Sign in", "AADSTS50034: The user account does not exist in this directory."
            )
        if not user.account_enabled:
            return html_error_page("Sign in", "AADSTS50057: The user account is disabled.", 400)
        consent = self.sim.consents.get(app.client_id, TenantConsent())
        _, app_delegated = self._app_permissions(app)
        granted = set(scopes)
        if wants_default:
            granted |= app_delegated | consent.delegated
        needs_admin = (granted & ADMIN_ONLY_DELEGATED) - consent.delegated
        is_admin = self.sim.is_global_admin(user)
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
        record = self.sim.codes.issue_for_request(
            params,
            client_id=app.client_id,
            redirect_uri=redirect_uri,
            subject=user.id,
            ttl_seconds=self.sim.code_ttl_seconds,
            scope=" ".join(sorted(granted)),
            extra={"nonce": params.get("nonce") or None},
            nbytes=48,
        )
        return redirect_with_params(redirect_uri, {"code": record.code, "state": state})

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
        error = self.sim.admin_consent_error
        if params.get("decision") != "approve":
            return self._error_redirect(
                redirect_uri,
                state,
                error,
                65004,
                "The resource owner or authorization server denied the request.",
            )
        user = self.sim.users.get(params.get("user", ""))
        if user is None or not user.account_enabled:
            return html_error_page("Sign in", "AADSTS50057: The user account is disabled or does not exist.")
        if not self.sim.is_global_admin(user):
            return self._error_redirect(
                redirect_uri,
                state,
                error,
                90093,
                f"{app.name} is requesting one or more permissions that you are not authorized to grant. "
                "Contact an administrator, who can consent to this application on your behalf.",
            )
        try:
            extra_scopes, _ = self.normalize_scopes(params.get("scope", ""))
        except ScopeError:
            extra_scopes = []
        self._record_admin_consent(app, extra_scopes)
        answer: dict[str, str | None] = {
            "tenant": self.sim.tenant_id,
            "state": state,
            "admin_consent": "True",
        }
        if "/v2.0/" in request.path:
            answer["scope"] = params.get("scope")
        return redirect_with_params(redirect_uri, answer)

    def _record_admin_consent(self, app: OAuthApp, extra_scopes: Iterable[str]) -> None:
        roles, delegated = self._app_permissions(app)
        extra = set(extra_scopes)
        consent = self.sim.consents.setdefault(app.client_id, TenantConsent())
        consent.roles |= roles | (extra & APPLICATION_PERMISSIONS)
        consent.delegated |= (delegated | (extra & DELEGATED_PERMISSIONS)) - OIDC_SCOPES
