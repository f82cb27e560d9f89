"""Process-wide dependencies, built once per cold start on first use and shared by every request."""

from __future__ import annotations

import time
from functools import lru_cache

import boto3
from botocore.config import Config

from orgconnect.domain.secrets import SecretHasher
from orgconnect.settings import get_settings
from orgconnect.store.dynamodb import DynamoStore
from orgconnect.store.vault import load_pepper

# Fail fast inside API Gateway's 29 s budget; botocore's standard mode retries throttling for us.
_AWS_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})


def now() -> int:
    """Seconds since the epoch (the one clock of the service, so tests can replace it)."""
    return int(time.time())


@lru_cache(maxsize=1)
def get_store() -> DynamoStore:
    return DynamoStore(get_settings().table_name, boto3.client("dynamodb", config=_AWS_CONFIG), clock=now)


@lru_cache(maxsize=1)
def get_hasher() -> SecretHasher:
    return SecretHasher(load_pepper(get_settings().pepper_secret_id))


def reset() -> None:
    """Forget every cached dependency (tests, and the dev stack after it reseeds)."""
    get_store.cache_clear()
    get_hasher.cache_clear()
    get_settings.cache_clear()
