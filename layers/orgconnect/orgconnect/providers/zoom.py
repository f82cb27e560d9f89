"""Zoom: admin-level OAuth app (account authorization) and the account read (providers.md 1.2-1.4);
the API client, with Server-to-Server OAuth (1.3), token revocation and the S2S connection test."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import BaseModel

from orgconnect.domain.connection_checks import (
    ZOOM_REQUIRED_SCOPES,
    CheckFailure,
    CheckName,
    ConnectionCheck,
    missing_scopes,
    run_steps,
)
from orgconnect.domain.model import ProviderApp
from orgconnect.domain.provider_model import (
    ProviderAnswerMalformed,
    ProviderError,
    ProviderRefused,
    ProviderUnavailable,
)
from orgconnect.providers.answers import ANSWER_CONFIG, NonEmptyStr, TokenAnswer, json_body, parse_answer
from orgconnect.providers.api import ProviderApi, _oauth_error
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

    # -- Server-to-Server OAuth (providers.md 1.3) ---------------------------------------------

    def account_credentials(self, account_id: str) -> ProviderTokens:
        """``POST /oauth/token`` with ``grant_type=account_credentials`` and HTTP Basic of the S2S
        app (``self.app``): an access token for the account (one hour, no refresh token). The
        token's ``scope`` lists what the app was granted. ProviderRefused carries the OAuth error."""
        what = f"{self.label} account_credentials"
        form = {"grant_type": "account_credentials", "account_id": account_id}
        headers = {"Accept": "application/json", "Authorization": _basic(self.app)}
        # Not idempotent in form only: a lost answer just leaves a token that expires unused.
        response = self._send("POST", self.token_url(), data=form, headers=headers, idempotent=True)
        if response.is_success:
            answer = parse_answer(TokenAnswer, json_body(response, what=what), what=what)
            self.tokens = answer.tokens()
            return self.tokens
        error = _oauth_error(response)
        raise ProviderRefused(
            f"{what}: {self.label} answered {response.status_code}" + (f" ({error})" if error else ""),
            error=error or f"http_{response.status_code}",
            status=response.status_code,
        )

    def revoke(self, token: str) -> bool:
        """``POST /oauth/revoke`` with orgconnect's app (Basic): Zoom revokes the whole
        authorization. True when Zoom confirms; False for any refusal or outage (never raises).
        The token goes in the form body, as Zoom's token endpoint accepts its parameters: never
        in a URL, which HTTP clients and proxies log."""
        try:
            response = self._send(
                "POST",
                f"{self.host('oauth')}/oauth/revoke",
                data={"token": token},
                headers={"Accept": "application/json", "Authorization": _basic(self.app)},
                idempotent=True,
            )
        except ProviderError:
            return False
        return response.is_success


def _basic(app: ProviderApp) -> str:
    pair = f"{quote(app.client_id, safe='')}:{quote(app.client_secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


# -- "Test connection" of a Server-to-Server app (SPEC 4; issue 11 item 1) -----------------------

SCOPE_MISSING_CODE = "4711"  # "Invalid access token, does not contain scopes:[…]" (providers.md 1.1)


def check_server_to_server(api: ZoomApi, account_id: str) -> ConnectionCheck:
    """Token, scopes, account read, plan: each named when it fails; ProviderUnavailable (network,
    timeout, 5xx, 429, or an answer that is not Zoom's JSON) when Zoom cannot tell us."""
    try:
        tokens = api.account_credentials(account_id)
    except ProviderRefused as refused:
        return _failed(CheckName.CREDENTIALS, _token_failure(refused), refused)
    except ProviderAnswerMalformed as malformed:
        raise ProviderUnavailable(malformed.description) from None
    granted = tuple((tokens.scope or "").split())
    missing = tuple(missing_scopes(tokens.scope))
    if missing:
        return ConnectionCheck(
            run_steps(CheckName.SCOPES, {CheckName.SCOPES: "missing: " + ", ".join(missing)}),
            CheckFailure.MISSING_SCOPES,
            missing_scopes=missing,
            granted_scopes=granted,
        )
    try:
        step = "read a user"
        me = parse_answer(ZoomMe, api.get("/v2/users/me"), what="Zoom users/me")
        step = "list users"
        api.get("/v2/users", params={"status": "active", "page_size": "1"})
    except ProviderRefused as refused:
        if refused.error == SCOPE_MISSING_CODE:  # Zoom can refuse a scope its token answer listed
            named = tuple(r.name for r in ZOOM_REQUIRED_SCOPES if r.capability == step)
            return ConnectionCheck(
                run_steps(CheckName.SCOPES, {CheckName.SCOPES: "missing: " + ", ".join(named)}),
                CheckFailure.MISSING_SCOPES,
                missing_scopes=named,
                granted_scopes=granted,
            )
        return _failed(CheckName.ACCOUNT, CheckFailure.REFUSED, refused, granted)
    except ProviderAnswerMalformed as malformed:
        raise ProviderUnavailable(malformed.description) from None
    if me.account_id != account_id:
        return _failed(CheckName.ACCOUNT, CheckFailure.UNKNOWN_ACCOUNT, None, granted)
    email = me.email.lower()
    name = me.company or email.partition("@")[2]
    if me.type == BASIC_USER_TYPE:
        steps = run_steps(CheckName.PAID_PLAN, {CheckName.PAID_PLAN: "the account is on the Free plan"})
        return ConnectionCheck(
            steps, CheckFailure.FREE_PLAN, granted_scopes=granted, account_id=me.account_id
        )
    return ConnectionCheck(
        run_steps(None, {}), None, granted_scopes=granted, account_id=me.account_id, account_name=name
    )


def _token_failure(refused: ProviderRefused) -> CheckFailure:
    if refused.error == "invalid_client" or refused.status in (401, 403):
        return CheckFailure.BAD_CLIENT_CREDENTIALS
    if refused.error == "unsupported_grant_type":
        return CheckFailure.NOT_SERVER_TO_SERVER
    if refused.error == "invalid_request":
        return CheckFailure.UNKNOWN_ACCOUNT  # Zoom's answer to an account id that is not the app's
    return CheckFailure.REFUSED


def _failed(
    at: CheckName, failure: CheckFailure, refused: ProviderRefused | None, granted: tuple[str, ...] = ()
) -> ConnectionCheck:
    detail = f"HTTP {refused.status}, {refused.error}" if refused is not None else ""
    return ConnectionCheck(
        run_steps(at, {at: str(failure).replace("_", " ")}), failure, granted_scopes=granted, detail=detail
    )
