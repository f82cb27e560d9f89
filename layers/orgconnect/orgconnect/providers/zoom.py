"""Zoom: admin-level OAuth app (account authorization) and the account read (providers.md 1.2-1.4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel

from orgconnect.providers.answers import ANSWER_CONFIG, NonEmptyStr, parse_answer
from orgconnect.providers.api import ProviderApi
from orgconnect.providers.base import OAuthProvider, ProviderAccount, ProviderTokens, Purpose
from orgconnect.providers.paging import TokenInBody

BASIC_USER_TYPE = 1  # Zoom user type 1 = Basic: every user of a Free account is Basic
ADMIN_ROLE_IDS = frozenset({"0", "1"})  # owner, admin


class ZoomMe(BaseModel):
    """``GET /v2/users/me``, the fields we read."""

    model_config = ANSWER_CONFIG

    account_id: NonEmptyStr
    email: NonEmptyStr
    company: str | None = None
    role_id: str | int | None = None
    type: int = BASIC_USER_TYPE


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
        what = "Zoom users/me"
        me = parse_answer(
            ZoomMe, self.get_json(f"{self.host('api')}/v2/users/me", tokens, what=what), what=what
        )
        email = me.email.lower()
        return ProviderAccount(
            provider=self.key,
            account_id=me.account_id,
            account_name=me.company or email.partition("@")[2],
            user_email=email,
            user_is_admin=str(me.role_id) in ADMIN_ROLE_IDS,
            paid=me.type != BASIC_USER_TYPE,
            domain=email.partition("@")[2],
        )


class ZoomApi(ProviderApi):
    """Zoom's REST API (``/v2``): errors ``{"code", "message"}``, cursor ``next_page_token``;
    every refresh rotates the refresh token (providers.md 1.2)."""

    key = "zoom"
    label = "Zoom"
    hosts = ZoomProvider.hosts
    token_auth_method = ZoomProvider.token_auth_method
    paging = TokenInBody("next_page_token", "next_page_token")

    def token_url(self) -> str:
        return f"{self.host('oauth')}/oauth/token"

    def error_code(self, body: Mapping[str, Any]) -> str | None:
        code = body.get("code")
        return str(code) if isinstance(code, int | str) and not isinstance(code, bool) else None
