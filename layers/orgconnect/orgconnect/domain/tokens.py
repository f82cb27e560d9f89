"""The token endpoint's grants (SPEC 2.2; anchors K1-K5, R5, F1, F2; RFC 7636) and access-token
authentication for API calls (SPEC 2.3, 2.5).

The vocabulary (grant, current refresh token, live access tokens) is in
:mod:`orgconnect.domain.grants`; client authentication in
:mod:`orgconnect.domain.client_authentication`; revocation in :mod:`orgconnect.domain.revocation`.
Secrets (codes, access and refresh tokens, client secrets) exist in clear only in the request
and the response; storage holds keyed digests with a distinct purpose per kind of secret.
This module is pure: it talks to storage through :class:`~orgconnect.domain.grants.TokenRepository`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NoReturn

from orgconnect.domain.client_authentication import (
    ClientCredentials,
    authenticate_client,
    check_client_credentials,
)
from orgconnect.domain.codes import CODE_PURPOSE, GrantKind
from orgconnect.domain.credential_syntax import is_bearer_credential, is_vschar_credential
from orgconnect.domain.errors import AuthenticationFailed, TemporarilyUnavailable
from orgconnect.domain.grants import (
    ACCESS_TOKEN_PURPOSE,
    GRANT_ID_PREFIX,
    MAX_LIVE_ACCESS_TOKENS,
    REFRESH_TOKEN_PURPOSE,
    AccessGrant,
    Grant,
    Issuance,
    RevocationReason,
    StaleWrite,
    StoredCode,
    StoredRefreshToken,
    TokenRepository,
    TokenSet,
    access_token_ttl,
)
from orgconnect.domain.oauth_errors import InvalidGrant, InvalidOAuthRequest
from orgconnect.domain.pkce import is_code_verifier, verifier_matches
from orgconnect.domain.revocation import REVOCATION_ATTEMPTS, revoke_grant
from orgconnect.domain.secrets import SecretHasher, new_id, new_secret

# The codes this endpoint redeems (account codes come from delegated access).
REDEEMABLE_KINDS = frozenset({GrantKind.ORGANIZATIONAL_UNIT, GrantKind.SERVICE_ACCOUNT, GrantKind.ACCOUNT})
_UNUSABLE_CODE = "The authorization code is unknown, expired or already used."


# -- authorization_code grant (K1-K5, R5, RFC 7636) ---------------------------------------------


def exchange_code(
    credentials: ClientCredentials | None,
    code: str,
    redirect_uri: str,
    *,
    code_verifier: str | None = None,
    store: TokenRepository,
    hasher: SecretHasher,
    now: int,
) -> TokenSet:
    """Redeem an authorization code for a new grant: one read, one conditional write.

    Refused with invalid_grant when the code is unknown, another client's (K3, checked first:
    another client's attempt changes nothing), already used (which also revokes the grant issued
    from it, K1), issued for another redirect_uri (R5), expired (K2), or when the PKCE
    ``code_verifier`` does not match the code's challenge, is missing for a code that has one,
    or is sent for a code that has none (RFC 9700 section 4.8.2: no PKCE downgrade).
    A malformed code or verifier is invalid_request.
    """
    credentials = check_client_credentials(credentials)
    if not is_vschar_credential(code):
        raise InvalidOAuthRequest("The parameter code is malformed.")
    if code_verifier is not None and not is_code_verifier(code_verifier):
        raise InvalidOAuthRequest("The code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~].")
    code_digest = hasher.digest(CODE_PURPOSE, code)
    record, stored = store.load_for_code(credentials.client_id, code_digest)
    client_id = authenticate_client(credentials, record, hasher=hasher)
    if stored is None:
        raise InvalidGrant(_UNUSABLE_CODE)
    if stored.code.client_id != client_id:
        raise InvalidGrant("The authorization code was issued to another client.")
    if stored.used_at is not None:
        _refuse_replayed_code(stored, store=store, now=now)
    _check_redeemable(stored, redirect_uri=redirect_uri, code_verifier=code_verifier, now=now)
    tokens, issuance = _issue_grant(stored, code_digest, hasher=hasher, now=now)
    try:
        store.redeem_code(code_digest, stored, issuance, now)
    except StaleWrite:
        # Someone redeemed (or is redeeming) the same code: that is a replay (K1, K5).
        _settle_lost_redemption(code_digest, store=store, now=now)
    return tokens


def _check_redeemable(stored: StoredCode, *, redirect_uri: str, code_verifier: str | None, now: int) -> None:
    """Whether this client may redeem its unused code now, with this redirect_uri and verifier."""
    code = stored.code
    if code.redirect_uri != redirect_uri:
        raise InvalidGrant("The redirect_uri does not match the one of the authorization request.")
    if code.expires_at <= now:
        raise InvalidGrant(_UNUSABLE_CODE)
    if code.kind not in REDEEMABLE_KINDS:
        raise InvalidGrant("This kind of authorization code cannot be redeemed here.")
    if code.code_challenge is None:
        if code_verifier is not None:
            raise InvalidGrant("A code_verifier was sent for a code issued without a code_challenge.")
    elif code_verifier is None:
        raise InvalidGrant("The code was issued with a code_challenge: the code_verifier is required.")
    elif not verifier_matches(code_verifier, code.code_challenge):
        raise InvalidGrant("The code_verifier does not match the code_challenge.")


def _refuse_replayed_code(stored: StoredCode, *, store: TokenRepository, now: int) -> NoReturn:
    """K1: refuse the replay and revoke every token issued from the code."""
    if stored.code.grant_id is not None:
        revoke_grant(stored.code.grant_id, store=store, now=now, reason=RevocationReason.CODE_REPLAY)
    raise InvalidGrant(_UNUSABLE_CODE)


def _settle_lost_redemption(code_digest: str, *, store: TokenRepository, now: int) -> NoReturn:
    """After a failed consuming write: find out why, and make sure a replay revokes the winner.

    If the code still looks unused, a concurrent redemption is in flight; burning the code
    either makes that redemption fail too or, if it already committed, shows its grant.
    """
    for _ in range(REVOCATION_ATTEMPTS):
        stored = store.get_code(code_digest)
        if stored is None or (stored.used_at is None and stored.code.expires_at <= now):
            raise InvalidGrant(_UNUSABLE_CODE)
        if stored.used_at is not None:
            _refuse_replayed_code(stored, store=store, now=now)
        if store.burn_code(code_digest, now):
            raise InvalidGrant(_UNUSABLE_CODE)
    raise TemporarilyUnavailable("authorization code state did not settle")


def _issue_grant(
    stored: StoredCode, code_digest: str, *, hasher: SecretHasher, now: int
) -> tuple[TokenSet, Issuance]:
    code = stored.code
    access_token, refresh_token = new_secret(), new_secret()
    access_digest = hasher.digest(ACCESS_TOKEN_PURPOSE, access_token)
    refresh_digest = hasher.digest(REFRESH_TOKEN_PURPOSE, refresh_token)
    expires_at = now + access_token_ttl(code.kind)
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
        expires_in=access_token_ttl(grant.kind),
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
    if not is_vschar_credential(refresh_token):
        raise InvalidOAuthRequest("The parameter refresh_token is malformed.")
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
    expires_at = now + access_token_ttl(stored.kind)
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


# -- access tokens for API calls (SPEC 2.3, 2.5) ------------------------------------------------


def authenticate_access_token(
    token: str | None, *, store: TokenRepository, hasher: SecretHasher, now: int
) -> AccessGrant:
    """Who a ``Authorization: Bearer {access_token}`` call is made for: one read.

    A missing token raises AuthenticationFailed without credentials; malformed, unknown, expired
    and revoked tokens all raise the same AuthenticationFailed with them.
    """
    if not token:
        raise AuthenticationFailed(credentials_presented=False)
    if not is_bearer_credential(token):
        raise AuthenticationFailed()
    stored = store.get_access_token(hasher.digest(ACCESS_TOKEN_PURPOSE, token))
    if stored is None or stored.revoked_at is not None or stored.expires_at <= now:
        raise AuthenticationFailed()
    return AccessGrant(stored.grant_id, stored.client_id, stored.kind, stored.sub, stored.scope)
