"""The registry builds both roles of a configured provider, with the simulators' base URLs."""

from __future__ import annotations

import pytest

from orgconnect.domain.model import ProviderApp
from orgconnect.domain.provider_model import ProviderTokens
from orgconnect.providers.google import GoogleApi, GoogleProvider
from orgconnect.providers.microsoft import GraphApi
from orgconnect.providers.registry import PROVIDER_API_CLASSES, PROVIDER_CLASSES, ProviderRegistry

APPS = {"google": ProviderApp("g-id", "g-secret"), "microsoft": ProviderApp("m-id", "m-secret")}
TOKENS = ProviderTokens(access_token="at", refresh_token="rt")


def registry() -> ProviderRegistry:
    return ProviderRegistry(APPS, overrides={"microsoft": "http://127.0.0.1:9999/"}, timeout=5.0)


def test_every_provider_has_both_roles() -> None:
    assert set(PROVIDER_API_CLASSES) == set(PROVIDER_CLASSES)


def test_api_client_for_real_hosts_and_for_an_override() -> None:
    google = registry().api_client("google", TOKENS)
    assert isinstance(google, GoogleApi)
    assert google.tokens == TOKENS
    assert google.token_url() == "https://oauth2.googleapis.com/token"
    assert isinstance(registry().client("google"), GoogleProvider)
    graph = registry().api_client("microsoft", TOKENS, tenant="contoso.example")
    assert isinstance(graph, GraphApi)
    assert graph.token_url() == "http://127.0.0.1:9999/contoso.example/oauth2/v2.0/token"
    assert graph.url("/v1.0/users") == "http://127.0.0.1:9999/v1.0/users"


def test_an_unconfigured_provider_has_no_api_client() -> None:
    with pytest.raises(KeyError):
        registry().api_client("zoom", TOKENS)
