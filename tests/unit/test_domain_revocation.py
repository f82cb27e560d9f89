"""Revocation in the domain (RFC 7009, and after replays), over the in-memory repository."""

from __future__ import annotations

import pytest

from orgconnect.domain.client_authentication import ClientCredentials
from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.domain.grants import (
    RevocationReason,
    TokenSet,
)
from orgconnect.domain.oauth_errors import InvalidClient, InvalidGrant, InvalidOAuthRequest
from orgconnect.domain.revocation import revoke, revoke_grant
from tests.unit.token_doubles import (
    HASHER,
    NOW,
    InMemoryTokens,
    add_client,
    always_stale,
    is_live,
    issue_code,
    redeem,
    refresh,
)


@pytest.fixture
def store() -> InMemoryTokens:
    return InMemoryTokens()


@pytest.mark.parametrize("which", ["access_token", "refresh_token"])
def test_revoking_either_token_revokes_the_whole_grant(store: InMemoryTokens, which: str) -> None:
    client = add_client(store)
    first = redeem(store, client, issue_code(store, client))
    second = refresh(store, client, first.refresh_token)
    revoke(client, token=getattr(second, which), sub=None, store=store, hasher=HASHER, now=NOW)
    assert not is_live(store, first.access_token)
    assert not is_live(store, second.access_token)
    with pytest.raises(InvalidGrant):
        refresh(store, client, second.refresh_token)


def test_revoking_a_sub_revokes_only_this_clients_grants_for_it(store: InMemoryTokens) -> None:
    client, other = add_client(store), add_client(store)
    mine = [redeem(store, client, issue_code(store, client)) for _ in range(2)]
    elsewhere = redeem(store, client, issue_code(store, client, sub="ou_000000000000000000000002"))
    theirs = redeem(store, other, issue_code(store, other))
    revoke(client, token=None, sub=mine[0].sub, store=store, hasher=HASHER, now=NOW)
    assert not any(is_live(store, t.access_token) for t in mine)
    assert is_live(store, elsewhere.access_token)
    assert is_live(store, theirs.access_token)


def test_token_wins_over_sub(store: InMemoryTokens) -> None:
    client = add_client(store)
    a = redeem(store, client, issue_code(store, client))
    b = redeem(store, client, issue_code(store, client))
    revoke(client, token=a.access_token, sub=b.sub, store=store, hasher=HASHER, now=NOW)
    assert not is_live(store, a.access_token)
    assert is_live(store, b.access_token)


def test_unknown_and_other_clients_tokens_are_accepted_silently(store: InMemoryTokens) -> None:
    client, other = add_client(store), add_client(store)
    theirs = redeem(store, other, issue_code(store, other))
    assert revoke(client, token="unknown", sub=None, store=store, hasher=HASHER, now=NOW) == client.client_id
    revoke(client, token=theirs.access_token, sub=None, store=store, hasher=HASHER, now=NOW)
    assert is_live(store, theirs.access_token)


def test_revocation_needs_a_token_or_a_sub_and_a_client(store: InMemoryTokens) -> None:
    client = add_client(store)
    with pytest.raises(InvalidOAuthRequest):
        revoke(client, token=None, sub=None, store=store, hasher=HASHER, now=NOW)
    with pytest.raises(InvalidClient):
        revoke(
            ClientCredentials(client.client_id, "wrong"),
            token="x",
            sub=None,
            store=store,
            hasher=HASHER,
            now=NOW,
        )


def test_revocation_rereads_a_grant_that_a_refresh_moved_on(store: InMemoryTokens) -> None:
    client = add_client(store)
    first = redeem(store, client, issue_code(store, client))
    rotated: list[TokenSet] = []

    def refresh_in_between(kind: str) -> None:
        if kind == "revoke" and not rotated:
            store.before_write = lambda _: None
            rotated.append(refresh(store, client, first.refresh_token))
            store.before_write = refresh_in_between

    store.before_write = refresh_in_between
    revoke_grant(first.grant_id, store=store, now=NOW, reason=RevocationReason.CLIENT_REQUEST)
    # The access token minted by the refresh that raced the revocation is revoked too.
    assert not is_live(store, rotated[0].access_token)


def test_revocation_gives_up_when_the_grant_never_settles(store: InMemoryTokens) -> None:
    client = add_client(store)
    first = redeem(store, client, issue_code(store, client))
    store.revoke_grant = always_stale  # type: ignore[method-assign]
    with pytest.raises(TemporarilyUnavailable):
        revoke_grant(first.grant_id, store=store, now=NOW, reason=RevocationReason.CLIENT_REQUEST)
