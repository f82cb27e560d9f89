"""DynamoDB side of the token endpoint: codes, grants, access and refresh tokens.

Budget (SPEC 2.2, issue 4): redeeming a code is one ``BatchGetItem`` (client + code) and one
``TransactWriteItems`` (consume the code, put the grant and its two tokens); refreshing is the
same with the refresh token instead of the code; authenticating an access token is one
``GetItem``. Every state change is a conditional write or transaction; a lost condition raises
:class:`~orgconnect.domain.grants.StaleWrite` and the domain decides what it means. The items
and their mapping are in :mod:`orgconnect.store.token_items`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from orgconnect.domain.codes import AuthorizationCode, GrantKind
from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.domain.grants import (
    USED_CODE_RETENTION_SECONDS,
    Grant,
    Issuance,
    RevocationReason,
    StaleWrite,
    StoredAccessToken,
    StoredCode,
    StoredRefreshToken,
)
from orgconnect.domain.lifetimes import MAX_CODE_TTL_SECONDS
from orgconnect.domain.model import ApiKey
from orgconnect.store import keys
from orgconnect.store.dynamodb import ConditionFailed, query_all, to_item, transact, write
from orgconnect.store.token_items import (
    access_token_from,
    client_from,
    code_from,
    grant_from,
    issued_items,
    refresh_token_from,
)

if TYPE_CHECKING:
    from orgconnect.store.dynamodb import DynamoStore

# Cancellation reasons that mean "the state changed under us" rather than "DynamoDB is struggling".

_NEW_ITEM = "attribute_not_exists(pk)"


# The codes the browser flows issue, and the prefix of the sub each stands for.
_ISSUED_KINDS = {
    GrantKind.ORGANIZATIONAL_UNIT: "ou_",
    GrantKind.SERVICE_ACCOUNT: "ser_",
    GrantKind.ACCOUNT: "acc_",  # delegated access (the worker issues it alone, not in a transaction)
}


def code_put(table_name: str, code_digest: str, code: AuthorizationCode, ou_name: str) -> dict[str, Any]:
    """The ``TransactWriteItems`` entry that issues an Organizational Unit (or service-account) code.

    The consent step includes it in the transaction that links the OU, so the code exists only
    if the link does. ``ou_name`` (the subject's name: the OU's, or the service account's
    domain) is stored on the code because redemption must not read the subject (two-call budget).
    """
    prefix = _ISSUED_KINDS.get(code.kind)
    if prefix is None or not code.sub.startswith(prefix):
        raise ValueError("only Organizational Unit, service-account and account codes can be issued")
    if not 0 < code.expires_at - code.created_at <= MAX_CODE_TTL_SECONDS:
        raise ValueError(f"a code must expire within {MAX_CODE_TTL_SECONDS} seconds of its creation")
    if code.grant_id is not None or not ou_name.strip():
        raise ValueError("a new code has no grant and needs the OU name")
    item = {
        **keys.code_key(code_digest),
        "type": "authorization_code",
        "client_id": code.client_id,
        "redirect_uri": code.redirect_uri,
        "kind": str(code.kind),
        "sub": code.sub,
        "scope": code.scope,
        "subject_name": ou_name,
        "created_at": code.created_at,
        "expires_at": code.expires_at,
    }
    if code.code_challenge is not None:
        item["code_challenge"] = code.code_challenge
    return {"Put": {"TableName": table_name, "Item": to_item(item), "ConditionExpression": _NEW_ITEM}}


class TokenStore:
    """The :class:`~orgconnect.domain.tokens.TokenRepository` over the single table."""

    def __init__(self, store: DynamoStore) -> None:
        self._store = store
        self.table_name = store.table_name
        self._db = store.client

    @classmethod
    def sharing(cls, store: DynamoStore) -> TokenStore:
        """A TokenStore on ``store``'s table, client and read helpers (one client per cold start)."""
        return cls(store)

    # -- reads --------------------------------------------------------------------------------

    def load_for_code(self, client_id: str, code_digest: str) -> tuple[ApiKey | None, StoredCode | None]:
        found = self._batch_get([keys.client_key(client_id), keys.code_key(code_digest)])
        client, code = found[0], found[1]
        return client_from(client), code_from(code) if code is not None else None

    def load_for_refresh(
        self, client_id: str, refresh_token_digest: str
    ) -> tuple[ApiKey | None, StoredRefreshToken | None]:
        found = self._batch_get([keys.client_key(client_id), keys.refresh_token_key(refresh_token_digest)])
        token = found[1]
        return client_from(found[0]), refresh_token_from(token) if token is not None else None

    def load_for_revocation(
        self, client_id: str, access_token_digest: str, refresh_token_digest: str
    ) -> tuple[ApiKey | None, StoredAccessToken | None, StoredRefreshToken | None]:
        found = self._batch_get(
            [
                keys.client_key(client_id),
                keys.access_token_key(access_token_digest),
                keys.refresh_token_key(refresh_token_digest),
            ]
        )
        access, refresh = found[1], found[2]
        return (
            client_from(found[0]),
            access_token_from(access) if access is not None else None,
            refresh_token_from(refresh) if refresh is not None else None,
        )

    def get_client(self, client_id: str) -> ApiKey | None:
        return client_from(self._get(keys.client_key(client_id)))

    def get_code(self, code_digest: str) -> StoredCode | None:
        data = self._get(keys.code_key(code_digest))
        return code_from(data) if data is not None else None

    def get_grant(self, grant_id: str) -> Grant | None:
        data = self._get(keys.grant_key(grant_id))
        return grant_from(data) if data is not None else None

    def get_access_token(self, access_token_digest: str) -> StoredAccessToken | None:
        data = self._get(keys.access_token_key(access_token_digest))
        return access_token_from(data) if data is not None else None

    def grants_for_subject(self, client_id: str, sub: str) -> list[Grant]:
        """Every grant of ``client_id`` for ``sub`` (gsi1; revocation re-reads a stale one)."""
        items = query_all(
            self._db,
            TableName=self.table_name,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues=to_item({":pk": keys.grants_by_sub_index(client_id, sub)}),
        )
        return [grant_from(i) for i in items if i.get("type") == "grant"]

    # -- writes -------------------------------------------------------------------------------

    def redeem_code(self, code_digest: str, code: StoredCode, issuance: Issuance, now: int) -> None:
        consume = {
            "Update": {
                "TableName": self.table_name,
                "Key": to_item(keys.code_key(code_digest)),
                # The TTL moves on so that a replay after the code's lifetime still finds it (K1).
                "UpdateExpression": "SET used_at = :now, grant_id = :grant, expires_at = :keep_until",
                # Re-checks in the write what the read showed: single use (K1, K5), lifetime
                # (K2: TTL deletion is lazy), client (K3) and redirect_uri (R5).
                "ConditionExpression": (
                    "attribute_exists(pk) AND attribute_not_exists(used_at) AND expires_at > :now"
                    " AND client_id = :client AND redirect_uri = :redirect"
                ),
                "ExpressionAttributeValues": to_item(
                    {
                        ":now": now,
                        ":grant": issuance.grant.grant_id,
                        ":keep_until": now + USED_CODE_RETENTION_SECONDS,
                        ":client": code.code.client_id,
                        ":redirect": code.code.redirect_uri,
                    }
                ),
            }
        }
        self._transact([consume, *self._issue(issuance, now)], guarded=1)

    def burn_code(self, code_digest: str, now: int) -> bool:
        try:
            write(
                lambda: self._db.update_item(
                    TableName=self.table_name,
                    Key=to_item(keys.code_key(code_digest)),
                    UpdateExpression="SET used_at = :now",
                    ConditionExpression="attribute_exists(pk) AND attribute_not_exists(used_at)",
                    ExpressionAttributeValues=to_item({":now": now}),
                )
            )
        except ConditionFailed:
            return False
        return True

    def rotate_refresh_token(
        self, refresh_token_digest: str, token: StoredRefreshToken, issuance: Issuance, now: int
    ) -> None:
        grant = issuance.grant
        retire = {
            "Update": {
                "TableName": self.table_name,
                "Key": to_item(keys.refresh_token_key(refresh_token_digest)),
                "UpdateExpression": "SET retired_at = :now",
                "ConditionExpression": (
                    "attribute_exists(pk) AND attribute_not_exists(retired_at)"
                    " AND attribute_not_exists(revoked_at) AND client_id = :client"
                ),
                "ExpressionAttributeValues": to_item({":now": now, ":client": token.client_id}),
            }
        }
        advance = {
            "Update": {
                "TableName": self.table_name,
                "Key": to_item(keys.grant_key(grant.grant_id)),
                "UpdateExpression": (
                    "SET version = :next, refresh_token_digest = :new_refresh,"
                    " access_tokens = :access_tokens, refreshed_at = :now"
                ),
                # The grant is exactly as the presented token saw it: not revoked, not rotated since.
                "ConditionExpression": (
                    "attribute_exists(pk) AND attribute_not_exists(revoked_at)"
                    " AND version = :version AND refresh_token_digest = :old_refresh"
                ),
                "ExpressionAttributeValues": to_item(
                    {
                        ":next": grant.version,
                        ":version": token.grant_version,
                        ":new_refresh": issuance.refresh_token_digest,
                        ":old_refresh": refresh_token_digest,
                        ":access_tokens": grant.access_tokens,
                        ":now": now,
                    }
                ),
            }
        }
        puts = self._issue(issuance, now, with_grant=False)
        revokes = [self._revoke_access_token(d, e, now) for d, e in issuance.retired_access_tokens.items()]
        self._transact([retire, advance, *puts, *revokes], guarded=2)

    def revoke_grant(self, grant: Grant, now: int, reason: RevocationReason) -> None:
        mark = {
            "Update": {
                "TableName": self.table_name,
                "Key": to_item(keys.grant_key(grant.grant_id)),
                "UpdateExpression": "SET revoked_at = :now, revoked_reason = :reason",
                # Unchanged since read: a refresh in between would leave its new tokens alive.
                "ConditionExpression": (
                    "attribute_exists(pk) AND attribute_not_exists(revoked_at) AND version = :version"
                ),
                "ExpressionAttributeValues": to_item(
                    {":now": now, ":reason": str(reason), ":version": grant.version}
                ),
            }
        }
        refresh = {
            "Update": {
                "TableName": self.table_name,
                "Key": to_item(keys.refresh_token_key(grant.refresh_token_digest)),
                "UpdateExpression": "SET revoked_at = :now",
                "ExpressionAttributeValues": to_item({":now": now}),
            }
        }
        # Expired access tokens authenticate nothing any more; only live ones need marking.
        access = [self._revoke_access_token(d, e, now) for d, e in grant.access_tokens.items() if e > now]
        self._transact([mark, refresh, *access], guarded=1)

    # -- helpers ------------------------------------------------------------------------------

    # -- helpers ------------------------------------------------------------------------------

    def _issue(self, issuance: Issuance, now: int, *, with_grant: bool = True) -> list[dict[str, Any]]:
        """Conditional puts of the grant (new grants only) and of its new access and refresh tokens."""
        return [
            {"Put": {"TableName": self.table_name, "Item": to_item(i), "ConditionExpression": _NEW_ITEM}}
            for i in issued_items(issuance, now, with_grant=with_grant)
        ]

    def _revoke_access_token(self, digest: str, expires_at: int, now: int) -> dict[str, Any]:
        """Mark an access token revoked; if it is already gone, the stub still expires (TTL)."""
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": to_item(keys.access_token_key(digest)),
                "UpdateExpression": "SET revoked_at = :now, expires_at = if_not_exists(expires_at, :expires)",
                "ExpressionAttributeValues": to_item({":now": now, ":expires": expires_at}),
            }
        }

    def _get(self, key: Mapping[str, str]) -> dict[str, Any] | None:
        return self._store.read(key)

    def _batch_get(self, wanted: list[dict[str, str]]) -> list[dict[str, Any] | None]:
        """The items at ``wanted`` (None where absent), in order, strongly consistent."""
        found = self._store.batch_get(wanted)
        return [found.get(k["pk"]) for k in wanted]

    def _transact(self, items: list[dict[str, Any]], *, guarded: int) -> None:
        """TransactWriteItems; StaleWrite when the condition of one of the first ``guarded`` items
        failed (a lost race). A write that only met a concurrent transaction is repeated first."""
        try:
            transact(self._db, items)
        except ConditionFailed as failed:
            if any(failed.at(i) for i in range(guarded)):
                raise StaleWrite() from failed
            raise TemporarilyUnavailable("transaction cancelled: " + ",".join(failed.reasons)) from failed
