"""The calendar-tenant directory lookup against scripted provider answers (httpx.MockTransport):
expired admin tokens are refreshed and the rotated ones written back first; 404 (and Google's 403
for another domain) mean absent; refused credentials make the tenant unusable."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from orgconnect.domain.accounts import CalendarTenant
from orgconnect.domain.model import CalendarProvider, ProviderApp, ServiceAccount
from orgconnect.domain.provider_model import ProviderTokens
from orgconnect.providers.api import ProviderApi
from orgconnect.providers.directory import ProviderDirectory, TenantUnusable
from orgconnect.providers.google import GoogleApi
from orgconnect.providers.microsoft import GraphApi
from orgconnect.providers.retry import RetryPolicy

NOW = 1_000_000
APP = ProviderApp("app-id", "app-secret")


def tenant(provider: CalendarProvider, domain: str) -> CalendarTenant:
    return CalendarTenant(
        ServiceAccount("ser_" + "1" * 24, "cli_x", provider, domain), "arn:secret", "read_write"
    )


class Registry:
    """Builds the API client over a scripted transport (what ProviderRegistry.api_client does)."""

    def __init__(self, answer: Any) -> None:
        self.transport = httpx.MockTransport(answer)

    def api_client(
        self, key: str, tokens: ProviderTokens | None, *, tenant: str | None = None
    ) -> ProviderApi:
        cls = GoogleApi if key == "google" else GraphApi
        return cls(APP, tokens, tenant=tenant, transport=self.transport, retry_policy=RetryPolicy(attempts=1))


def directory(answer: Any, credentials: dict[str, Any], written: list[dict[str, Any]]) -> ProviderDirectory:
    registry: Any = Registry(answer)
    return ProviderDirectory(
        registry,
        read_secret=lambda arn: dict(credentials),
        write_secret=lambda arn, value: written.append(dict(value)),
        clock=lambda: NOW,
    )


def test_an_expired_microsoft_token_is_refreshed_and_the_rotated_one_kept_before_the_lookup() -> None:
    written: list[dict[str, Any]] = []
    order: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/v2.0/token"):
            order.append("refresh")
            assert "tenant-1" in request.url.path
            return httpx.Response(
                200, json={"access_token": "new", "refresh_token": "rotated", "expires_in": 3600}
            )
        order.append(f"lookup after {len(written)} write")
        assert request.headers["Authorization"] == "Bearer new"
        return httpx.Response(200, json={"id": "u-1", "mail": "Bo@Subsidiary.example", "displayName": "Bo"})

    credentials = {
        "access_token": "old",
        "refresh_token": "r1",
        "expires_at": NOW - 5,
        "tenant_id": "tenant-1",
    }
    user = directory(answer, credentials, written).find(
        tenant(CalendarProvider.MICROSOFT_365, "subsidiary.example"), "bo@subsidiary.example"
    )
    assert user is not None and (user.user_id, user.email, user.name) == (
        "u-1",
        "bo@subsidiary.example",
        "Bo",
    )
    assert order == ["refresh", "lookup after 1 write"]
    assert written[0]["refresh_token"] == "rotated" and written[0]["tenant_id"] == "tenant-1"


def test_a_401_refreshes_once_then_looks_up_again() -> None:
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            calls.append("refresh")
            return httpx.Response(200, json={"access_token": "new", "expires_in": 3600})
        calls.append(request.headers["Authorization"])
        if request.headers["Authorization"] == "Bearer old":
            return httpx.Response(401, json={"error": {"status": "UNAUTHENTICATED"}})
        return httpx.Response(
            200, json={"id": "g-1", "primaryEmail": "ada@example.com", "name": {"fullName": "Ada"}}
        )

    written: list[dict[str, Any]] = []
    credentials = {"access_token": "old", "refresh_token": "r1", "expires_at": NOW + 3000}
    user = directory(answer, credentials, written).find(
        tenant(CalendarProvider.GOOGLE_WORKSPACE, "example.com"), "ada@example.com"
    )
    assert user is not None and user.name == "Ada"
    assert calls == ["Bearer old", "refresh", "Bearer new"]
    assert written[0]["refresh_token"] == "r1"  # Google keeps the refresh token


@pytest.mark.parametrize(
    ("provider", "domain", "status", "email", "absent"),
    [
        (CalendarProvider.GOOGLE_WORKSPACE, "example.com", 404, "x@example.com", True),
        (CalendarProvider.GOOGLE_WORKSPACE, "example.com", 403, "x@subsidiary.example", True),
        (CalendarProvider.GOOGLE_WORKSPACE, "example.com", 403, "x@example.com", False),
        (CalendarProvider.MICROSOFT_365, "subsidiary.example", 404, "x@example.com", True),
    ],
)
def test_refusals(provider: CalendarProvider, domain: str, status: int, email: str, absent: bool) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"error": {"status": "X", "code": "X"}})

    lookup = directory(answer, {"access_token": "a", "refresh_token": "r"}, [])
    if absent:
        assert lookup.find(tenant(provider, domain), email) is None
    else:
        with pytest.raises(TenantUnusable) as unusable:
            lookup.find(tenant(provider, domain), email)
        assert email not in str(unusable.value)  # it is logged: no address in it


def test_a_refused_refresh_token_makes_the_tenant_unusable() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, content=json.dumps({"error": "invalid_grant"}))

    lookup = directory(answer, {"access_token": "a", "refresh_token": "r", "expires_at": NOW - 1}, [])
    with pytest.raises(TenantUnusable):
        lookup.find(tenant(CalendarProvider.GOOGLE_WORKSPACE, "example.com"), "x@example.com")


def test_a_tenant_without_credentials_is_unusable() -> None:
    lookup = directory(lambda r: httpx.Response(500), {}, [])
    with pytest.raises(TenantUnusable):
        lookup.find(tenant(CalendarProvider.GOOGLE_WORKSPACE, "example.com"), "x@example.com")
