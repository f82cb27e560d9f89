"""What the token rules work on: grants, stored codes and tokens, and the storage port.

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
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from msgspec import Struct, field

from orgconnect.domain.codes import AuthorizationCode, GrantKind
from orgconnect.domain.model import ApiKey
from orgconnect.domain.redacted import Redacted

ACCESS_TOKEN_PURPOSE = "access_token"  # noqa: S105 - a hash domain label, not a secret
REFRESH_TOKEN_PURPOSE = "refresh_token"  # noqa: S105 - a hash domain label, not a secret
ACCESS_TOKEN_TTL_SECONDS = 3600
# Service-account tokens are more sensitive and live half as long (Cronofy: expires_in 1800).
SERVICE_ACCOUNT_ACCESS_TOKEN_TTL_SECONDS = 1800
# Access tokens of one grant that may be alive at once; a refresh beyond it revokes the oldest.
MAX_LIVE_ACCESS_TOKENS = 10
# A redeemed code is kept this long (its TTL moves on) so that a late replay still revokes (K1).
USED_CODE_RETENTION_SECONDS = 24 * 3600
GRANT_ID_PREFIX = "grt"


def access_token_ttl(kind: GrantKind) -> int:
    """How long an access token of a ``kind`` grant lives."""
    if kind is GrantKind.SERVICE_ACCOUNT:
        return SERVICE_ACCOUNT_ACCESS_TOKEN_TTL_SECONDS
    return ACCESS_TOKEN_TTL_SECONDS


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


class StoredCode(Struct, frozen=True):
    """An authorization code item: what it stands for, and whether it was redeemed."""

    code: AuthorizationCode
    subject_name: str
    used_at: int | None = None


class Grant(Struct, frozen=True):
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


class StoredRefreshToken(Struct, frozen=True):
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


class StoredAccessToken(Struct, frozen=True):
    """An access token item."""

    grant_id: str
    client_id: str
    kind: GrantKind
    sub: str
    scope: str
    created_at: int
    expires_at: int
    revoked_at: int | None = None


class Issuance(Struct, frozen=True):
    """What one successful redemption or rotation writes.

    ``grant`` is the grant as it must be after the write; ``retired_access_tokens`` are live
    access tokens pushed out by :data:`MAX_LIVE_ACCESS_TOKENS`, revoked by the same write.
    """

    grant: Grant
    access_token_digest: str
    access_token_expires_at: int
    refresh_token_digest: str
    retired_access_tokens: dict[str, int] = field(default_factory=dict)


class TokenSet(Redacted, frozen=True):
    """The tokens handed to the client: the only place where they exist in clear."""

    __redacted__ = frozenset({"access_token", "refresh_token"})

    access_token: str
    refresh_token: str
    expires_in: int
    grant_id: str
    client_id: str
    kind: GrantKind
    sub: str
    scope: str
    subject_name: str


class AccessGrant(Struct, frozen=True):
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
