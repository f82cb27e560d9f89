"""The token endpoint's rules (SPEC 2.2; anchors K1-K5, R5, T1, T3, F1, F2) and access-token
authentication for API calls (SPEC 2.3, 2.5).

Vocabulary:

- A **grant** is a token family: what one redeemed authorization code authorizes, for one
  client and one subject (``sub``: ``ou_…`` for an Organizational Unit). Revoking a grant
  revokes every token of the family.
- Each grant has exactly one **current refresh token**. Refreshing rotates it: the presented
  token is retired and a new one becomes current, together with a new access token. A retired
  refresh token presented again revokes the grant (F2), with no grace window.
- **Access tokens** live one hour. The grant records which of its access tokens may still be
  alive, so revoking it can mark every one of them revoked and authenticating an access token
  stays one read.

Secrets (codes, access and refresh tokens, client secrets) exist in clear only in the request
and the response; storage holds keyed digests with a distinct purpose per kind of secret.
This module is pure: it talks to storage through :class:`TokenRepository`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar, NoReturn, Protocol

from orgconnect.domain.clients import CLIENT_SECRET_PURPOSE
from orgconnect.domain.codes import CODE_PURPOSE, AuthorizationCode, GrantKind
from orgconnect.domain.errors import AuthenticationFailed, DomainError, TemporarilyUnavailable
from orgconnect.domain.model import ApiKey
from orgconnect.domain.secrets import SecretHasher, id_pattern, new_id, new_secret

ACCESS_TOKEN_PURPOSE = "access_token"  # noqa: S105 - a hash domain label, not a secret
REFRESH_TOKEN_PURPOSE = "refresh_token"  # noqa: S105 - a hash domain label, not a secret
ACCESS_TOKEN_TTL_SECONDS = 3600
# Access tokens of one grant that may be alive at once; a refresh beyond it revokes the oldest.
MAX_LIVE_ACCESS_TOKENS = 10
# Longer credentials are refused before any hashing or storage read.
MAX_CREDENTIAL_LENGTH = 512
# Optimistic retries of a revocation that raced a refresh of the same grant.
REVOCATION_ATTEMPTS = 5
# A redeemed code is kept this long (its TTL moves on) so that a late replay still revokes (K1).
USED_CODE_RETENTION_SECONDS = 24 * 3600

GRANT_ID_PREFIX = "grt"
CLIENT_ID = id_pattern("cli")
# Compared against when the client is unknown, so that case costs the same as a wrong secret.
_UNKNOWN_CLIENT_DIGEST = "0" * 64


# -- errors (RFC 6749 section 5.2) --------------------------------------------------------------


class OAuthError(DomainError):
    """An RFC 6749 error answered by the token and revocation endpoints."""

    error: ClassVar[str] = "invalid_request"
    status: ClassVar[int] = 400

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class InvalidOAuthRequest(OAuthError):
    """A parameter is missing, repeated or malformed, or the body cannot be read."""

    error = "invalid_request"


class InvalidClient(OAuthError):
    """Client authentication failed (unknown client, wrong or missing secret)."""

    error = "invalid_client"
    status = 401


class InvalidGrant(OAuthError):
    """The code or refresh token is unknown, used, expired, revoked, or not this client's."""

    error = "invalid_grant"


class UnsupportedGrantType(OAuthError):
    """A grant type this server does not offer (password, client_credentials, implicit, …)."""

    error = "unsupported_grant_type"


class GrantType(StrEnum):
    """The only grants offered (anchors T3)."""

    AUTHORIZATION_CODE = "authorization_code"
    REFRESH_TOKEN = "refresh_token"  # noqa: S105 - a grant type name, not a secret


class RevocationReason(StrEnum):
    """Why a grant was revoked (kept on the grant item for operators)."""

    CLIENT_REQUEST = "client_request"
    CODE_REPLAY = "code_replay"
    REFRESH_TOKEN_REUSE = "refresh_token_reuse"  # noqa: S105 - a label, not a secret


# -- what the store holds -----------------------------------------------------------------------


@dataclass(frozen=True)
class ClientCredentials:
    """What the caller presented to authenticate as a client (body or HTTP Basic)."""

    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class StoredCode:
    """An authorization code item: what it stands for, and whether it was redeemed."""

    code: AuthorizationCode
    subject_name: str
    used_at: int | None = None


