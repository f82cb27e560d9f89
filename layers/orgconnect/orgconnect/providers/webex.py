"""Webex: integration OAuth with admin scopes, and the authorizing person (providers.md 2)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, Field

from orgconnect.providers.answers import ANSWER_CONFIG, NonEmptyStr, parse_answer
from orgconnect.providers.api import ProviderApi
from orgconnect.providers.base import OAuthProvider, ProviderAccount, ProviderTokens, Purpose
from orgconnect.providers.paging import LinkHeader

FULL_ADMIN_ROLE = "/ROLE/id_full_admin"


class WebexPerson(BaseModel):
    """``GET /v1/people/me``, the fields we read."""

    model_config = ANSWER_CONFIG

    emails: Annotated[list[NonEmptyStr], Field(min_length=1)]
    orgId: NonEmptyStr
    roles: list[str] = []


def _decoded_id(webex_id: str) -> str:
    """Webex ids are unpadded base64url of ``ciscospark://us/{KIND}/{id}``."""
    try:
        return base64.urlsafe_b64decode(webex_id + "=" * (-len(webex_id) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return ""


class WebexProvider(OAuthProvider):
    key = "webex"
    label = "Webex"
    token_auth_method = "client_secret_post"  # Webex wants the client credentials in the form body
    hosts: ClassVar[dict[str, str]] = {"api": "https://webexapis.com"}

    def authorize_endpoint(self, purpose: Purpose, *, domain: str | None) -> str:
        return f"{self.host('api')}/v1/authorize"

    def token_endpoint(self, purpose: Purpose, *, domain: str | None) -> str:
        return f"{self.host('api')}/v1/access_token"

    def scopes(self, purpose: Purpose) -> list[str]:
        return ["spark:people_read", "spark-admin:people_read", "meeting:admin_schedule_write"]

    def read_account(
        self, tokens: ProviderTokens, purpose: Purpose, *, domain: str | None
    ) -> ProviderAccount:
        """``GET /v1/people/me``: the person, their organization and whether they are a full admin."""
        what = "Webex people/me"
        me = parse_answer(
            WebexPerson, self.get_json(f"{self.host('api')}/v1/people/me", tokens, what=what), what=what
        )
        email = me.emails[0].lower()
        return ProviderAccount(
            provider=self.key,
            account_id=me.orgId,
            account_name=email.partition("@")[2],
            user_email=email,
            user_is_admin=any(_decoded_id(role).endswith(FULL_ADMIN_ROLE) for role in me.roles),
            domain=email.partition("@")[2],
        )


class WebexApi(ProviderApi):
    """Webex's REST API: errors ``{"message"}`` (the message is the only code), paging by the
    ``Link`` header (with Webex's next-URL quirks repaired)."""

    key = "webex"
    label = "Webex"
    hosts = WebexProvider.hosts
    token_auth_method = WebexProvider.token_auth_method
    paging = LinkHeader()
    items_key = "items"

    def token_url(self) -> str:
        return f"{self.host('api')}/v1/access_token"

    def error_code(self, body: Mapping[str, Any]) -> str | None:
        message = body.get("message")
        return message if isinstance(message, str) and message else None
