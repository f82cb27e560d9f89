"""Deployment settings, read from the environment and validated once per cold start.

Each class holds what one part of the system needs (the table, the pepper, the provider
clients, ...); a function family is the tuple of classes its code uses, and a function validates
its family when its module loads (:func:`validate`), so a misconfigured deployment fails its cold
start with every faulty variable named, never on a later request. Frozen structs whose defaults
name the variable and its parser, rather than pydantic: the same checks without ~30 ms of every
cold start.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from msgspec import Struct
from msgspec.structs import fields

from orgconnect.domain.lifetimes import (
    LINK_TOKEN_DEFAULT_TTL_SECONDS,
    LINK_TOKEN_MAX_TTL_SECONDS,
    LINK_TOKEN_MIN_TTL_SECONDS,
    MAX_CODE_TTL_SECONDS,
)

Parser = Callable[[str], Any]
_REQUIRED: Any = object()  # an EnvVar default: the variable must be set


class SettingsError(RuntimeError):
    """The function's environment is misconfigured (a deployment error, not a client error)."""


def text(min_length: int = 0) -> Parser:
    """A string of at least ``min_length`` characters."""

    def parse(raw: str) -> str:
        if len(raw) < min_length:
            raise ValueError(f"must be at least {min_length} characters")
        return raw

    return parse


def integer(low: int, high: int) -> Parser:
    """A whole number in ``[low, high]``."""

    def parse(raw: str) -> int:
        if not re.fullmatch(r"\s*[+-]?\d+\s*", raw) or not low <= int(raw) <= high:
            raise ValueError(f"must be a whole number from {low} to {high}")
        return int(raw)

    return parse


def one_of(*choices: str) -> Parser:
    """One of ``choices`` (case-insensitive, stored lower-case)."""

    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return value

    return parse


def seconds(above: float, at_most: float) -> Parser:
    """A number of seconds greater than ``above`` and at most ``at_most``."""

    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if not above < value <= at_most:  # NaN fails both comparisons
            raise ValueError(f"must be a number of seconds above {above:g} and at most {at_most:g}")
        return value

    return parse


def json_text_map(raw: str) -> dict[str, str]:
    """A JSON object of strings (empty means none)."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError('must be a JSON object of strings, e.g. {"zoom": "http://127.0.0.1:4020"}')
    return value


def flag(raw: str) -> bool:
    """``true`` or ``false``."""
    if raw.strip().lower() not in ("true", "false"):
        raise ValueError("must be true or false")
    return raw.strip().lower() == "true"


class EnvVar(NamedTuple):
    """Where a settings field comes from: a field's default names it (see :func:`env`)."""

    name: str
    parse: Parser
    default: Any

    def value_if_unset(self) -> Any:
        """The default a field gets when the variable is unset (a fresh copy of a mapping)."""
        return dict(self.default) if isinstance(self.default, dict) else self.default


def env(name: str, parse: Parser, default: Any = _REQUIRED) -> Any:
    """A settings field read from the environment variable ``name`` (required without a default).

    Typed Any so that ``table_name: str = env(...)`` checks; :func:`validate` always passes every
    field, so an instance never holds the EnvVar itself."""
    return EnvVar(name, parse, default)


class TableSettings(Struct, frozen=True):
    """Every function: the DynamoDB table."""

    table_name: str = env("ORGCONNECT_TABLE_NAME", text(min_length=3))


class PepperSettings(Struct, frozen=True):
    """Functions that hash or check secrets (client secrets, tokens, codes): the pepper's secret."""

    pepper_secret_id: str = env("ORGCONNECT_PEPPER_SECRET_ID", text(min_length=1))


class LinkTokenSettings(Struct, frozen=True):
    """The link-token endpoint."""

    link_token_ttl_seconds: int = env(
        "ORGCONNECT_LINK_TOKEN_TTL_SECONDS",
        integer(LINK_TOKEN_MIN_TTL_SECONDS, LINK_TOKEN_MAX_TTL_SECONDS),
        LINK_TOKEN_DEFAULT_TTL_SECONDS,
    )


class FlowSettings(Struct, frozen=True):
    """The browser-facing authorization flow."""

    # Public base URL of the pages; empty: derived from the request (see orgconnect.web.pages).
    app_url: str = env("ORGCONNECT_APP_URL", text(), "")
    authorization_code_ttl_seconds: int = env(
        "ORGCONNECT_AUTHORIZATION_CODE_TTL_SECONDS", integer(1, MAX_CODE_TTL_SECONDS), MAX_CODE_TTL_SECONDS
    )


class ProviderSettings(Struct, frozen=True):
    """Code that calls the providers (the flow; workers): their apps, endpoints and timeout."""

    provider_apps_secret_id: str = env("ORGCONNECT_PROVIDER_APPS_SECRET_ID", text(), "")
    # {"zoom": "http://127.0.0.1:4020", ...}: one base URL per provider (the simulators).
    provider_url_overrides: Mapping[str, str] = env("ORGCONNECT_PROVIDER_URL_OVERRIDES", json_text_map, {})
    provider_timeout_seconds: float = env("ORGCONNECT_PROVIDER_TIMEOUT_SECONDS", seconds(0, 20), 5.0)