@dataclass(frozen=True)
class Grant:
    """A token family. ``version`` counts rotations; conditional writes compare it."""

    grant_id: str
    client_id: str
    kind: GrantKind
    sub: str
    scope: str
    subject_name: str
    created_at: int
    version: int
    refresh_token_digest: str
    # digest -> expires_at of every access token of the grant that may still be alive.
    access_tokens: dict[str, int] = field(default_factory=dict)
    code_digest: str | None = None
    revoked_at: int | None = None
    revoked_reason: str | None = None


@dataclass(frozen=True)
class StoredRefreshToken:
    """A refresh token item. It carries a snapshot of its grant as of the moment it became
    current, so that a refresh needs no read of the grant (a stale snapshot fails the write)."""

    grant_id: str
    client_id: str
    kind: GrantKind
    sub: str
    scope: str
    subject_name: str
    created_at: int
    grant_version: int
    access_tokens: dict[str, int] = field(default_factory=dict)
    retired_at: int | None = None
    revoked_at: int | None = None


@dataclass(frozen=True)
class StoredAccessToken:
    """An access token item."""

    grant_id: str
    client_id: str
    kind: GrantKind
    sub: str
    scope: str
    created_at: int
    expires_at: int
    revoked_at: int | None = None


@dataclass(frozen=True)
class Issuance:
    """What one successful redemption or rotation writes.

    ``grant`` is the grant as it must be after the write; ``retired_access_tokens`` are live
    access tokens pushed out by :data:`MAX_LIVE_ACCESS_TOKENS`, revoked by the same write.
    """

    grant: Grant
    access_token_digest: str
    access_token_expires_at: int
    refresh_token_digest: str
    retired_access_tokens: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class TokenSet:
    """The tokens handed to the client: the only place where they exist in clear."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int
    grant_id: str
    client_id: str
    kind: GrantKind
    sub: str
    scope: str
    subject_name: str


@dataclass(frozen=True)
class AccessGrant:
    """Who an API call is made for, once its access token is authenticated."""

    grant_id: str
    client_id: str
    kind: GrantKind
    sub: str
    scope: str


class StaleWrite(Exception):
    """A conditional write found its items changed since they were read (or being changed)."""


class TokenRepository(Protocol):
    """The storage the token rules need (``orgconnect.store.tokens.TokenStore`` in production).

    Every write method is one atomic conditional write that raises :class:`StaleWrite` when
    the state it was computed from no longer holds.
    """

    def load_for_code(self, client_id: str, code_digest: str) -> tuple[ApiKey | None, StoredCode | None]:
        """The client's secret record and the code item, in one read."""
        ...

    def redeem_code(self, code_digest: str, code: StoredCode, issuance: Issuance, now: int) -> None:
        """Consume the code (unused, unexpired, this client and redirect_uri) and write the grant
        and its tokens."""
        ...

    def get_code(self, code_digest: str) -> StoredCode | None: ...

    def burn_code(self, code_digest: str, now: int) -> bool:
        """Mark an unused code used without issuing anything; False if it was already used."""
        ...

    def load_for_refresh(
        self, client_id: str, refresh_token_digest: str
    ) -> tuple[ApiKey | None, StoredRefreshToken | None]:
        """The client's secret record and the refresh token item, in one read."""
        ...

    def rotate_refresh_token(
        self, refresh_token_digest: str, token: StoredRefreshToken, issuance: Issuance, now: int
    ) -> None:
        """Retire the current refresh token and write its successors, if the grant is unchanged."""
        ...

    def load_for_revocation(
        self, client_id: str, access_token_digest: str, refresh_token_digest: str
    ) -> tuple[ApiKey | None, StoredAccessToken | None, StoredRefreshToken | None]:
        """The client's secret record and the token as an access and as a refresh token, in one read."""
        ...

    def get_client(self, client_id: str) -> ApiKey | None: ...

    def get_grant(self, grant_id: str) -> Grant | None: ...

    def grants_for_subject(self, client_id: str, sub: str) -> list[Grant]: ...

    def revoke_grant(self, grant: Grant, now: int, reason: RevocationReason) -> None:
        """Mark the grant, its current refresh token and its live access tokens revoked."""
        ...

    def get_access_token(self, access_token_digest: str) -> StoredAccessToken | None: ...


# -- client authentication (T1) -----------------------------------------------------------------


