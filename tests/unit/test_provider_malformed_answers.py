"""A provider that answers 200 with a body that is not the JSON we expect (HTML, empty, JSON of the
wrong types or without the fields we need), at the code exchange or at the account read: every
authorization client raises ProviderAnswerMalformed (the flow answers the integrator with
``server_error``), does not retry, and never repeats the body in its description."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from orgconnect.domain.model import ProviderApp
from orgconnect.domain.provider_model import (
    ProviderAnswerMalformed,
    ProviderRefused,
    ProviderTokens,
    ProviderUnavailable,
    Purpose,
)
from orgconnect.providers.base import OAuthProvider
from orgconnect.providers.google import GoogleProvider
from orgconnect.providers.indeed import IndeedProvider
from orgconnect.providers.microsoft import MicrosoftProvider
from orgconnect.providers.webex import WebexProvider
from orgconnect.providers.zoom import ZoomProvider

BASE = "https://provider.test"
SECRET = "SECRET-b0dy-c0ntent"  # planted in every bad body: it must never reach a description
EMAIL = "admin@example.com"
GOOD_TOKEN = {"access_token": "at-1", "refresh_token": "rt-1", "expires_in": 3599, "token_type": "bearer"}

# provider class, token path, {account read path: (good answer, has required fields)}
PROVIDERS: dict[str, tuple[type[OAuthProvider], str, dict[str, tuple[dict[str, Any], bool]]]] = {
    "zoom": (
        ZoomProvider,
        "/oauth/token",
        {"/v2/users/me": ({"account_id": "acc-1", "email": EMAIL, "role_id": "0", "type": 2}, True)},
    ),
    "microsoft": (
        MicrosoftProvider,
        "/organizations/oauth2/v2.0/token",
        {
            "/v1.0/me": ({"mail": EMAIL}, True),
            "/v1.0/organization": (
                {"value": [{"id": "t-1", "verifiedDomains": [{"name": "example.com"}]}]},
                True,
            ),
            "/v1.0/me/memberOf": ({"value": []}, True),
        },
    ),
    "google": (
        GoogleProvider,
        "/token",
        {
            "/v1/userinfo": ({"email": EMAIL, "hd": "example.com"}, False),
            f"/admin/directory/v1/users/{EMAIL}": ({"customerId": "C01", "isAdmin": True}, False),
        },
    ),
    "webex": (
        WebexProvider,
        "/v1/access_token",
        {"/v1/people/me": ({"emails": [EMAIL], "orgId": "org-1", "roles": []}, True)},
    ),
    "indeed": (
        IndeedProvider,
        "/oauth/v2/tokens",
        {
            "/v2/api/userinfo": ({"email": EMAIL}, True),
            "/v1/users": ({"users": [{"employerId": "emp-1", "employerName": "Example"}]}, False),
        },
    ),
}


def html() -> httpx.Response:
    return httpx.Response(
        200, text=f"<html><body>Maintenance {SECRET}</body></html>", headers={"Content-Type": "text/html"}
    )


def empty() -> httpx.Response:
    return httpx.Response(200, content=b"", headers={"Content-Type": "application/json"})


def json_list() -> httpx.Response:
    return httpx.Response(200, json=[SECRET])


def not_utf8() -> httpx.Response:
    return httpx.Response(
        200, content=b"\xff\xfe" + SECRET.encode(), headers={"Content-Type": "application/json"}
    )


NOT_JSON_OBJECTS: dict[str, Callable[[], httpx.Response]] = {
    "html": html,
    "empty": empty,
    "json-list": json_list,
    "not-utf8": not_utf8,
}

BAD_TOKEN_ANSWERS: dict[str, dict[str, Any]] = {
    "no-access-token": {"token_type": "bearer", "refresh_token": SECRET},
    "empty-access-token": {"access_token": "", "refresh_token": SECRET},
    "access-token-not-a-string": {"access_token": {"value": SECRET}},
    "refresh-token-not-a-string": {"access_token": SECRET, "refresh_token": 12345},
    "expires-in-not-a-number": {"access_token": SECRET, "expires_in": "soon"},
    "scope-not-a-string": {"access_token": SECRET, "scope": {"s": SECRET}},
}


def answering(body: Any) -> Callable[[], httpx.Response]:
    """A 200 answer with ``body`` as JSON."""
    return lambda: httpx.Response(200, json=body)


class FakeProvider:
    """Answers every path with its good answer, except one path that answers ``bad``."""

    def __init__(self, key: str, bad_path: str, bad: Callable[[], httpx.Response]) -> None:
        _, token_path, reads = PROVIDERS[key]
        self.answers: dict[str, Callable[[], httpx.Response]] = {token_path: answering(GOOD_TOKEN)}
        for path, (good, _) in reads.items():
            self.answers[path] = answering(good)
        self.answers[bad_path] = bad
        self.calls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request.url.path)
        return self.answers[request.url.path]()


def client(key: str, fake: FakeProvider) -> OAuthProvider:
    cls = PROVIDERS[key][0]
    return cls(ProviderApp("client-1", "secret-1"), base_url=BASE, transport=httpx.MockTransport(fake))


def exchange(provider: OAuthProvider) -> ProviderTokens:
    return provider.exchange_code(
        purpose=Purpose.ADMIN_PROOF, code="code-1", redirect_uri=f"{BASE}/cb", code_verifier="v" * 43
    )


def assert_malformed(error: ProviderAnswerMalformed, label: str) -> None:
    assert not isinstance(error, ProviderRefused | ProviderUnavailable)
    assert label in error.description
    assert SECRET not in error.description
    assert SECRET not in str(error)


def bad_token_cases() -> list[Any]:
    cases = [pytest.param(name, make, id=name) for name, make in NOT_JSON_OBJECTS.items()]
    for name, body in BAD_TOKEN_ANSWERS.items():
        cases.append(pytest.param(name, answering(body), id=name))
    return cases


@pytest.mark.parametrize("key", PROVIDERS)
@pytest.mark.parametrize(("kind", "bad"), bad_token_cases())
def test_a_bad_success_answer_at_the_code_exchange_is_malformed_and_not_retried(
    key: str, kind: str, bad: Callable[[], httpx.Response]
) -> None:
    token_path = PROVIDERS[key][1]
    fake = FakeProvider(key, token_path, bad)
    provider = client(key, fake)
    with pytest.raises(ProviderAnswerMalformed) as raised:
        exchange(provider)
    assert_malformed(raised.value, provider.label)
    assert "code exchange" in raised.value.description
    assert fake.calls == [token_path]


def bad_read_cases() -> list[Any]:
    cases = []
    for key, (_, _, reads) in PROVIDERS.items():
        for path, (good, required) in reads.items():
            kinds: dict[str, Callable[[], httpx.Response]] = dict(NOT_JSON_OBJECTS)
            # Every field of the good answer replaced by an object: a type no field accepts.
            wrong = {field: {"nested": SECRET} for field in good}
            kinds["wrong-types"] = answering(wrong)
            if required:
                kinds["missing-fields"] = lambda: httpx.Response(200, json={"unrelated": SECRET})
            for kind, make in kinds.items():
                cases.append(pytest.param(key, path, make, id=f"{key}{path}-{kind}"))
    return cases


@pytest.mark.parametrize(("key", "path", "bad"), bad_read_cases())
def test_a_bad_success_answer_at_the_account_read_is_malformed_and_not_retried(
    key: str, path: str, bad: Callable[[], httpx.Response]
) -> None:
    fake = FakeProvider(key, path, bad)
    provider = client(key, fake)
    tokens = exchange(provider)
    with pytest.raises(ProviderAnswerMalformed) as raised:
        provider.read_account(tokens, Purpose.ADMIN_PROOF, domain=None)
    assert_malformed(raised.value, provider.label if key != "microsoft" else "Graph")
    assert fake.calls.count(path) == 1


@pytest.mark.parametrize("key", PROVIDERS)
def test_good_answers_still_read_the_account(key: str) -> None:
    token_path = PROVIDERS[key][1]
    fake = FakeProvider(key, token_path, answering(GOOD_TOKEN))
    provider = client(key, fake)
    tokens = exchange(provider)
    assert tokens.access_token == "at-1"
    assert tokens.refresh_token == "rt-1"
    assert tokens.expires_at is not None
    account = provider.read_account(tokens, Purpose.ADMIN_PROOF, domain=None)
    assert account.user_email == EMAIL
    assert account.provider == key
    assert account.account_id in {"acc-1", "t-1", "C01", "org-1", "emp-1"}


def test_the_description_names_the_wrong_fields_but_not_their_values() -> None:
    body = {"access_token": SECRET, "expires_in": "soon", "scope": ["a", SECRET]}
    fake = FakeProvider("zoom", "/oauth/token", lambda: httpx.Response(200, json=body))
    with pytest.raises(ProviderAnswerMalformed) as raised:
        exchange(client("zoom", fake))
    assert raised.value.description == (
        "Zoom code exchange: unexpected answer (expires_in: int_parsing; scope: string_type)"
    )


def test_html_is_described_by_its_content_type_and_size() -> None:
    page = b"<html>" + SECRET.encode() + b"</html>"
    answer = httpx.Response(200, content=page, headers={"Content-Type": "text/html; charset=utf-8"})
    fake = FakeProvider("webex", "/v1/people/me", lambda: answer)
    provider = client("webex", fake)
    with pytest.raises(ProviderAnswerMalformed) as raised:
        provider.read_account(exchange(provider), Purpose.CONFERENCING, domain=None)
    assert (
        raised.value.description == f"Webex people/me: the answer is not JSON (text/html, {len(page)} bytes)"
    )


def test_an_oauth_error_at_the_exchange_stays_a_refusal() -> None:
    refusal = httpx.Response(400, json={"error": "invalid_grant", "reason": "Invalid authorization code"})
    fake = FakeProvider("zoom", "/oauth/token", lambda: refusal)
    with pytest.raises(ProviderRefused) as raised:
        exchange(client("zoom", fake))
    assert raised.value.error == "invalid_grant"


def test_a_missing_required_field_is_named() -> None:
    fake = FakeProvider("zoom", "/v2/users/me", lambda: httpx.Response(200, json={"email": SECRET}))
    provider = client("zoom", fake)
    with pytest.raises(ProviderAnswerMalformed) as raised:
        provider.read_account(exchange(provider), Purpose.CONFERENCING, domain=None)
    assert raised.value.description == "Zoom users/me: unexpected answer (account_id: missing)"
