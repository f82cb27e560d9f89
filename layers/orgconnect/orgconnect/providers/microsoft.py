"""Microsoft 365 / Entra ID (admin proof, calendar tenants) and Microsoft Teams (conferencing)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, Field

from orgconnect.providers.answers import ANSWER_CONFIG, NonEmptyStr, TokenAnswer, json_body, parse_answer
from orgconnect.providers.api import ProviderApi, _oauth_error
from orgconnect.providers.base import (
    OAuthProvider,
    ProviderAccount,
    ProviderAnswerMalformed,
    ProviderRefused,
    ProviderTokens,
    Purpose,
)
from orgconnect.providers.paging import NextLinkInBody

GRAPH = "https://graph.microsoft.com/"
GLOBAL_ADMIN_TEMPLATE = "62e90394-69f5-4237-9190-012177145e10"


class GraphMe(BaseModel):
    """``GET /v1.0/me``, the fields we read."""

    model_config = ANSWER_CONFIG

    mail: str | None = None
    userPrincipalName: str | None = None


class VerifiedDomain(BaseModel):
    model_config = ANSWER_CONFIG

    name: str = ""


class Organization(BaseModel):
    model_config = ANSWER_CONFIG

    id: NonEmptyStr
    displayName: str | None = None
    verifiedDomains: list[VerifiedDomain] = []


class Organizations(BaseModel):
    """``GET /v1.0/organization``: the signed-in user's tenant."""

    model_config = ANSWER_CONFIG

    value: Annotated[list[Organization], Field(min_length=1)]


class DirectoryObject(BaseModel):
    model_config = ANSWER_CONFIG

    roleTemplateId: str | None = None  # set on directory roles only


class MemberOf(BaseModel):
    """``GET /v1.0/me/memberOf``: groups and directory roles."""

    model_config = ANSWER_CONFIG

    value: list[DirectoryObject]


class MicrosoftProvider(OAuthProvider):
    key = "microsoft"
    label = "Microsoft"
    token_auth_method = "client_secret_post"
    hosts: ClassVar[dict[str, str]] = {
        "login": "https://login.microsoftonline.com",
        "graph": "https://graph.microsoft.com",
    }

    @staticmethod
    def _tenant(domain: str | None) -> str:
        # A verified domain names its tenant; without one, any work account may sign in.
        return domain or "organizations"

    def authorize_endpoint(self, purpose: Purpose, *, domain: str | None) -> str:
        return f"{self.host('login')}/{self._tenant(domain)}/oauth2/v2.0/authorize"

    def token_endpoint(self, purpose: Purpose, *, domain: str | None) -> str:
        return f"{self.host('login')}/{self._tenant(domain)}/oauth2/v2.0/token"

    def scopes(self, purpose: Purpose) -> list[str]:
        if purpose in (Purpose.ENTERPRISE_CONNECT, Purpose.CONFERENCING):
            # A Global Administrator's consent to /.default is tenant-wide and covers every
            # permission configured on the app, application ones included (Teams needs
            # OnlineMeetings.ReadWrite.All and User.Read.All for its app-only token); it is the
            # /adminconsent endpoint's grant, with the code and the admin's tokens in the same step.
            return ["openid", "profile", "email", "offline_access", GRAPH + ".default"]
        return [
            "openid",
            "profile",
            "email",
            "offline_access",
            GRAPH + "User.Read",
            GRAPH + "Directory.Read.All",
        ]

    def read_account(
        self, tokens: ProviderTokens, purpose: Purpose, *, domain: str | None
    ) -> ProviderAccount:
        """Graph: the signed-in user, their tenant (organization) and Global Administrator role."""
        graph = self.host("graph")
        me = parse_answer(
            GraphMe, self.get_json(f"{graph}/v1.0/me", tokens, what="Graph me"), what="Graph me"
        )
        organization = parse_answer(
            Organizations,
            self.get_json(f"{graph}/v1.0/organization", tokens, what="Graph organization"),
            what="Graph organization",
        )
        roles = parse_answer(
            MemberOf,
            self.get_json(f"{graph}/v1.0/me/memberOf", tokens, what="Graph memberOf"),
            what="Graph memberOf",
        )
        email = (me.mail or me.userPrincipalName or "").lower()
        if not email:
            raise ProviderAnswerMalformed("Graph me: unexpected answer (mail, userPrincipalName: missing)")
        tenant = organization.value[0]
        verified = [d.name.lower() for d in tenant.verifiedDomains]
        user_domain = email.partition("@")[2]
        tenant_domain = user_domain if user_domain in verified else (verified[0] if verified else user_domain)
        return ProviderAccount(
            provider=self.key,
            account_id=tenant.id,
            account_name=tenant.displayName or tenant_domain,
            user_email=email,
            user_is_admin=any(r.roleTemplateId == GLOBAL_ADMIN_TEMPLATE for r in roles.value),
            domain=tenant_domain,
        )


class GraphApi(ProviderApi):
    """Microsoft Graph (Teams meetings, users): errors ``{"error": {"code"}}``, paging by
    ``@odata.nextLink``; refresh rotates the refresh token. ``tenant`` picks the token endpoint."""

    key = "microsoft"
    label = "Microsoft Graph"
    hosts = MicrosoftProvider.hosts
    api_host = "graph"
    token_auth_method = MicrosoftProvider.token_auth_method
    paging = NextLinkInBody()
    items_key = "value"

    def token_url(self) -> str:
        return f"{self.host('login')}/{self.tenant or 'organizations'}/oauth2/v2.0/token"

    def error_code(self, body: Mapping[str, Any]) -> str | None:
        error = body.get("error")
        code = error.get("code") if isinstance(error, dict) else None
        return code if isinstance(code, str) and code else None

    def client_credentials(self) -> ProviderTokens:
        """An app-only Graph token for the connection's tenant (``client_credentials`` with
        ``https://graph.microsoft.com/.default``): what ``POST /users/{id}/onlineMeetings`` for
        another user needs. Keeps it for the next calls; it has no refresh token (get another).
        ProviderRefused carries the OAuth error (``unauthorized_client``: no admin consent)."""
        what = f"{self.label} client_credentials"
        if not self.tenant:
            raise ProviderRefused(f"{what}: no tenant is known", error="invalid_request")
        form = {
            "grant_type": "client_credentials",
            "client_id": self.app.client_id,
            "client_secret": self.app.client_secret,
            "scope": GRAPH + ".default",
        }
        # Safe to replay: a lost answer only leaves an unused token that expires.
        response = self._send(
            "POST", self.token_url(), data=form, headers={"Accept": "application/json"}, idempotent=True
        )
        if response.is_success:
            self.tokens = parse_answer(TokenAnswer, json_body(response, what=what), what=what).tokens()
            return self.tokens
        error = _oauth_error(response)
        raise ProviderRefused(
            f"{what}: {self.label} answered {response.status_code}" + (f" ({error})" if error else ""),
            error=error or f"http_{response.status_code}",
            status=response.status_code,
        )
