"""store/vault.py's versioned writes on moto's Secrets Manager: a refreshed secret version has one
successor only, so a second writer that refreshed from the same version (or from a version a
relink has replaced) never overwrites the tokens saved first."""

from __future__ import annotations

import pytest

from orgconnect import runtime
from orgconnect.domain.connection_credentials import StaleCredentials
from orgconnect.store.vault import ConnectionVault


@pytest.fixture
def vault(aws: dict[str, str]) -> ConnectionVault:
    return ConnectionVault(runtime.get_secrets_client(), prefix="orgconnect/test/connections/")


def test_one_successor_per_version(vault: ConnectionVault) -> None:
    arn = vault.create("cnx_1", {"access_token": "a0", "refresh_token": "r0"})
    base = vault.read_current(arn)
    assert base is not None
    first = vault.replace_current(arn, base.version, {"access_token": "a1", "refresh_token": "r1"})
    with pytest.raises(StaleCredentials):
        vault.replace_current(arn, base.version, {"access_token": "a2", "refresh_token": "r2"})
    current = vault.read_current(arn)
    assert current is not None and current.version == first
    assert current.data["refresh_token"] == "r1" and vault.read(arn) == current.data


def test_a_relinked_secret_is_not_overwritten_by_a_refresh_of_the_old_version(vault: ConnectionVault) -> None:
    arn = vault.create("cnx_2", {"access_token": "a0", "refresh_token": "r0"})
    base = vault.read_current(arn)
    assert base is not None
    vault.replace(arn, {"access_token": "relinked", "refresh_token": "relinked"})
    with pytest.raises(StaleCredentials):
        vault.replace_current(arn, base.version, {"access_token": "a1", "refresh_token": "r1"})
    assert vault.read(arn) == {"access_token": "relinked", "refresh_token": "relinked"}


def test_a_gone_secret_reads_as_none_and_cannot_be_replaced(vault: ConnectionVault) -> None:
    arn = vault.create("cnx_3", {"access_token": "a0"})
    base = vault.read_current(arn)
    assert base is not None
    vault.delete(arn)
    assert vault.read_current(arn) is None
    with pytest.raises(StaleCredentials):
        vault.replace_current(arn, base.version, {"access_token": "a1"})
