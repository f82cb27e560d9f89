"""Zoom: admin-level OAuth app (account authorization) and the account read (providers.md 1.2-1.4)."""

from __future__ import annotations

from typing import ClassVar

from orgconnect.providers.base import OAuthProvider, ProviderAccount, ProviderRefused, ProviderTokens, Purpose

BASIC_USER_TYPE = 1  # Zoom user type 1 = Basic: every user of a Free account is Basic
ADMIN_ROLE_IDS = frozenset({"0", "1"})  # owner, admin


class ZoomProvider(OAuthProvider):
    key = "zoom"
    label = "Zoom"
    token_auth_method = "client_secret_basic"  # Zoom's token endpoint takes HTTP Basic only
    hosts: ClassVar[dict[str, str]] = {"oauth": "https://zoom.us", "api": "https://api.zoom.us"}

    def authorize_endpoint(self, purpose: Purpose, *, domain: str | None) -> str:
        return f"{self.host('oauth')}/oauth/authorize"

    def token_endpoint(self, purpose: Purpose, *, domain: str | None) -> str:
        return f"{self.host('oauth')}/oauth/token"

    def scopes(self, purpose: Purpose) -> list[str]:
        # Admin-level app scopes are configured on the app itself; Zoom ignores the parameter.
        return []

    def read_account(
        self, tokens: ProviderTokens, purpose: Purpose, *, domain: str | None
    ) -> ProviderAccount:
        """``GET /v2/users/me``: the authorizing user, their account and (by user type) the plan."""
        me = self.get_json(f"{self.host('api')}/v2/users/me", tokens, what="Zoom users/me")
        if not isinstance(me, dict) or not me.get("account_id") or not me.get("email"):
            raise ProviderRefused("Zoom users/me: unexpected answer")
        email = str(me["email"]).lower()
        return ProviderAccount(
            provider=self.key,
            account_id=str(me["account_id"]),
            account_name=str(me.get("company") or email.partition("@")[2]),
            user_email=email,
            user_is_admin=str(me.get("role_id")) in ADMIN_ROLE_IDS,
            paid=int(me.get("type", BASIC_USER_TYPE)) != BASIC_USER_TYPE,
            domain=email.partition("@")[2],
        )
