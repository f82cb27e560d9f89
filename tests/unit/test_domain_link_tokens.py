"""Link tokens in the domain, with in-memory fakes (L1, L2)."""

from __future__ import annotations

import pytest

from orgconnect.domain.errors import InvalidRequest
from orgconnect.domain.link_tokens import LINK_TOKEN_PURPOSE, check_ttl, mint_link_token
from orgconnect.domain.model import ApiKey, CalendarProvider, ServiceAccount
from orgconnect.domain.secrets import SecretHasher, new_id
from tests.fakes import InMemoryStore

HASHER = SecretHasher(b"p" * 32)


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


def add_account(store: InMemoryStore, client_id: str) -> str:
    ser = new_id("ser")
    store.create_service_account(
        ServiceAccount(ser, client_id, CalendarProvider.GOOGLE_WORKSPACE, "example.com")
    )
    return ser


def test_l1_token_is_bound_to_client_and_account_and_stored_hashed(store: InMemoryStore) -> None:
    ser = add_account(store, "cli_a")
    token = mint_link_token(ApiKey("cli_a", "d"), ser, store=store, hasher=HASHER, now=1000, ttl_seconds=1800)
    assert len(token) >= 43
    ((digest, grant),) = store.link_tokens.items()
    assert digest == HASHER.digest(LINK_TOKEN_PURPOSE, token)
    assert token not in repr(store.link_tokens)
    assert (grant.client_id, grant.service_account_id, grant.created_at, grant.expires_at) == (
        "cli_a",
        ser,
        1000,
        2800,
    )


def test_l2_another_clients_account_is_refused_like_an_unknown_one(store: InMemoryStore) -> None:
    theirs = add_account(store, "cli_b")
    answers = []
    for ser in (theirs, new_id("ser")):
        with pytest.raises(InvalidRequest) as raised:
            mint_link_token(ApiKey("cli_a", "d"), ser, store=store, hasher=HASHER, now=1, ttl_seconds=60)
        answers.append(raised.value.errors)
    assert answers[0] == answers[1]
    assert store.link_tokens == {}


@pytest.mark.parametrize("ttl", [59, 14401, 0, -5])
def test_ttl_outside_one_minute_to_four_hours_is_a_configuration_error(ttl: int) -> None:
    with pytest.raises(ValueError, match="between 60 and 14400"):
        check_ttl(ttl)


@pytest.mark.parametrize("ttl", [60, 1800, 14400])
def test_ttl_bounds_are_inclusive(ttl: int) -> None:
    assert check_ttl(ttl) == ttl
