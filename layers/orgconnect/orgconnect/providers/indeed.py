"""Indeed Interview (recruiting): OAuth 2.0 with employer selection.

Indeed documents little publicly; this follows its OAuth 2.0 (``prompt=select_employer``,
``employer_access``) as modelled by the simulator (docs/simulators-calendar-and-others.md).
Employer selection is Indeed's own admin check: only someone who can act for the employer can
select it, so ``user_is_admin`` is true when the employer account is readable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from orgconnect.providers.base import OAuthProvider, ProviderAccount, ProviderRefused, ProviderTokens, Purpose


class IndeedProvider(OAuthProvider):
    key = "indeed"
    label = "Indeed"
    token_auth_method = "client_secret_post"
    hosts: ClassVar[dict[str, str]] = {
        "secure": "https://secure.indeed.com",
        "api": "https://apis.indeed.com",
    }

    def authorize_endpoint(self, purpose: Purpose, *, domain: str | None) -> str:
        return f"{self.host('secure')}/oauth/v2/authorize"

    def token_endpoint(self, purpose: Purpose, *, domain: str | None) -> str:
        return f"{self.host('secure')}/oauth/v2/tokens"

    def scopes(self, purpose: Purpose) -> list[str]:
        return ["email", "offline_access", "employer_access"]

    def extra_authorize_params(self, purpose: Purpose, *, domain: str | None) -> dict[str, str]:
        return {"prompt": "select_employer"}

    def callback_token_params(self, callback_query: Mapping[str, str]) -> dict[str, str]:
        """The employer chosen on Indeed's page binds the token to that employer account."""
        employer = callback_query.get("employer")
        return {"employer": employer} if employer else {}

    def read_account(
        self, tokens: ProviderTokens, purpose: Purpose, *, domain: str | None
    ) -> ProviderAccount:
        """The user (userinfo), then their record in the selected employer account."""
        info = self.get_json(f"{self.host('secure')}/v2/api/userinfo", tokens, what="Indeed userinfo")
        email = str(info.get("email") or "").lower()
        if not email:
            raise ProviderRefused("Indeed userinfo: no email")
        found = self.get_json(
            f"{self.host('api')}/v1/users", tokens, what="Indeed user lookup", params={"email": email}
        )
        users = found.get("users") or []
        if not users or not users[0].get("employerId"):
            raise ProviderRefused("the Indeed user is not part of an employer account", error="access_denied")
        employer = str(users[0]["employerId"])
        return ProviderAccount(
            provider=self.key,
            account_id=employer,
            account_name=str(users[0].get("employerName") or email.partition("@")[2]),
            user_email=email,
            user_is_admin=True,
            domain=email.partition("@")[2],
        )