def check_client_credentials(credentials: ClientCredentials | None) -> ClientCredentials:
    """Refuse credentials that cannot belong to any client, before any storage read."""
    if credentials is None:
        raise InvalidClient("Client authentication is required.")
    if (
        not CLIENT_ID.match(credentials.client_id)
        or not credentials.client_secret
        or len(credentials.client_secret) > MAX_CREDENTIAL_LENGTH
    ):
        raise InvalidClient("Client authentication failed.")
    return credentials


def authenticate_client(
    credentials: ClientCredentials, record: ApiKey | None, *, hasher: SecretHasher
) -> str:
    """The authenticated client id, comparing the secret in constant time (T1).

    An unknown client and a wrong secret take the same path and get the same answer.
    """
    expected = record.secret_digest if record is not None else _UNKNOWN_CLIENT_DIGEST
    matches = hasher.matches(CLIENT_SECRET_PURPOSE, credentials.client_secret, expected)
    if record is None or not matches or record.client_id != credentials.client_id:
        raise InvalidClient("Client authentication failed.")
    return record.client_id


# -- authorization_code grant (K1-K5, R5) -------------------------------------------------------


def exchange_code(
    credentials: ClientCredentials | None,
    code: str,
    redirect_uri: str,
    *,
    store: TokenRepository,
    hasher: SecretHasher,
    now: int,
) -> TokenSet:
    """Redeem an authorization code for a new grant: one read, one conditional write.

    Refused with invalid_grant when the code is unknown, expired (K2), another client's (K3),
    issued for another redirect_uri (R5) or already used; a used code also revokes the grant
    issued from it (K1).
    """
    credentials = check_client_credentials(credentials)
    code_digest = hasher.digest(CODE_PURPOSE, code)
    record, stored = store.load_for_code(credentials.client_id, code_digest)
    client_id = authenticate_client(credentials, record, hasher=hasher)
    if stored is not None and stored.used_at is not None:
        _refuse_replayed_code(stored, store=store, now=now)
    stored = _redeemable(stored, client_id=client_id, redirect_uri=redirect_uri, now=now)
    tokens, issuance = _issue_grant(stored, code_digest, hasher=hasher, now=now)
    try:
        store.redeem_code(code_digest, stored, issuance, now)
    except StaleWrite:
        # Someone redeemed (or is redeeming) the same code: that is a replay (K1, K5).
        _settle_lost_redemption(code_digest, store=store, now=now)
    return tokens


def _redeemable(stored: StoredCode | None, *, client_id: str, redirect_uri: str, now: int) -> StoredCode:
    """The unused code, if this client may redeem it now with this redirect_uri (K2, K3, R5)."""
    if stored is None:
        raise InvalidGrant("The authorization code is unknown, expired or already used.")
    code = stored.code
    if code.client_id != client_id:
        raise InvalidGrant("The authorization code was issued to another client.")
    if code.redirect_uri != redirect_uri:
        raise InvalidGrant("The redirect_uri does not match the one of the authorization request.")
    if code.expires_at <= now:
        raise InvalidGrant("The authorization code is unknown, expired or already used.")
    if code.kind is not GrantKind.ORGANIZATIONAL_UNIT:
        raise InvalidGrant("This kind of authorization code cannot be redeemed here.")
    return stored


def _refuse_replayed_code(stored: StoredCode, *, store: TokenRepository, now: int) -> NoReturn:
    """K1: refuse the replay and revoke every token issued from the code."""
    if stored.code.grant_id is not None:
        revoke_grant(stored.code.grant_id, store=store, now=now, reason=RevocationReason.CODE_REPLAY)
    raise InvalidGrant("The authorization code is unknown, expired or already used.")


def _settle_lost_redemption(code_digest: str, *, store: TokenRepository, now: int) -> NoReturn:
    """After a failed consuming write: find out why, and make sure a replay revokes the winner.

    If the code still looks unused, a concurrent redemption is in flight; burning the code
    either makes that redemption fail too or, if it already committed, shows its grant.
    """
    for _ in range(REVOCATION_ATTEMPTS):
        stored = store.get_code(code_digest)
        if stored is None or (stored.used_at is None and stored.code.expires_at <= now):
            raise InvalidGrant("The authorization code is unknown, expired or already used.")
        if stored.used_at is not None:
            _refuse_replayed_code(stored, store=store, now=now)
        if store.burn_code(code_digest, now):
            raise InvalidGrant("The authorization code is unknown, expired or already used.")
    raise TemporarilyUnavailable("authorization code state did not settle")


