"""The token grants and access-token authentication in the domain, over the in-memory repository."""

from __future__ import annotations

import pytest

from orgconnect.domain.client_authentication import ClientCredentials
from orgconnect.domain.codes import CODE_PURPOSE, OU_SCOPE, GrantKind, new_code
from orgconnect.domain.errors import AuthenticationFailed
from orgconnect.domain.grants import (
    ACCESS_TOKEN_PURPOSE,
    ACCESS_TOKEN_TTL_SECONDS,
    MAX_LIVE_ACCESS_TOKENS,
    REFRESH_TOKEN_PURPOSE,
    RevocationReason,
    TokenSet,
)
from orgconnect.domain.oauth_errors import InvalidClient, InvalidGrant
from orgconnect.domain.revocation import revoke_grant
from orgconnect.domain.secrets import new_id
from orgconnect.domain.tokens import (
    authenticate_access_token,
    exchange_code,
    live_access_tokens,
)
from tests.unit.token_doubles import (
    HASHER,
    NOW,
    REDIRECT,
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


# -- authorization_code -------------------------------------------------------------------------


def test_a_code_redeems_for_a_grant_stored_only_as_digests(store: InMemoryTokens) -> None:
    client = add_client(store)
    tokens = redeem(store, client, issue_code(store, client))

    assert (tokens.sub, tokens.scope, tokens.subject_name, tokens.expires_in) == (
        "ou_000000000000000000000001",
        OU_SCOPE,
        "Acme",
        ACCESS_TOKEN_TTL_SECONDS,
    )
    assert len(tokens.access_token) == 43 and len(tokens.refresh_token) == 43
    assert tokens.access_token != tokens.refresh_token
    (grant,) = store.grants.values()
    assert grant.grant_id == tokens.grant_id and grant.grant_id.startswith("grt_")
    assert grant.refresh_token_digest == HASHER.digest(REFRESH_TOKEN_PURPOSE, tokens.refresh_token)
    assert grant.access_tokens == {
        HASHER.digest(ACCESS_TOKEN_PURPOSE, tokens.access_token): NOW + ACCESS_TOKEN_TTL_SECONDS
    }
    everything = repr(vars(store))
    assert tokens.access_token not in everything and tokens.refresh_token not in everything
    # The access and refresh digests use distinct purposes: neither token works as the other.
    assert HASHER.digest(ACCESS_TOKEN_PURPOSE, tokens.refresh_token) not in store.access


def test_redemption_reads_once(store: InMemoryTokens) -> None:
    client = add_client(store)
    code = issue_code(store, client)
    store.reads = 0
    redeem(store, client, code)
    assert store.reads == 1


@pytest.mark.parametrize(
    "credentials",
    [
        None,
        ClientCredentials("not-a-client-id", "x"),
        ClientCredentials(new_id("cli"), "secret"),
        ClientCredentials(new_id("cli"), ""),
        ClientCredentials(new_id("cli"), "x" * 513),
    ],
    ids=["missing", "malformed-id", "unknown-client", "empty-secret", "oversized-secret"],
)
def test_client_authentication_failures_are_invalid_client(
    store: InMemoryTokens, credentials: ClientCredentials | None
) -> None:
    client = add_client(store)
    code = issue_code(store, client)
    with pytest.raises(InvalidClient):
        exchange_code(credentials, code, REDIRECT, store=store, hasher=HASHER, now=NOW)
    assert store.grants == {}


def test_wrong_secret_and_unknown_client_get_the_same_answer(store: InMemoryTokens) -> None:
    client = add_client(store)
    code = issue_code(store, client)
    answers = []
    for credentials in (ClientCredentials(client.client_id, "wrong"), ClientCredentials(new_id("cli"), "x")):
        with pytest.raises(InvalidClient) as raised:
            redeem(store, credentials, code)
        answers.append(raised.value.description)
    assert answers[0] == answers[1]


def test_client_authentication_precedes_every_code_check(store: InMemoryTokens) -> None:
    client = add_client(store)
    with pytest.raises(InvalidClient):
        redeem(store, ClientCredentials(client.client_id, "wrong"), "no-such-code")


def test_an_unknown_code_is_invalid_grant(store: InMemoryTokens) -> None:
    client = add_client(store)
    with pytest.raises(InvalidGrant):
        redeem(store, client, new_code())


def test_another_clients_code_is_refused_and_stays_redeemable_by_its_client(store: InMemoryTokens) -> None:
    owner, other = add_client(store), add_client(store)
    code = issue_code(store, owner)
    with pytest.raises(InvalidGrant, match="another client"):
        redeem(store, other, code)
    assert redeem(store, owner, code).client_id == owner.client_id


def test_a_different_redirect_uri_is_refused(store: InMemoryTokens) -> None:
    client = add_client(store)
    code = issue_code(store, client)
    with pytest.raises(InvalidGrant, match="redirect_uri"):
        exchange_code(client, code, REDIRECT + "/", store=store, hasher=HASHER, now=NOW)
    redeem(store, client, code)


def test_a_code_is_valid_until_the_second_before_it_expires(store: InMemoryTokens) -> None:
    client = add_client(store)
    redeem(store, client, issue_code(store, client, expires_at=NOW + 1))
    with pytest.raises(InvalidGrant):
        redeem(store, client, issue_code(store, client, expires_at=NOW))


def test_account_codes_from_delegated_access_redeem_for_hour_long_tokens(store: InMemoryTokens) -> None:
    client = add_client(store)
    code = issue_code(store, client, kind=GrantKind.ACCOUNT, sub="acc_000000000000000000000001")
    tokens = redeem(store, client, code)
    assert (tokens.kind, tokens.sub, tokens.expires_in) == (
        GrantKind.ACCOUNT,
        "acc_000000000000000000000001",
        3600,
    )


def test_a_replayed_code_is_refused_and_revokes_the_grant_issued_from_it(store: InMemoryTokens) -> None:
    client = add_client(store)
    code = issue_code(store, client)
    first = redeem(store, client, code)
    with pytest.raises(InvalidGrant):
        redeem(store, client, code)
    assert not is_live(store, first.access_token)
    with pytest.raises(InvalidGrant):
        refresh(store, client, first.refresh_token)
    assert store.grants[first.grant_id].revoked_reason == RevocationReason.CODE_REPLAY


def test_a_redemption_that_loses_the_race_revokes_the_winner(store: InMemoryTokens) -> None:
    client = add_client(store)
    code = issue_code(store, client)
    won: list[TokenSet] = []

    def racing_winner(_: str) -> None:
        store.before_write = lambda _: None
        won.append(redeem(store, client, code))

    store.before_write = racing_winner
    with pytest.raises(InvalidGrant):
        redeem(store, client, code)
    assert len(store.grants) == 1
    assert not is_live(store, won[0].access_token)


def test_a_redemption_in_flight_elsewhere_burns_the_code(store: InMemoryTokens) -> None:
    client = add_client(store)
    code = issue_code(store, client)
    store.redeem_code = always_stale  # type: ignore[method-assign]
    with pytest.raises(InvalidGrant):
        redeem(store, client, code)
    assert store.codes[HASHER.digest(CODE_PURPOSE, code)].used_at == NOW
    assert store.grants == {}


# -- refresh_token ------------------------------------------------------------------------------


def test_refresh_rotates_both_tokens_and_keeps_the_previous_access_token(store: InMemoryTokens) -> None:
    client = add_client(store)
    first = redeem(store, client, issue_code(store, client))
    store.reads = 0
    second = refresh(store, client, first.refresh_token, now=NOW + 60)

    assert store.reads == 1
    assert second.grant_id == first.grant_id
    assert {second.access_token, second.refresh_token}.isdisjoint({first.access_token, first.refresh_token})
    assert is_live(store, first.access_token, now=NOW + 60)
    assert is_live(store, second.access_token, now=NOW + 60)
    grant = store.grants[first.grant_id]
    assert grant.version == 2
    assert grant.refresh_token_digest == HASHER.digest(REFRESH_TOKEN_PURPOSE, second.refresh_token)
    assert store.refresh[HASHER.digest(REFRESH_TOKEN_PURPOSE, first.refresh_token)].retired_at == NOW + 60
    third = refresh(store, client, second.refresh_token, now=NOW + 120)
    assert third.grant_id == first.grant_id


def test_a_retired_refresh_token_revokes_the_whole_grant(store: InMemoryTokens) -> None:
    client = add_client(store)
    first = redeem(store, client, issue_code(store, client))
    second = refresh(store, client, first.refresh_token)
    with pytest.raises(InvalidGrant, match="already used"):
        refresh(store, client, first.refresh_token)
    assert not is_live(store, first.access_token)
    assert not is_live(store, second.access_token)
    with pytest.raises(InvalidGrant):
        refresh(store, client, second.refresh_token)
    assert store.grants[first.grant_id].revoked_reason == RevocationReason.REFRESH_TOKEN_REUSE


def test_a_refresh_that_loses_the_race_revokes_the_grant(store: InMemoryTokens) -> None:
    client = add_client(store)
    first = redeem(store, client, issue_code(store, client))
    won: list[TokenSet] = []

    def racing_winner(kind: str) -> None:
        if kind == "rotate":
            store.before_write = lambda _: None
            won.append(refresh(store, client, first.refresh_token))

    store.before_write = racing_winner
    with pytest.raises(InvalidGrant):
        refresh(store, client, first.refresh_token)
    assert not is_live(store, won[0].access_token)


def test_another_clients_refresh_is_refused_without_touching_the_grant(store: InMemoryTokens) -> None:
    owner, other = add_client(store), add_client(store)
    first = redeem(store, owner, issue_code(store, owner))
    with pytest.raises(InvalidGrant, match="another client"):
        refresh(store, other, first.refresh_token)
    assert store.grants[first.grant_id].revoked_at is None
    refresh(store, owner, first.refresh_token)


def test_unknown_and_revoked_refresh_tokens_are_invalid_grant(store: InMemoryTokens) -> None:
    client = add_client(store)
    with pytest.raises(InvalidGrant):
        refresh(store, client, "unknown")
    first = redeem(store, client, issue_code(store, client))
    revoke_grant(first.grant_id, store=store, now=NOW, reason=RevocationReason.CLIENT_REQUEST)
    with pytest.raises(InvalidGrant, match="revoked"):
        refresh(store, client, first.refresh_token)


def test_refresh_authenticates_the_client_first(store: InMemoryTokens) -> None:
    client = add_client(store)
    first = redeem(store, client, issue_code(store, client))
    with pytest.raises(InvalidClient):
        refresh(store, ClientCredentials(client.client_id, "wrong"), first.refresh_token)
    assert store.grants[first.grant_id].version == 1


def test_live_access_tokens_drops_expired_ones_and_caps_the_rest() -> None:
    previous = {"expired": NOW, **{f"t{i}": NOW + i for i in range(1, MAX_LIVE_ACCESS_TOKENS + 2)}}
    live, pushed_out = live_access_tokens(previous, "new", NOW + 3600, now=NOW)
    assert len(live) == MAX_LIVE_ACCESS_TOKENS
    assert live["new"] == NOW + 3600
    assert "expired" not in live and "expired" not in pushed_out
    # The newest survive; the oldest live ones are pushed out to be revoked.
    assert set(pushed_out) == {"t1", "t2"}


def test_refreshing_past_the_cap_revokes_the_oldest_access_token(store: InMemoryTokens) -> None:
    client = add_client(store)
    tokens = [redeem(store, client, issue_code(store, client))]
    for i in range(MAX_LIVE_ACCESS_TOKENS):
        tokens.append(refresh(store, client, tokens[-1].refresh_token, now=NOW + i + 1))
    later = NOW + MAX_LIVE_ACCESS_TOKENS
    assert not is_live(store, tokens[0].access_token, now=later)
    assert all(is_live(store, t.access_token, now=later) for t in tokens[1:])
    assert len(store.grants[tokens[0].grant_id].access_tokens) == MAX_LIVE_ACCESS_TOKENS


# -- access tokens ------------------------------------------------------------------------------


def test_an_access_token_authenticates_its_grant_until_it_expires(store: InMemoryTokens) -> None:
    client = add_client(store)
    tokens = redeem(store, client, issue_code(store, client))
    store.reads = 0
    grant = authenticate_access_token(tokens.access_token, store=store, hasher=HASHER, now=NOW)
    assert store.reads == 1
    assert (grant.grant_id, grant.client_id, grant.kind, grant.sub, grant.scope) == (
        tokens.grant_id,
        client.client_id,
        GrantKind.ORGANIZATIONAL_UNIT,
        tokens.sub,
        OU_SCOPE,
    )
    assert is_live(store, tokens.access_token, now=NOW + ACCESS_TOKEN_TTL_SECONDS - 1)
    assert not is_live(store, tokens.access_token, now=NOW + ACCESS_TOKEN_TTL_SECONDS)


@pytest.mark.parametrize("token", [None, "", "unknown", "x" * 513], ids=["none", "empty", "unknown", "long"])
def test_anything_but_a_live_access_token_fails_authentication(
    store: InMemoryTokens, token: str | None
) -> None:
    with pytest.raises(AuthenticationFailed):
        authenticate_access_token(token, store=store, hasher=HASHER, now=NOW)


def test_a_refresh_token_is_not_an_access_token(store: InMemoryTokens) -> None:
    client = add_client(store)
    tokens = redeem(store, client, issue_code(store, client))
    assert not is_live(store, tokens.refresh_token)
