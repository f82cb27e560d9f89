"""The runtime wiring reads its settings per family and its secrets with one shared client."""

from __future__ import annotations

import boto3
import pytest

from orgconnect import runtime
from orgconnect.domain.secrets import SecretHasher


def test_secrets_are_read_with_a_client_of_the_default_session(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime.get_store()  # the function's first client: boto3's default session now holds botocore's data

    def second_session(*_: object, **__: object) -> None:
        # Powertools' own provider would build one, loading botocore's data files again (~55 ms).
        raise AssertionError("a second boto3 session")

    monkeypatch.setattr(boto3.session, "Session", second_session)
    assert isinstance(runtime.get_hasher(), SecretHasher)
    assert runtime.get_connection_vault()._sm is runtime.get_secrets_client()


def test_the_table_name_is_read_once_until_reset(
    aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    table = runtime.get_store().table_name
    monkeypatch.setenv("ORGCONNECT_TABLE_NAME", "another-table")
    runtime.get_store.cache_clear()
    assert runtime.get_store().table_name == table  # settings are read once per cold start
    runtime.reset()
    assert runtime.get_store().table_name == "another-table"
