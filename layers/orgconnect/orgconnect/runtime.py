"""Process-wide dependencies, built once per cold start on first use and shared by every request."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import TYPE_CHECKING

import boto3
from aws_lambda_powertools.utilities import parameters
from botocore.config import Config

from orgconnect.domain.secrets import SecretHasher
from orgconnect.providers.registry import ProviderRegistry
from orgconnect.settings import get_settings
from orgconnect.store.dynamodb import DynamoStore
from orgconnect.store.vault import ConnectionVault, load_pepper, load_provider_apps, load_sealer

if TYPE_CHECKING:
    from orgconnect.domain.ports import FlowDependencies
    from orgconnect.domain.sealing import Sealer
    from orgconnect.store.flow_state import DynamoFlowState
    from orgconnect.store.ou_views import OrganizationalUnitViews
    from orgconnect.store.tokens import TokenStore

# Fail fast inside API Gateway's 29 s budget; botocore's standard mode retries throttling for us.
_AWS_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})


def now() -> int:
    """Seconds since the epoch (the one clock of the service, so tests can replace it)."""
    return int(time.time())


@lru_cache(maxsize=1)
def get_store() -> DynamoStore:
    # The clock is looked up on each call, so tests can move time by replacing ``runtime.now``.
    return DynamoStore(
        get_settings().table_name, boto3.client("dynamodb", config=_AWS_CONFIG), clock=lambda: now()
    )


@lru_cache(maxsize=1)
def get_hasher() -> SecretHasher:
    return SecretHasher(load_pepper(get_settings().pepper_secret_id))


@lru_cache(maxsize=1)
def get_flow_state() -> DynamoFlowState:
    # The flow's repositories load only in the two flow functions (cold start of the others).
    from orgconnect.store.flow_state import DynamoFlowState

    return DynamoFlowState(get_store(), clock=lambda: now())


@lru_cache(maxsize=1)
def get_token_store() -> TokenStore:
    """Codes, grants and tokens (the token and userinfo functions)."""
    from orgconnect.store.tokens import TokenStore

    return TokenStore.sharing(get_store())


@lru_cache(maxsize=1)
def get_organizational_unit_views() -> OrganizationalUnitViews:
    """The OU read model of userinfo and ``GET /v1/organizational_unit``."""
    from orgconnect.store.ou_views import OrganizationalUnitViews

    return OrganizationalUnitViews.sharing(get_store())


@lru_cache(maxsize=1)
def get_sealer() -> Sealer:
    return load_sealer(get_settings().encryption_keys_secret_id)


@lru_cache(maxsize=1)
def get_providers() -> ProviderRegistry:
    settings = get_settings()
    return ProviderRegistry(
        load_provider_apps(settings.provider_apps_secret_id),
        overrides=settings.provider_url_overrides,
        timeout=settings.provider_timeout_seconds,
    )


@lru_cache(maxsize=1)
def get_connection_vault() -> ConnectionVault:
    return ConnectionVault(
        boto3.client("secretsmanager", config=_AWS_CONFIG), prefix=get_settings().connection_secret_prefix
    )


def reset() -> None:
    """Forget every cached dependency (tests, and the dev stack after it reseeds)."""
    for cached in (
        get_store,
        get_hasher,
        get_settings,
        get_flow_state,
        get_token_store,
        get_organizational_unit_views,
        get_sealer,
        get_providers,
        get_connection_vault,
    ):
        cached.cache_clear()
    # Secrets are read through Powertools, whose default providers keep a boto3 client (bound to
    # the endpoint and credentials of the moment) and the values it read.
    parameters.clear_caches()  # type: ignore[no-untyped-call]


def flow_dependencies() -> FlowDependencies:
    """The browser flow's dependencies for one request (``now`` is read per request)."""
    from orgconnect.domain.ports import FlowDependencies
    from orgconnect.store.approvals import DynamoApprovals
    from orgconnect.store.organization import (
        DynamoConnections,
        DynamoOrganizationalUnits,
        DynamoServiceAccounts,
    )

    settings = get_settings()
    store = get_store()
    return FlowDependencies(
        flow_state=get_flow_state(),
        service_accounts=DynamoServiceAccounts(store),
        organizational_units=DynamoOrganizationalUnits(store),
        connections=DynamoConnections(store),
        approvals=DynamoApprovals(store, clock=lambda: now()),
        hasher=get_hasher(),
        app_url=settings.app_url,
        code_ttl_seconds=settings.authorization_code_ttl_seconds,
        now=now(),
        load_sealer=get_sealer,
        load_providers=get_providers,
        load_vault=get_connection_vault,
    )
