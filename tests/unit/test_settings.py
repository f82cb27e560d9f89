"""Settings per function family: read from the environment, validated when a function loads."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from orgconnect import settings
from orgconnect.domain.lifetimes import LINK_TOKEN_DEFAULT_TTL_SECONDS as DEFAULT_TTL_SECONDS

_VARIABLES = [
    "ORGCONNECT_TABLE_NAME",
    "ORGCONNECT_PEPPER_SECRET_ID",
    "ORGCONNECT_LINK_TOKEN_TTL_SECONDS",
    "ORGCONNECT_APP_URL",
    "ORGCONNECT_AUTHORIZATION_CODE_TTL_SECONDS",
    "ORGCONNECT_PROVIDER_APPS_SECRET_ID",
    "ORGCONNECT_PROVIDER_URL_OVERRIDES",
    "ORGCONNECT_PROVIDER_TIMEOUT_SECONDS",
    "ORGCONNECT_ENCRYPTION_KEYS_SECRET_ID",
    "ORGCONNECT_CONNECTION_SECRET_PREFIX",
]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> object:
    for name in _VARIABLES:
        monkeypatch.delenv(name, raising=False)
    settings.reset()
    yield
    settings.reset()


def _load_function(name: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Import a function's handler module in a fresh interpreter, as Lambda's init phase does."""
    code = (
        "import importlib.util, sys;"
        f"spec = importlib.util.spec_from_file_location('app', 'functions/{name}/app.py');"
        "m = importlib.util.module_from_spec(spec); sys.modules['app'] = m; spec.loader.exec_module(m)"
    )
    clean = {k: v for k, v in os.environ.items() if k not in _VARIABLES}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**clean, **env}, check=False
    )


def test_a_missing_variable_fails_the_cold_start_naming_it() -> None:
    loaded = _load_function("token", {"ORGCONNECT_TABLE_NAME": "table"})
    assert loaded.returncode != 0
    assert "SettingsError" in loaded.stderr
    assert "ORGCONNECT_PEPPER_SECRET_ID is missing" in loaded.stderr
    assert "ORGCONNECT_TABLE_NAME" not in loaded.stderr


def test_an_invalid_variable_fails_the_cold_start_naming_it_without_its_value() -> None:
    env = {"ORGCONNECT_TABLE_NAME": "table", "ORGCONNECT_PEPPER_SECRET_ID": "pepper"}
    loaded = _load_function("link_tokens", {**env, "ORGCONNECT_LINK_TOKEN_TTL_SECONDS": "31337x"})
    assert loaded.returncode != 0
    assert "ORGCONNECT_LINK_TOKEN_TTL_SECONDS must be a whole number from 60 to 14400" in loaded.stderr
    assert "31337x" not in loaded.stderr
    # The flow validates its own family, which the link-token function does not need.
    flow = _load_function("authorize", {**env, "ORGCONNECT_PROVIDER_URL_OVERRIDES": "[1]"})
    assert "ORGCONNECT_PROVIDER_URL_OVERRIDES must be a JSON object of strings" in flow.stderr
    assert _load_function("token", {**env, "ORGCONNECT_PROVIDER_URL_OVERRIDES": "[1]"}).returncode == 0


def test_every_problem_of_a_family_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORGCONNECT_TABLE_NAME", "ab")
    monkeypatch.setenv("ORGCONNECT_AUTHORIZATION_CODE_TTL_SECONDS", "601")
    monkeypatch.setenv("ORGCONNECT_PROVIDER_TIMEOUT_SECONDS", "nan")
    with pytest.raises(settings.SettingsError) as raised:
        settings.validate(settings.FLOW_FUNCTION)
    assert str(raised.value) == (
        "invalid or missing environment variables: "
        "ORGCONNECT_TABLE_NAME must be at least 3 characters; "
        "ORGCONNECT_PEPPER_SECRET_ID is missing; "
        "ORGCONNECT_AUTHORIZATION_CODE_TTL_SECONDS must be a whole number from 1 to 600; "
        "ORGCONNECT_PROVIDER_TIMEOUT_SECONDS must be a number of seconds above 0 and at most 20"
    )


def test_defaults_and_parsed_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORGCONNECT_TABLE_NAME", "orgconnect-us")
    monkeypatch.setenv("ORGCONNECT_PEPPER_SECRET_ID", "pepper")
    monkeypatch.setenv("ORGCONNECT_PROVIDER_URL_OVERRIDES", '{"zoom": "http://127.0.0.1:4020"}')
    monkeypatch.setenv("ORGCONNECT_PROVIDER_TIMEOUT_SECONDS", "2.5")
    settings.validate(settings.FLOW_FUNCTION)
    assert settings.load(settings.LinkTokenSettings).link_token_ttl_seconds == DEFAULT_TTL_SECONDS
    providers = settings.load(settings.ProviderSettings)
    assert providers.provider_url_overrides == {"zoom": "http://127.0.0.1:4020"}
    assert providers.provider_timeout_seconds == 2.5
    assert settings.load(settings.FlowSettings) == settings.FlowSettings(
        app_url="", authorization_code_ttl_seconds=600
    )
    monkeypatch.setenv("ORGCONNECT_PROVIDER_URL_OVERRIDES", "")
    assert settings.load(settings.ProviderSettings) is providers  # read once per cold start
    settings.reset()
    assert settings.load(settings.ProviderSettings).provider_url_overrides == {}


def test_a_worker_needs_neither_the_pepper_nor_the_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORGCONNECT_TABLE_NAME", "orgconnect-us")
    settings.validate(settings.WORKER_FUNCTION)
    with pytest.raises(settings.SettingsError, match="ORGCONNECT_PEPPER_SECRET_ID is missing"):
        settings.validate(settings.API_FUNCTION)
