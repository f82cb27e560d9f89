"""The demo integrator's backend calls to orgconnect's API, as an integrator's server makes them.

Every call answers a value or raises :class:`ApiProblem` with a sentence the page can show
(never a token). The service-account token is refreshed once when the API refuses it.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from devstack.integrator import IntegratorConfig

TIMEOUT = httpx.Timeout(15.0)
DELEGATED_SCOPE = "read_only"


class ApiProblem(Exception):
    """An API call did not give what the demo needs; str() is safe to show."""


def _problem(what: str, response: httpx.Response) -> ApiProblem:
    try:
        body = response.json()
    except ValueError:
        body = {}
    detail = body.get("error_description") or body.get("error") if isinstance(body, dict) else None
    if isinstance(body, dict) and isinstance(body.get("errors"), dict):
        detail = "; ".join(
            f"{name}: {', '.join(str(e.get('description', e.get('key', ''))) for e in errors)}"
            for name, errors in body["errors"].items()
            if isinstance(errors, list)
        )
    return ApiProblem(f"{what} answered {response.status_code}" + (f": {detail}" if detail else ""))


def _json(what: str, response: httpx.Response, expected: int = 200) -> dict[str, Any]:
    if response.status_code != expected:
        raise _problem(what, response)
    try:
        body = response.json()
    except ValueError as error:
        raise ApiProblem(f"{what} answered something that is not JSON") from error
    if not isinstance(body, dict):
        raise ApiProblem(f"{what} answered something that is not a JSON object")
    return body


class DemoApi:
    """orgconnect's API seen from the demo integrator's server."""

    def __init__(self, config: IntegratorConfig, http: httpx.Client | None = None) -> None:
        self.config = config
        self.http = http or httpx.Client(timeout=TIMEOUT)
        self._service_account_lock = threading.Lock()

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.http.request(method, f"{self.config.api_url}{path}", **kwargs)
        except httpx.HTTPError as error:
            raise ApiProblem(f"{method} {path} did not answer ({type(error).__name__})") from error

    def redeem_code(self, code: str, redirect_uri: str) -> dict[str, Any]:
        """POST /oauth/token (authorization_code): the token response."""
        response = self._call(
            "POST",
            "/oauth/token",
            json={
                "client_id": self.config.client_id,
                "client_secret": self.config.client_secret,
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
            },
        )
        return _json("POST /oauth/token", response)

    def organization(self, ou_token: str) -> dict[str, Any]:
        """GET /v1/organizational_unit with the OU token."""
        response = self._call("GET", "/v1/organizational_unit", headers=_bearer(ou_token))
        return _json("GET /v1/organizational_unit", response)

    def userinfo(self, token: str) -> dict[str, Any]:
        """GET /v1/userinfo with an account token."""
        return _json("GET /v1/userinfo", self._call("GET", "/v1/userinfo", headers=_bearer(token)))

    def request_access(self, entries: list[dict[str, str]]) -> None:
        """POST /v1/service_account_authorizations: one entry as is, several as a batch."""
        body: dict[str, Any] = (
            dict(entries[0]) if len(entries) == 1 else {"service_account_authorizations": entries}
        )
        with self._service_account_lock:
            token = self.config.service_account_token
        if not token:
            raise ApiProblem("the dev stack has no service account token (it runs without simulators)")
        path = "/v1/service_account_authorizations"
        response = self._call("POST", path, headers=_bearer(token), json=body)
        if response.status_code == 401:
            response = self._call(
                "POST", path, headers=_bearer(self._refresh_service_account(token)), json=body
            )
        if response.status_code != 202:
            raise _problem(f"POST {path}", response)

    def _refresh_service_account(self, refused: str) -> str:
        """A fresh service-account token (once, even when several requests were refused)."""
        with self._service_account_lock:
            if self.config.service_account_token != refused:
                return self.config.service_account_token  # another request refreshed it
            response = self._call(
                "POST",
                "/oauth/token",
                json={
                    "client_id": self.config.client_id,
                    "client_secret": self.config.client_secret,
                    "grant_type": "refresh_token",
                    "refresh_token": self.config.service_account_refresh_token,
                },
            )
            body = _json("POST /oauth/token (refresh_token)", response)
            self.config.service_account_token = str(body["access_token"])
            self.config.service_account_refresh_token = str(body["refresh_token"])
            return self.config.service_account_token

    def create_meeting(self, account_token: str, summary: str) -> dict[str, Any]:
        """POST /v1/conferencing for the account's default profile, in an hour, for 30 minutes."""
        start = (datetime.now(UTC) + timedelta(hours=1)).replace(second=0, microsecond=0)
        response = self._call(
            "POST",
            "/v1/conferencing",
            headers=_bearer(account_token),
            json={
                "profile_id": "default",
                "summary": summary,
                "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "end": (start + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "tzid": "Etc/UTC",
            },
        )
        body = _json("POST /v1/conferencing", response, expected=201)
        conferencing = body.get("conferencing")
        if not isinstance(conferencing, dict):
            raise ApiProblem("POST /v1/conferencing answered without a conferencing object")
        return conferencing


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
