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
from orgconnect.providers.directory import (
    GRAPH_USER_SELECT,
    ProviderDirectory,
    TenantUnusable,
    google_attributes,
    graph_attributes,
)
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


GOOGLE_USER: dict[str, Any] = {
    "id": "g-1",
    "primaryEmail": "Ada@example.com",
    "name": {"givenName": "Ada", "familyName": "Lovelace", "fullName": "Ada Lovelace"},
    "phones": [{"value": "+1 555 0100", "type": "mobile"}, {"value": "+1 555 0199", "type": "work"}],
    "organizations": [
        {"title": "Intern", "department": "Mail", "name": "Old Co"},
        {"title": "Analyst", "department": "Engines", "name": "Example Inc.", "primary": True},
    ],
    "languages": [{"languageCode": "en-GB", "preference": "preferred"}],
    "externalIds": [{"value": "x-1", "type": "account"}, {"value": "E-042", "type": "organization"}],
    "suspended": False,
}


def test_the_google_answer_gives_the_directory_attributes() -> None:
    assert google_attributes(GOOGLE_USER) == {
        "given_name": "Ada",
        "family_name": "Lovelace",
        "display_name": "Ada Lovelace",
        "phone": "+1 555 0199",
        "mobile_phone": "+1 555 0100",
        "job_title": "Analyst",
        "department": "Engines",
        "organization": "Example Inc.",
        "locale": "en-GB",
        "employee_id": "E-042",
        "active": True,
    }
    # No primary organization: the first one; suspended: not active.
    first = {**GOOGLE_USER, "organizations": GOOGLE_USER["organizations"][:1], "suspended": True}
    assert google_attributes(first)["job_title"] == "Intern" and google_attributes(first)["active"] is False


def test_absent_empty_or_mistyped_google_values_are_left_out() -> None:
    body = {
        "id": "g-1",
        "primaryEmail": "ada@example.com",
        "name": "Ada",
        "phones": {"value": "+1"},
        "organizations": [{"title": "", "department": 7, "name": None}, "x"],
        "languages": [],
        "externalIds": [{"value": "E-1", "type": "custom"}],
        "suspended": "no",
    }
    assert google_attributes(body) == {}


def test_the_graph_answer_gives_the_directory_attributes_and_absent_ones_are_left_out() -> None:
    body = {
        "id": "u-1",
        "userPrincipalName": "bo@subsidiary.example",
        "displayName": "Bo Berg",
        "givenName": "Bo",
        "surname": "Berg",
        "businessPhones": ["+46 8 123", "+46 8 456"],
        "mobilePhone": None,
        "jobTitle": "Buyer",
        "department": "",
        "companyName": "Subsidiary AB",
        "preferredLanguage": "sv-SE",
        "employeeId": 42,
        "accountEnabled": False,
    }
    assert graph_attributes(body) == {
        "user_principal_name": "bo@subsidiary.example",
        "given_name": "Bo",
        "family_name": "Berg",
        "display_name": "Bo Berg",
        "phone": "+46 8 123",
        "job_title": "Buyer",
        "organization": "Subsidiary AB",
        "locale": "sv-SE",
        "active": False,
    }
    assert graph_attributes({"id": "u-1", "businessPhones": []}) == {}


@pytest.mark.parametrize("provider", [CalendarProvider.GOOGLE_WORKSPACE, CalendarProvider.MICROSOFT_365])
def test_the_lookup_returns_the_users_attributes(provider: CalendarProvider) -> None:
    asked: list[httpx.URL] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request.url)
        if provider is CalendarProvider.GOOGLE_WORKSPACE:
            return httpx.Response(200, json=GOOGLE_USER)
        return httpx.Response(200, json={"id": "u-1", "mail": "ada@example.com", "jobTitle": "Analyst"})

    credentials = {"access_token": "t", "expires_at": NOW + 3600}
    user = directory(answer, credentials, []).find(tenant(provider, "example.com"), "ada@example.com")
    assert user is not None and user.attributes["job_title"] == "Analyst"
    (url,) = asked
    if provider is CalendarProvider.MICROSOFT_365:
        # Graph's default properties lack department, companyName, employeeId and accountEnabled.
        assert url.params["$select"].split(",") == GRAPH_USER_SELECT.split(",")
        assert {"department", "companyName", "employeeId", "accountEnabled"} <= set(
            GRAPH_USER_SELECT.split(",")
        )
    else:
        assert "$select" not in url.params
