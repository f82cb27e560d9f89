"""The webhook function's cold start loads neither the browser flow nor the provider clients, and
builds nothing (no client, no secret read) at import."""

from __future__ import annotations

from tests.cold_start import cold_import

_UNWANTED = (
    "aws_xray_sdk",
    "pydantic",
    "httpx",
    "authlib",
    "orgconnect.web.flow",
    "orgconnect.providers",
    "orgconnect.store.organization",
)


def test_importing_the_webhook_function_loads_only_what_it_needs() -> None:
    started = cold_import(
        "provider_webhooks",
        env={"ORGCONNECT_TABLE_NAME": "table"},
        unwanted=_UNWANTED,
        cached=("get_store", "get_secrets_client", "get_provider_apps", "get_account_connections"),
    )
    assert started == ([], 0)
