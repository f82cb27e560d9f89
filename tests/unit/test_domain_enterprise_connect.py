"""Enterprise Connect's pure rules: the authorize request (the OU redirector's checks, reused),
scopes and delegated scopes, and who may authorize a service account."""

from __future__ import annotations

import pytest

from orgconnect.domain.authorization import FlowError, PageError
from orgconnect.domain.enterprise_connect import (
    EnterpriseConnectRequest,
    admin_problem,
    delegated_scope_allows,
    expand_delegated_scope,
    validate_enterprise_connect,
)
from orgconnect.domain.model import CalendarProvider, Client

CLIENT = Client("cli_" + "a" * 24, "Acme", "digest", ("https://app.example/cb",))


def query(**overrides: str | list[str] | None) -> dict[str, list[str]]:
    params: dict[str, str | list[str] | None] = {
        "response_type": "code",
        "client_id": CLIENT.client_id,
        "redirect_uri": "https://app.example/cb",
        "scope": "service_account/accounts/manage",
        "delegated_scope": "read_events create_event",
        "state": "s1",
        **overrides,
    }
    return {k: v if isinstance(v, list) else [v] for k, v in params.items() if v is not None}


def test_a_valid_request() -> None:
    params = validate_enterprise_connect(
        query(
            provider_name="office365",
            scope="service_account/resources/manage  service_account/accounts/manage",
        ),
        CLIENT,
    )
    assert params.provider is CalendarProvider.MICROSOFT_365
    assert params.scope == "service_account/resources/manage service_account/accounts/manage"
    assert params.delegated_scope == "read_events create_event"
    assert params.state == "s1" and params.domain is None and params.code_challenge is None


def test_an_unknown_provider_name_shows_the_chooser() -> None:
    assert validate_enterprise_connect(query(provider_name="apple"), CLIENT).provider is None


@pytest.mark.parametrize(
    "overrides",
    [{"client_id": "cli_" + "b" * 24}, {"redirect_uri": "https://evil.example/cb"}, {"redirect_uri": None}],
)
def test_an_untrusted_client_or_redirect_uri_is_a_page(overrides: dict[str, str | None]) -> None:
    with pytest.raises(PageError):
        validate_enterprise_connect(query(**overrides), CLIENT)


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "service_account/accounts/unrestricted_access"}, "invalid_scope"),
        ({"scope": "  "}, "invalid_request"),
        ({"delegated_scope": "read_events launch_rockets"}, "invalid_scope"),
        ({"delegated_scope": "x" * 2000}, "invalid_scope"),
        ({"state": ["a", "b"]}, "invalid_request"),
        ({"delegated_scope": ["read_only", "read_write"]}, "invalid_request"),
        ({"code_challenge_method": "S256"}, "invalid_request"),
        ({"domain": "-bad-.example"}, "invalid_request"),
    ],
)
def test_other_problems_are_rfc6749_errors(overrides: dict[str, str | list[str]], error: str) -> None:
    with pytest.raises(FlowError) as raised:
        validate_enterprise_connect(query(**overrides), CLIENT)
    assert raised.value.error == error
    assert raised.value.redirect_uri == "https://app.example/cb"


def test_delegated_scope_shorthands_expand() -> None:
    assert expand_delegated_scope("read_only") == {
        "read_account",
        "list_calendars",
        "read_events",
        "read_free_busy",
    }
    assert delegated_scope_allows("read_write", "create_event read_events")
    assert not delegated_scope_allows("read_only", "create_event")
    assert not delegated_scope_allows("read_write", "")


def _request(domain: str | None = None) -> EnterpriseConnectRequest:
    return EnterpriseConnectRequest(
        "arq_" + "0" * 24,
        CLIENT.client_id,
        "https://app.example/cb",
        "s",
        "x",
        "read_only",
        "b",
        0,
        1,
        domain=domain,
    )


def test_who_may_authorize_a_service_account() -> None:
    assert admin_problem(_request(), True, "example.com", "a@example.com") is None
    assert "not an administrator" in (admin_problem(_request(), False, "example.com", "a@example.com") or "")
    assert "does not belong to other.example" in (
        admin_problem(_request("other.example"), True, "example.com", "a@example.com") or ""
    )
    assert admin_problem(_request("example.com"), True, "EXAMPLE.com", "a@example.com") is None
    assert "does not belong to an organization" in (
        admin_problem(_request(), True, None, "a@gmail.com") or ""
    )
