"""Google Workspace (admin proof, calendar tenants) and Google Meet (conferencing)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel

from orgconnect.providers.answers import ANSWER_CONFIG, parse_answer
from orgconnect.providers.api import ProviderApi
from orgconnect.providers.base import (
    OAuthProvider,
    ProviderAccount,
    ProviderError,
    ProviderRefused,
    ProviderTokens,
    Purpose,
)
from orgconnect.providers.paging import TokenInBody

SCOPE = "https://www.googleapis.com/auth/"
DIRECTORY_READONLY = SCOPE + "admin.directory.user.readonly"
MEET = SCOPE + "meetings.space.created"
CALENDAR = SCOPE + "calendar"


class UserInfo(BaseModel):
    """OpenID userinfo; ``hd`` is set for Google Workspace accounts only."""

    model_config = ANSWER_CONFIG

    email: str | None = None
    hd: str | None = None
    email_verified: bool = True


class DirectoryUser(BaseModel):
    """Directory ``users.get``, the fields we read."""

    model_config = ANSWER_CONFIG

    customerId: str | None = None
    isAdmin: bool = False


class GoogleProvider(OAuthProvider):
    key = "google"
    label = "Google"
    token_auth_method = "client_secret_post"
    hosts: ClassVar[dict[str, str]] = {
        "accounts": "https://accounts.google.com",
        "oauth2": "https://oauth2.googleapis.com",
        "openid": "https://openidconnect.googleapis.com",
        "admin": "https://admin.googleapis.com",
    }

    def authorize_endpoint(self, purpose: Purpose, *, domain: str | None) -> str:
        return f"{self.host('accounts')}/o/oauth2/v2/auth"

    def token_endpoint(self, purpose: Purpose, *, domain: str | None) -> str:
        return f"{self.host('oauth2')}/token"

    def scopes(self, purpose: Purpose) -> list[str]:
        base = ["openid", "email", "profile", DIRECTORY_READONLY]
        if purpose is Purpose.ENTERPRISE_CONNECT:
            return [*base, CALENDAR]  # the service account's admin consent: directory and calendars
        return [*base, MEET] if purpose is Purpose.CONFERENCING else base

    def extra_authorize_params(self, purpose: Purpose, *, domain: str | None) -> dict[str, str]:
        params = {"access_type": "offline", "prompt": "consent"}
        if domain:
            params["hd"] = domain  # pre-select the Workspace domain; verified again after sign-in
        return params

    def read_account(
        self, tokens: ProviderTokens, purpose: Purpose, *, domain: str | None
    ) -> ProviderAccount:
        """OpenID userinfo (email, hd), then the Directory record (isAdmin, customerId)."""
        what = "Google userinfo"
        info = parse_answer(
            UserInfo, self.get_json(f"{self.host('openid')}/v1/userinfo", tokens, what=what), what=what
        )
        email = (info.email or "").lower()
        hosted_domain = (info.hd or "").lower()
        if not email or not hosted_domain or not info.email_verified:
            raise ProviderRefused(
                "the Google account is not a Google Workspace account", error="access_denied"
            )
        what = "Google directory user"
        try:
            user = parse_answer(
                DirectoryUser,
                self.get_json(f"{self.host('admin')}/admin/directory/v1/users/{email}", tokens, what=what),
                what=what,
            )
        except ProviderRefused as refused:
            if refused.status != 403:
                raise
            user = DirectoryUser()  # only administrators may read the directory's admin view
        return ProviderAccount(
            provider=self.key,
            account_id=user.customerId or hosted_domain,
            account_name=hosted_domain,
            user_email=email,
            user_is_admin=user.isAdmin,
            domain=hosted_domain,
        )


class GoogleApi(ProviderApi):
    """Google Workspace APIs (Directory, Meet): errors ``{"error": {"status"}}``, cursor
    ``nextPageToken`` sent back as ``pageToken``; refresh does not rotate the refresh token."""

    key = "google"
    label = "Google"
    hosts: ClassVar[dict[str, str]] = {**GoogleProvider.hosts, "meet": "https://meet.googleapis.com"}
    api_host = "admin"
    token_auth_method = GoogleProvider.token_auth_method
    paging = TokenInBody("nextPageToken", "pageToken")

    def token_url(self) -> str:
        return f"{self.host('oauth2')}/token"

    def error_code(self, body: Mapping[str, Any]) -> str | None:
        """The ``ErrorInfo`` reason when the error carries one (``SERVICE_DISABLED``: the API is
        off in the client's Cloud project), else the status (``PERMISSION_DENIED``…)."""
        error = body.get("error")
        if not isinstance(error, dict):
            return None
        details = error.get("details")
        for detail in details if isinstance(details, list) else []:
            reason = detail.get("reason") if isinstance(detail, dict) else None
            if isinstance(reason, str) and reason and str(detail.get("@type", "")).endswith("ErrorInfo"):
                return reason
        status = error.get("status")
        return status if isinstance(status, str) and status else None

    def revoke(self, token: str) -> bool:
        """``POST https://oauth2.googleapis.com/revoke``: revoking the refresh token (or an access
        token of the grant) revokes the whole grant. True when Google confirms (200); False for a
        refusal (``invalid_token``: already expired or revoked) or an outage (never raises). The
        token goes in the form body, never in the URL (Google also accepts ``?token=``)."""
        try:
            response = self._send(
                "POST",
                f"{self.host('oauth2')}/revoke",
                data={"token": token},
                headers={"Accept": "application/json"},
                idempotent=True,
            )
        except ProviderError:
            return False
        return response.is_success