class VaultSettings(Struct, frozen=True):
    """Code that seals or stores provider credentials: the keyring and the connection secrets."""

    encryption_keys_secret_id: str = env("ORGCONNECT_ENCRYPTION_KEYS_SECRET_ID", text(), "")
    # Name prefix of the per-connection secrets (a name, not a secret).
    connection_secret_prefix: str = env(
        "ORGCONNECT_CONNECTION_SECRET_PREFIX",
        text(min_length=1),
        "orgconnect/connections/",
    )
    # Name prefix of the per-service-account secrets (Enterprise Connect's admin credentials).
    service_account_secret_prefix: str = env(
        "ORGCONNECT_SERVICE_ACCOUNT_SECRET_PREFIX",
        text(min_length=1),
        "orgconnect/service-accounts/",
    )


class DelegatedAccessSettings(Struct, frozen=True):
    """Delegated access: the queue the API fills and the worker drains, and callback delivery."""

    queue_url: str = env("ORGCONNECT_DELEGATED_ACCESS_QUEUE_URL", text(min_length=1))
    callback_attempts: int = env("ORGCONNECT_CALLBACK_ATTEMPTS", integer(1, 10), 3)
    callback_backoff_seconds: float = env("ORGCONNECT_CALLBACK_BACKOFF_SECONDS", seconds(0, 30), 0.5)
    callback_timeout_seconds: float = env("ORGCONNECT_CALLBACK_TIMEOUT_SECONDS", seconds(0, 20), 5.0)


class NotificationSettings(Struct, frozen=True):
    """Integrator notifications: the queue publishers fill (empty: none are queued) and delivery."""

    queue_url: str = env("ORGCONNECT_NOTIFICATIONS_QUEUE_URL", text(), "")
    attempts: int = env("ORGCONNECT_NOTIFICATION_ATTEMPTS", integer(1, 10), 3)
    backoff_seconds: float = env("ORGCONNECT_NOTIFICATION_BACKOFF_SECONDS", seconds(0, 30), 0.5)
    timeout_seconds: float = env("ORGCONNECT_NOTIFICATION_TIMEOUT_SECONDS", seconds(0, 20), 5.0)
    # Loopback destinations (http://127.0.0.1:...): the dev stack only, never in a deployment.
    allow_loopback: bool = env("ORGCONNECT_NOTIFICATIONS_ALLOW_LOOPBACK", flag, False)


class ConnectionSyncSettings(Struct, frozen=True):
    """Connection syncs (docs/sync.md): the queue (empty: a link queues no sync) and chunk sizes."""

    queue_url: str = env("ORGCONNECT_CONNECTION_SYNC_QUEUE_URL", text(), "")
    pages_per_chunk: int = env("ORGCONNECT_SYNC_PAGES_PER_CHUNK", integer(1, 200), 20)
    writes_per_chunk: int = env("ORGCONNECT_SYNC_WRITES_PER_CHUNK", integer(25, 100_000), 2_000)
    #: The Zoom plan syncs pace at when a connection names none (Zoom's API does not tell Pro
    #: from Business+): a guess too high costs 429s, waited out, and the limiter learns the quota.
    zoom_rate_plan: str = env("ORGCONNECT_ZOOM_RATE_PLAN", one_of("pro", "business"), "pro")


# The families: what each kind of function validates at cold start.
Family = tuple[type[Struct], ...]
API_FUNCTION: Family = (TableSettings, PepperSettings)
LINK_TOKENS_FUNCTION: Family = (*API_FUNCTION, LinkTokenSettings)
FLOW_FUNCTION: Family = (TableSettings, PepperSettings, FlowSettings, ProviderSettings, VaultSettings)
WORKER_FUNCTION: Family = (TableSettings, ProviderSettings, VaultSettings)
SERVICE_ACCOUNT_AUTHORIZATIONS_FUNCTION: Family = (*API_FUNCTION, DelegatedAccessSettings)
DELEGATED_ACCESS_WORKER_FUNCTION: Family = (
    *WORKER_FUNCTION,
    PepperSettings,
    FlowSettings,
    DelegatedAccessSettings,
)
NOTIFICATIONS_WORKER_FUNCTION: Family = (TableSettings, VaultSettings, NotificationSettings)
CONNECTION_SYNC_WORKER_FUNCTION: Family = (*WORKER_FUNCTION, ConnectionSyncSettings)

_loaded: dict[type[Any], Any] = {}


def _read(cls: type[Struct]) -> tuple[dict[str, Any], list[str]]:
    values: dict[str, Any] = {}
    problems: list[str] = []
    for f in fields(cls):
        variable: EnvVar = f.default
        raw = os.environ.get(variable.name)
        if raw is None:
            if variable.default is _REQUIRED:
                problems.append(f"{variable.name} is missing")
            values[f.name] = variable.value_if_unset()
            continue
        try:
            values[f.name] = variable.parse(raw)
        except ValueError as error:  # the value itself is never echoed
            problems.append(f"{variable.name} {error}")
    return values, problems


def validate(family: Family) -> None:
    """Load every class of ``family`` (at cold start); one error naming every faulty variable."""
    problems: list[str] = []
    for cls in family:
        if cls not in _loaded:
            values, found = _read(cls)
            problems += found
            if not found:
                _loaded[cls] = cls(**values)
    if problems:
        raise SettingsError("invalid or missing environment variables: " + "; ".join(problems))


def load[S: Struct](cls: type[S]) -> S:
    """The validated settings of ``cls`` for this process (read once, then cached)."""
    validate((cls,))
    settings: S = _loaded[cls]
    return settings


def reset() -> None:
    """Forget the loaded settings (tests, and the dev stack when its environment changes)."""
    _loaded.clear()
