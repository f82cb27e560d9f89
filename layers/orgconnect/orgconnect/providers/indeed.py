"""Indeed Interview (recruiting): OAuth 2.0 with employer selection.

Indeed documents little publicly; this follows its OAuth 2.0 (``prompt=select_employer``,
``employer_access``) as modelled by the simulator (docs/simulators-calendar-and-others.md).
Employer selection is Indeed's own admin check: only someone who can act for the employer can
select it, so ``user_is_admin`` is true when the employer account is readable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel

from orgconnect.providers.answers import ANSWER_CONFIG, NonEmptyStr, parse_answer
from orgconnect.providers.api import ProviderApi
from orgconnect.providers.base import OAuthProvider, ProviderAccount, ProviderRefused, ProviderTokens, Purpose


class IndeedUserInfo(BaseModel):
    """OpenID userinfo; we ask for the ``email`` scope, so the email is required."""

    model_config = ANSWER_CONFIG

    email: NonEmptyStr


class EmployerUser(BaseModel):
    model_config = ANSWER_CONFIG

    employerId: str | None = None
    employerName: str | None = None


class UserLookup(BaseModel):
    """``GET /v1/users?email=``: the user's records in employer accounts."""

    model_config = ANSWER_CONFIG

    users: list[EmployerUser] = []


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
        what = "Indeed userinfo"
        info = parse_answer(
            IndeedUserInfo,
            self.get_json(f"{self.host('secure')}/v2/api/userinfo", tokens, what=what),
            what=what,
        )
        email = info.email.lower()
        what = "Indeed user lookup"
        found = parse_answer(
            UserLookup,
            self.get_json(f"{self.host('api')}/v1/users", tokens, what=what, params={"email": email}),
            what=what,
        )
        employer = found.users[0] if found.users else None
        if employer is None or not employer.employerId:
            raise ProviderRefused("the Indeed user is not part of an employer account", error="access_denied")
        return ProviderAccount(
            provider=self.key,
            account_id=employer.employerId,
            account_name=employer.employerName or email.partition("@")[2],
            user_email=email,
            user_is_admin=True,
            domain=email.partition("@")[2],
        )


class IndeedApi(ProviderApi):
    """Indeed (user lookup, interviews): errors in RFC 6749 / 6750 shape ``{"error"}``; no paging."""

    key = "indeed"
    label = "Indeed"
    hosts = IndeedProvider.hosts
    token_auth_method = IndeedProvider.token_auth_method

    def token_url(self) -> str:
        return f"{self.host('secure')}/oauth/v2/tokens"

    def error_code(self, body: Mapping[str, Any]) -> str | None:
        error = body.get("error")
        return error if isinstance(error, str) and error else None