def _issue_grant(
    stored: StoredCode, code_digest: str, *, hasher: SecretHasher, now: int
) -> tuple[TokenSet, Issuance]:
    code = stored.code
    access_token, refresh_token = new_secret(), new_secret()
    access_digest = hasher.digest(ACCESS_TOKEN_PURPOSE, access_token)
    refresh_digest = hasher.digest(REFRESH_TOKEN_PURPOSE, refresh_token)
    expires_at = now + ACCESS_TOKEN_TTL_SECONDS
    grant = Grant(
        grant_id=new_id(GRANT_ID_PREFIX),
        client_id=code.client_id,
        kind=code.kind,
        sub=code.sub,
        scope=code.scope,
        subject_name=stored.subject_name,
        created_at=now,
        version=1,
        refresh_token_digest=refresh_digest,
        access_tokens={access_digest: expires_at},
        code_digest=code_digest,
    )
    issuance = Issuance(grant, access_digest, expires_at, refresh_digest)
    return _token_set(grant, access_token, refresh_token), issuance


def _token_set(grant: Grant, access_token: str, refresh_token: str) -> TokenSet:
    return TokenSet(
        access_token=access_token,
        refresh_token=refresh_token,
        expires_in=ACCESS_TOKEN_TTL_SECONDS,
        grant_id=grant.grant_id,
        client_id=grant.client_id,
        kind=grant.kind,
        sub=grant.sub,
        scope=grant.scope,
        subject_name=grant.subject_name,
    )


# -- refresh_token grant (F1, F2) ---------------------------------------------------------------


def exchange_refresh_token(
    credentials: ClientCredentials | None,
    refresh_token: str,
    *,
    store: TokenRepository,
    hasher: SecretHasher,
    now: int,
) -> TokenSet:
    """Rotate a refresh token: a new access token and a new refresh token, one read, one write.

    Requires the client the grant was issued to (F1). A retired refresh token, whether presented
    again later or by a concurrent refresh that lost the race, revokes the whole grant (F2).
    """
    credentials = check_client_credentials(credentials)
    digest = hasher.digest(REFRESH_TOKEN_PURPOSE, refresh_token)
    record, stored = store.load_for_refresh(credentials.client_id, digest)
    client_id = authenticate_client(credentials, record, hasher=hasher)
    if stored is None or stored.revoked_at is not None:
        raise InvalidGrant("The refresh token is unknown or revoked.")
    if stored.client_id != client_id:
        raise InvalidGrant("The refresh token was issued to another client.")
    if stored.retired_at is not None:
        revoke_grant(stored.grant_id, store=store, now=now, reason=RevocationReason.REFRESH_TOKEN_REUSE)
        raise InvalidGrant("The refresh token was already used; the authorization is revoked.")
    tokens, issuance = _rotate(stored, hasher=hasher, now=now)
    try:
        store.rotate_refresh_token(digest, stored, issuance, now)
    except StaleWrite:
        # Another refresh with the same token won, or the grant was revoked meanwhile.
        revoke_grant(stored.grant_id, store=store, now=now, reason=RevocationReason.REFRESH_TOKEN_REUSE)
        raise InvalidGrant("The refresh token was already used; the authorization is revoked.") from None
    return tokens


def _rotate(stored: StoredRefreshToken, *, hasher: SecretHasher, now: int) -> tuple[TokenSet, Issuance]:
    access_token, refresh_token = new_secret(), new_secret()
    access_digest = hasher.digest(ACCESS_TOKEN_PURPOSE, access_token)
    refresh_digest = hasher.digest(REFRESH_TOKEN_PURPOSE, refresh_token)
    expires_at = now + ACCESS_TOKEN_TTL_SECONDS
    live, retired = live_access_tokens(stored.access_tokens, access_digest, expires_at, now=now)
    grant = Grant(
        grant_id=stored.grant_id,
        client_id=stored.client_id,
        kind=stored.kind,
        sub=stored.sub,
        scope=stored.scope,
        subject_name=stored.subject_name,
        created_at=stored.created_at,
        version=stored.grant_version + 1,
        refresh_token_digest=refresh_digest,
        access_tokens=live,
    )
    issuance = Issuance(grant, access_digest, expires_at, refresh_digest, retired)
    return _token_set(grant, access_token, refresh_token), issuance


