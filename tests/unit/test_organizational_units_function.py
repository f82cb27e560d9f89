"""The OU-token connection function's cold start: importing it builds nothing and loads neither
the provider clients (httpx, Authlib, pydantic) nor the browser flow; they load on first use."""

from __future__ import annotations

from tests.cold_start import PROVIDER_CLIENTS, cold_import

_UNWANTED = (*PROVIDER_CLIENTS, "orgconnect.web.flow")


def test_importing_the_function_loads_only_what_it_needs() -> None:
    started = cold_import(
        "organizational_units",
        env={"ORGCONNECT_TABLE_NAME": "table", "ORGCONNECT_PEPPER_SECRET_ID": "p"},
        unwanted=_UNWANTED,
        cached=("get_store", "get_hasher", "get_connection_vault"),
    )
    assert started == ([], 0)
