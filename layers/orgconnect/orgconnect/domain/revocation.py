"""Revoking grants: at the client's request (RFC 7009) and when a code or refresh token is replayed."""

from __future__ import annotations

from collections.abc import Callable

from orgconnect.domain.client_authentication import (
    ClientCredentials,
    authenticate_client,
    check_client_credentials,
)
from orgconnect.domain.credential_syntax import is_subject, is_vschar_credential
from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.domain.grants import (
    ACCESS_TOKEN_PURPOSE,
    REFRESH_TOKEN_PURPOSE,
    Grant,
    RevocationReason,
    StaleWrite,
    TokenRepository,
)
from orgconnect.domain.oauth_errors import InvalidOAuthRequest
from orgconnect.domain.secrets import SecretHasher

# Optimistic retries of a revocation that raced a refresh of the same grant.
REVOCATION_ATTEMPTS = 5


def revoke(
    credentials: ClientCredentials | None,
    *,
    token: str | None,
    sub: str | None,
    store: TokenRepository,
    hasher: SecretHasher,
    now: int,
    on_revoked: Callable[[str], None] | None = None,
) -> str:
    """Revoke by ``token`` (access or refresh; it wins over ``sub``) or by ``sub``; the client id.
    ``on_revoked`` hears the ``sub`` of each grant of the client's that the request names (also
    when it was revoked already: a repeated request is told the same).

    A token revokes its whole grant. A ``sub`` revokes every grant of this client for it.
    Unknown tokens, other clients' tokens and already revoked ones are accepted silently
    (RFC 7009 section 2.2: the answer never tells which). A value that cannot be a token or a
    sub at all (oversized, not ASCII) is invalid_request.
    """
    credentials = check_client_credentials(credentials)
    if token and not is_vschar_credential(token):
        raise InvalidOAuthRequest("The parameter token is malformed.")
    if sub and not is_subject(sub):
        raise InvalidOAuthRequest("The parameter sub is not an id this server issues.")
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
            if on_revoked is not None:
                on_revoked(found.sub)
        return client_id
    if sub:
        client_id = authenticate_client(credentials, store.get_client(credentials.client_id), hasher=hasher)
        grants = store.grants_for_subject(client_id, sub)
        for grant in grants:
            _revoke_from(grant, store=store, now=now, reason=RevocationReason.CLIENT_REQUEST)
        if grants and on_revoked is not None:
            on_revoked(sub)
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
