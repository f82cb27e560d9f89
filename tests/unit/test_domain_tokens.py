"""The token rules in the domain, over an in-memory repository with DynamoDB's conditions."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

import pytest

from orgconnect.domain.client_authentication import ClientCredentials
from orgconnect.domain.clients import CLIENT_SECRET_PURPOSE
from orgconnect.domain.codes import CODE_PURPOSE, OU_SCOPE, AuthorizationCode, GrantKind, new_code
from orgconnect.domain.errors import AuthenticationFailed, TemporarilyUnavailable
from orgconnect.domain.grants import (
    ACCESS_TOKEN_PURPOSE,
    ACCESS_TOKEN_TTL_SECONDS,
    MAX_LIVE_ACCESS_TOKENS,
    REFRESH_TOKEN_PURPOSE,
    Grant,
    Issuance,
    RevocationReason,
    StaleWrite,
    StoredAccessToken,
    StoredCode,
    StoredRefreshToken,
    TokenSet,
)
from orgconnect.domain.model import ApiKey
from orgconnect.domain.oauth_errors import InvalidClient, InvalidGrant, InvalidOAuthRequest
from orgconnect.domain.revocation import revoke, revoke_grant
from orgconnect.domain.secrets import SecretHasher, new_id
from orgconnect.domain.tokens import (
    authenticate_access_token,
    exchange_code,
    exchange_refresh_token,
    live_access_tokens,
)

HASHER = SecretHasher(b"p" * 32)
NOW = 1_900_000_000
REDIRECT = "https://app.example/callback"


class InMemoryTokens:
    """TokenRepository with the same conditions as the DynamoDB transactions."""

    def __init__(self) -> None:
        self.clients: dict[str, ApiKey] = {}
        self.codes: dict[str, StoredCode] = {}
        self.grants: dict[str, Grant] = {}
        self.access: dict[str, StoredAccessToken] = {}
        self.refresh: dict[str, StoredRefreshToken] = {}
        self.reads = 0
        # Called at the start of a write, to let a test change the state first (a racing caller).
        self.before_write: Callable[[str], None] = lambda _: None
        self._lock = threading.RLock()

    # reads
    def load_for_code(self, client_id: str, code_digest: str) -> tuple[ApiKey | None, StoredCode | None]:
        self.reads += 1
        return self.clients.get(client_id), self.codes.get(code_digest)

    def load_for_refresh(
        self, client_id: str, refresh_token_digest: str
    ) -> tuple[ApiKey | None, StoredRefreshToken | None]:
        self.reads += 1
        return self.clients.get(client_id), self.refresh.get(refresh_token_digest)

    def load_for_revocation(
        self, client_id: str, access_token_digest: str, refresh_token_digest: str
    ) -> tuple[ApiKey | None, StoredAccessToken | None, StoredRefreshToken | None]:
        self.reads += 1
        return (
            self.clients.get(client_id),
            self.access.get(access_token_digest),
            self.refresh.get(refresh_token_digest),
        )

    def get_client(self, client_id: str) -> ApiKey | None:
        self.reads += 1
        return self.clients.get(client_id)

    def get_code(self, code_digest: str) -> StoredCode | None:
        return self.codes.get(code_digest)

    def get_grant(self, grant_id: str) -> Grant | None:
        return self.grants.get(grant_id)

    def grants_for_subject(self, client_id: str, sub: str) -> list[Grant]:
        return [g for g in self.grants.values() if (g.client_id, g.sub) == (client_id, sub)]

    def get_access_token(self, access_token_digest: str) -> StoredAccessToken | None:
        self.reads += 1
        return self.access.get(access_token_digest)

    # writes
    def redeem_code(self, code_digest: str, code: StoredCode, issuance: Issuance, now: int) -> None:
        self.before_write("redeem")
        with self._lock:
            current = self.codes.get(code_digest)
            if (
                current is None
                or current.used_at is not None
                or current.code.expires_at <= now
                or current.code.client_id != code.code.client_id
                or current.code.redirect_uri != code.code.redirect_uri
            ):
                raise StaleWrite()
            grant_id = issuance.grant.grant_id
            redeemed = replace(current.code, grant_id=grant_id)
            self.codes[code_digest] = replace(current, used_at=now, code=redeemed)
            self.grants[grant_id] = issuance.grant
            self._put_tokens(issuance, now)

    def burn_code(self, code_digest: str, now: int) -> bool:
        with self._lock:
            current = self.codes.get(code_digest)
            if current is None or current.used_at is not None:
                return False
            self.codes[code_digest] = replace(current, used_at=now)
            return True

    def rotate_refresh_token(
        self, refresh_token_digest: str, token: StoredRefreshToken, issuance: Issuance, now: int
    ) -> None:
        self.before_write("rotate")
        with self._lock:
            current = self.refresh.get(refresh_token_digest)
            grant = self.grants.get(token.grant_id)
            if (
                current is None
                or current.retired_at is not None
                or current.revoked_at is not None
                or grant is None
                or grant.revoked_at is not None
                or grant.version != token.grant_version
                or grant.refresh_token_digest != refresh_token_digest
            ):
                raise StaleWrite()
            self.refresh[refresh_token_digest] = replace(current, retired_at=now)
            self.grants[grant.grant_id] = replace(
                grant,
                version=issuance.grant.version,
                refresh_token_digest=issuance.refresh_token_digest,
                access_tokens=issuance.grant.access_tokens,
            )
            self._put_tokens(issuance, now)
            for digest in issuance.retired_access_tokens:
                self.access[digest] = replace(self.access[digest], revoked_at=now)

    def revoke_grant(self, grant: Grant, now: int, reason: RevocationReason) -> None:
        self.before_write("revoke")
        with self._lock:
            current = self.grants.get(grant.grant_id)
            if current is None or current.revoked_at is not None or current.version != grant.version:
                raise StaleWrite()
            self.grants[grant.grant_id] = replace(current, revoked_at=now, revoked_reason=str(reason))
            token = self.refresh[grant.refresh_token_digest]
            self.refresh[grant.refresh_token_digest] = replace(token, revoked_at=now)
            for digest, expires_at in grant.access_tokens.items():
                if expires_at > now:
                    self.access[digest] = replace(self.access[digest], revoked_at=now)

    def _put_tokens(self, issuance: Issuance, now: int) -> None:
        g = issuance.grant
        self.access[issuance.access_token_digest] = StoredAccessToken(
            g.grant_id, g.client_id, g.kind, g.sub, g.scope, now, issuance.access_token_expires_at
        )
        self.refresh[issuance.refresh_token_digest] = StoredRefreshToken(
            g.grant_id, g.client_id, g.kind, g.sub, g.scope, g.subject_name, now, g.version, g.access_tokens
        )


@pytest.fixture
def store() -> InMemoryTokens:
    return InMemoryTokens()


def add_client(store: InMemoryTokens) -> ClientCredentials:
    client_id, secret = new_id("cli"), f"secret-{new_id('x')}"
    store.clients[client_id] = ApiKey(client_id, HASHER.digest(CLIENT_SECRET_PURPOSE, secret))
    return ClientCredentials(client_id, secret)


def issue_code(
    store: InMemoryTokens,
    client: ClientCredentials,
    *,
    redirect_uri: str = REDIRECT,
    expires_at: int = NOW + 600,
    kind: GrantKind = GrantKind.ORGANIZATIONAL_UNIT,
    sub: str = "ou_000000000000000000000001",
) -> str:
    code = new_code()
    store.codes[HASHER.digest(CODE_PURPOSE, code)] = StoredCode(
        AuthorizationCode(client.client_id, redirect_uri, kind, sub, OU_SCOPE, NOW - 10, expires_at), "Acme"
    )
    return code


def redeem(store: InMemoryTokens, client: ClientCredentials, code: str, *, now: int = NOW) -> TokenSet:
    return exchange_code(client, code, REDIRECT, store=store, hasher=HASHER, now=now)


def refresh(store: InMemoryTokens, client: ClientCredentials, token: str, *, now: int = NOW) -> TokenSet:
    return exchange_refresh_token(client, token, store=store, hasher=HASHER, now=now)


def is_live(store: InMemoryTokens, access_token: str, *, now: int = NOW) -> bool:
    try:
        authenticate_access_token(access_token, store=store, hasher=HASHER, now=now)
    except AuthenticationFailed:
        return False
    return True


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


def test_codes_of_other_grant_kinds_are_not_redeemed_here(store: InMemoryTokens) -> None:
    client = add_client(store)
    code = issue_code(store, client, kind=GrantKind.ACCOUNT, sub="acc_000000000000000000000001")
    with pytest.raises(InvalidGrant):
        redeem(store, client, code)


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
    store.redeem_code = _always_stale  # type: ignore[method-assign]
    with pytest.raises(InvalidGrant):
        redeem(store, client, code)
    assert store.codes[HASHER.digest(CODE_PURPOSE, code)].used_at == NOW
    assert store.grants == {}


def _always_stale(*_: object) -> None:
    raise StaleWrite()


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


# -- revocation ---------------------------------------------------------------------------------


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
    store.revoke_grant = _always_stale  # type: ignore[method-assign]
    with pytest.raises(TemporarilyUnavailable):
        revoke_grant(first.grant_id, store=store, now=NOW, reason=RevocationReason.CLIENT_REQUEST)


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
