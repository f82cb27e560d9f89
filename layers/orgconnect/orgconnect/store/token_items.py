"""The token endpoint's DynamoDB items and their mapping to and from the domain (store/keys.py).

Items (only keyed digests of secrets, never the secrets):

- code ``CODE#{digest}``: client_id, redirect_uri, kind, sub, scope, subject_name, created_at,
  expires_at; once redeemed used_at and grant_id, and expires_at moves 24 h on (replays of a
  redeemed code are recognized that long, K1).
- grant ``GRANT#{grt}`` (gsi1 ``SUB#{cli}#{sub}`` / ``GRANT#{grt}``): client_id, kind, sub, scope,
  subject_name, created_at, version, refresh_token_digest (the current one), access_tokens
  (map digest -> expires_at of the access tokens that may be alive), code_digest; revoked_at,
  revoked_reason.
- access token ``ACCESSTOKEN#{digest}``: grant_id, client_id, kind, sub, scope, created_at,
  expires_at (TTL); revoked_at.
- refresh token ``REFRESHTOKEN#{digest}``: grant_id, client_id, kind, sub, scope, subject_name,
  created_at, grant_version and access_tokens (the grant as of when it became current);
  retired_at once rotated, revoked_at once its grant is revoked. No TTL: retired tokens stay
  so that a replay is recognized (F2).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orgconnect.domain.codes import AuthorizationCode, GrantKind
from orgconnect.domain.grants import Grant, Issuance, StoredAccessToken, StoredCode, StoredRefreshToken
from orgconnect.domain.model import ApiKey
from orgconnect.store import keys


def issued_items(issuance: Issuance, now: int, *, with_grant: bool = True) -> list[dict[str, Any]]:
    """The items of the grant (new grants only) and of its new access and refresh tokens."""
    grant = issuance.grant
    subject = {
        "grant_id": grant.grant_id,
        "client_id": grant.client_id,
        "kind": str(grant.kind),
        "sub": grant.sub,
        "scope": grant.scope,
        "created_at": now,
    }
    items = [
        {
            **keys.access_token_key(issuance.access_token_digest),
            "type": "access_token",
            **subject,
            "expires_at": issuance.access_token_expires_at,
        },
        {
            **keys.refresh_token_key(issuance.refresh_token_digest),
            "type": "refresh_token",
            **subject,
            "subject_name": grant.subject_name,
            "grant_version": grant.version,
            "access_tokens": grant.access_tokens,
        },
    ]
    if with_grant:
        items.insert(
            0,
            {
                **keys.grant_key(grant.grant_id),
                "type": "grant",
                "gsi1pk": keys.grants_by_sub_index(grant.client_id, grant.sub),
                "gsi1sk": f"GRANT#{grant.grant_id}",
                **subject,
                "created_at": grant.created_at,
                "subject_name": grant.subject_name,
                "version": grant.version,
                "refresh_token_digest": grant.refresh_token_digest,
                "access_tokens": grant.access_tokens,
                "code_digest": grant.code_digest,
            },
        )
    return items


def item_type(item: Mapping[str, Any]) -> str | None:
    """The ``type`` attribute of a raw (typed) DynamoDB item."""
    value = item.get("type", {})
    return value.get("S") if isinstance(value, dict) else None


def client_from(data: Mapping[str, Any] | None) -> ApiKey | None:
    """The client's secret record from its item, if it is one."""
    if data is None or "secret_digest" not in data:
        return None
    return ApiKey(client_id=data["client_id"], secret_digest=data["secret_digest"])


def _int_map(value: object) -> dict[str, int]:
    """A map of numbers read back from DynamoDB (nested numbers arrive as Decimal)."""
    return {str(k): int(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


def code_from(data: Mapping[str, Any]) -> StoredCode:
    """The stored authorization code of a ``CODE#`` item."""
    return StoredCode(
        code=AuthorizationCode(
            client_id=data["client_id"],
            redirect_uri=data["redirect_uri"],
            kind=GrantKind(data["kind"]),
            sub=data["sub"],
            scope=data["scope"],
            created_at=data["created_at"],
            expires_at=data["expires_at"],
            grant_id=data.get("grant_id"),
            code_challenge=data.get("code_challenge"),
        ),
        subject_name=data["subject_name"],
        used_at=data.get("used_at"),
    )


def grant_from(data: Mapping[str, Any]) -> Grant:
    """The grant of a ``GRANT#`` item."""
    return Grant(
        grant_id=data["grant_id"],
        client_id=data["client_id"],
        kind=GrantKind(data["kind"]),
        sub=data["sub"],
        scope=data["scope"],
        subject_name=data["subject_name"],
        created_at=data["created_at"],
        version=data["version"],
        refresh_token_digest=data["refresh_token_digest"],
        access_tokens=_int_map(data.get("access_tokens")),
        code_digest=data.get("code_digest"),
        revoked_at=data.get("revoked_at"),
        revoked_reason=data.get("revoked_reason"),
    )


def refresh_token_from(data: Mapping[str, Any]) -> StoredRefreshToken | None:
    """The refresh token of a ``REFRESHTOKEN#`` item (None for a stub)."""
    if "grant_id" not in data:
        return None
    return StoredRefreshToken(
        grant_id=data["grant_id"],
        client_id=data["client_id"],
        kind=GrantKind(data["kind"]),
        sub=data["sub"],
        scope=data["scope"],
        subject_name=data["subject_name"],
        created_at=data["created_at"],
        grant_version=data["grant_version"],
        access_tokens=_int_map(data.get("access_tokens")),
        retired_at=data.get("retired_at"),
        revoked_at=data.get("revoked_at"),
    )


def access_token_from(data: Mapping[str, Any]) -> StoredAccessToken | None:
    """The access token of an ``ACCESSTOKEN#`` item (None for a stub)."""
    # A revocation stub of an access token that was already deleted has no grant_id.
    if "grant_id" not in data:
        return None
    return StoredAccessToken(
        grant_id=data["grant_id"],
        client_id=data["client_id"],
        kind=GrantKind(data["kind"]),
        sub=data["sub"],
        scope=data["scope"],
        created_at=data["created_at"],
        expires_at=data["expires_at"],
        revoked_at=data.get("revoked_at"),
    )