def live_access_tokens(
    previous: Mapping[str, int], new_digest: str, new_expires_at: int, *, now: int
) -> tuple[dict[str, int], dict[str, int]]:
    """The grant's access tokens after adding one: (still alive, pushed out by the cap).

    Expired ones are dropped (they authenticate nothing); beyond :data:`MAX_LIVE_ACCESS_TOKENS`
    the oldest are pushed out, to be revoked, so a grant item stays small however often it is
    refreshed.
    """
    alive = sorted(((e, d) for d, e in previous.items() if e > now), reverse=True)
    keep = alive[: MAX_LIVE_ACCESS_TOKENS - 1]
    pushed_out = alive[MAX_LIVE_ACCESS_TOKENS - 1 :]
    live = {d: e for e, d in keep}
    live[new_digest] = new_expires_at
    return live, {d: e for e, d in pushed_out}


# -- revocation (RFC 7009) ----------------------------------------------------------------------


def revoke(
    credentials: ClientCredentials | None,
    *,
    token: str | None,
    sub: str | None,
    store: TokenRepository,
    hasher: SecretHasher,
    now: int,
) -> str:
    """Revoke by ``token`` (access or refresh; it wins over ``sub``) or by ``sub``; the client id.

    A token revokes its whole grant. A ``sub`` revokes every grant of this client for it.
    Unknown tokens, other clients' tokens and already revoked ones are accepted silently
    (RFC 7009 section 2.2: the answer never tells which).
    """
    credentials = check_client_credentials(credentials)
    if token:
        record, access, refresh = store.load_for_revocation(
            credentials.client_id,
            hasher.digest(ACCESS_TOKEN_PURPOSE, token),
            hasher.digest(REFRESH_TOKEN_PURPOSE, token),
        )
        client_id = authenticate_client(credentials, record, hasher=hasher)
        found = access or refresh
        if found is not None and found.client_id == client_id:
            revoke_grant(found.grant_id, store=store, now=now, reason=RevocationReason.CLIENT_REQUEST)
        return client_id
    if sub:
        client_id = authenticate_client(credentials, store.get_client(credentials.client_id), hasher=hasher)
        if len(sub) > MAX_CREDENTIAL_LENGTH:
            return client_id  # no subject has such an id; too long to be a key
        for grant in store.grants_for_subject(client_id, sub):
            _revoke_from(grant, store=store, now=now, reason=RevocationReason.CLIENT_REQUEST)
        return client_id
    raise InvalidOAuthRequest("Either token or sub is required.")


def revoke_grant(grant_id: str, *, store: TokenRepository, now: int, reason: RevocationReason) -> None:
    """Revoke a grant and every token of it; idempotent, safe against a concurrent refresh."""
    grant = store.get_grant(grant_id)
    if grant is not None:
        _revoke_from(grant, store=store, now=now, reason=reason)


def _revoke_from(grant: Grant, *, store: TokenRepository, now: int, reason: RevocationReason) -> None:
    current: Grant | None = grant
    for _ in range(REVOCATION_ATTEMPTS):
        if current is None or current.revoked_at is not None:
            return
        try:
            store.revoke_grant(current, now, reason)
            return
        except StaleWrite:
            # A refresh moved the grant on (new tokens to revoke too): read it again.
            current = store.get_grant(current.grant_id)
    raise TemporarilyUnavailable("grant kept changing during revocation")


# -- access tokens for API calls (SPEC 2.3, 2.5) ------------------------------------------------


def authenticate_access_token(
    token: str | None, *, store: TokenRepository, hasher: SecretHasher, now: int
) -> AccessGrant:
    """Who a ``Authorization: Bearer {access_token}`` call is made for: one read.

    Missing, unknown, expired and revoked tokens all raise the same AuthenticationFailed.
    """
    if not token or len(token) > MAX_CREDENTIAL_LENGTH:
        raise AuthenticationFailed()
    stored = store.get_access_token(hasher.digest(ACCESS_TOKEN_PURPOSE, token))
    if stored is None or stored.revoked_at is not None or stored.expires_at <= now:
        raise AuthenticationFailed()
    return AccessGrant(stored.grant_id, stored.client_id, stored.kind, stored.sub, stored.scope)
