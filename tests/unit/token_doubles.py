"""An in-memory TokenRepository with DynamoDB's conditions, and helpers for the domain token tests."""

from __future__ import annotations

import threading
from collections.abc import Callable

from orgconnect.domain.client_authentication import ClientCredentials
from orgconnect.domain.clients import CLIENT_SECRET_PURPOSE
from orgconnect.domain.codes import CODE_PURPOSE, OU_SCOPE, AuthorizationCode, GrantKind, new_code
from orgconnect.domain.errors import AuthenticationFailed
from orgconnect.domain.grants import (
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
from orgconnect.domain.secrets import SecretHasher, new_id
from orgconnect.domain.tokens import authenticate_access_token, exchange_code, exchange_refresh_token
from tests.values import replace

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
    code_challenge: str | None = None,
) -> str:
    code = new_code()
    issued = AuthorizationCode(
        client.client_id,
        redirect_uri,
        kind,
        sub,
        OU_SCOPE,
        NOW - 10,
        expires_at,
        code_challenge=code_challenge,
    )
    store.codes[HASHER.digest(CODE_PURPOSE, code)] = StoredCode(issued, "Acme")
    return code


def redeem(
    store: InMemoryTokens,
    client: ClientCredentials,
    code: str,
    *,
    now: int = NOW,
    code_verifier: str | None = None,
) -> TokenSet:
    return exchange_code(
        client, code, REDIRECT, code_verifier=code_verifier, store=store, hasher=HASHER, now=now
    )


def refresh(store: InMemoryTokens, client: ClientCredentials, token: str, *, now: int = NOW) -> TokenSet:
    return exchange_refresh_token(client, token, store=store, hasher=HASHER, now=now)


def is_live(store: InMemoryTokens, access_token: str, *, now: int = NOW) -> bool:
    try:
        authenticate_access_token(access_token, store=store, hasher=HASHER, now=now)
    except AuthenticationFailed:
        return False
    return True


def always_stale(*_: object) -> None:
    """A repository write that always finds its items changed (a racing caller always wins)."""
    raise StaleWrite()
