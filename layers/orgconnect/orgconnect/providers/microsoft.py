"""Microsoft 365 / Entra ID (admin proof, calendar tenants) and Microsoft Teams (conferencing)."""

from __future__ import annotations

from typing import ClassVar

from orgconnect.providers.base import OAuthProvider, ProviderAccount, ProviderRefused, ProviderTokens, Purpose

GRAPH = "https://graph.microsoft.com/"
GLOBAL_ADMIN_TEMPLATE = "62e90394-69f5-4237-9190-012177145e10"


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
        base = [
            "openid",
            "profile",
            "email",
            "offline_access",
            GRAPH + "User.Read",
            GRAPH + "Directory.Read.All",
        ]
        return [*base, GRAPH + "OnlineMeetings.ReadWrite"] if purpose is Purpose.CONFERENCING else base

    def read_account(
        self, tokens: ProviderTokens, purpose: Purpose, *, domain: str | None
    ) -> ProviderAccount:
        """Graph: the signed-in user, their tenant (organization) and Global Administrator role."""
        graph = self.host("graph")
        me = self.get_json(f"{graph}/v1.0/me", tokens, what="Graph me")
        organization = self.get_json(f"{graph}/v1.0/organization", tokens, what="Graph organization")
        roles = self.get_json(f"{graph}/v1.0/me/memberOf", tokens, what="Graph memberOf")
        orgs = organization.get("value") or []
        if not orgs:
            raise ProviderRefused("Graph organization: no tenant in the answer")
        tenant = orgs[0]
        email = str(me.get("mail") or me.get("userPrincipalName") or "").lower()
        verified = [str(d.get("name", "")).lower() for d in tenant.get("verifiedDomains", [])]
        user_domain = email.partition("@")[2]
        tenant_domain = user_domain if user_domain in verified else (verified[0] if verified else user_domain)
        is_admin = any(r.get("roleTemplateId") == GLOBAL_ADMIN_TEMPLATE for r in roles.get("value", []))
        return ProviderAccount(
            provider=self.key,
            account_id=str(tenant.get("id")),
            account_name=str(tenant.get("displayName") or tenant_domain),
            user_email=email,
            user_is_admin=is_admin,
            domain=tenant_domain,
        )
