"""Delegated access in DynamoDB and SQS: accounts, the calendar tenants searched, account codes,
callback delivery markers, and the queue.

| item | pk | sk | lifetime |
|---|---|---|---|
| account | ``ACCOUNT#{acc}`` | ``ACCOUNT`` | |
| (gsi1: a service account's accounts, for a connection sync) | ``ACCOUNTS#{ser}`` | ``ACCOUNT#{acc}`` | |
| account by email | ``ACCOUNTEMAIL#{ser}#{email}`` | (same) | |
| callback delivered | ``CALLBACKDELIVERED#{message id}`` | (same) | 14 days (SQS's longest retention) |
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from orgconnect.domain.accounts import Account, CalendarProfile, CalendarTenant
from orgconnect.domain.codes import AuthorizationCode
from orgconnect.domain.delegated_access import DelegatedAccessRequest
from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.domain.model import CalendarProvider
from orgconnect.store import keys
from orgconnect.store.dynamodb import ConditionFailed, DynamoStore, query_all, to_item, transact, write
from orgconnect.store.service_accounts import service_account_from
from orgconnect.store.sqs_batches import send_all
from orgconnect.store.tokens import code_put

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DELIVERY_MARKER_TTL_SECONDS = 14 * 24 * 3600


def account_key(account_id: str) -> dict[str, str]:
    return {"pk": f"ACCOUNT#{account_id}", "sk": "ACCOUNT"}


def account_email_key(service_account_id: str, email: str) -> dict[str, str]:
    key = f"ACCOUNTEMAIL#{service_account_id}#{email}"
    return {"pk": key, "sk": key}


def accounts_index(service_account_id: str) -> str:
    """gsi1pk of every account provisioned through a service account (a connection sync reads them)."""
    return f"ACCOUNTS#{service_account_id}"


def delivery_key(message_id: str) -> dict[str, str]:
    key = f"CALLBACKDELIVERED#{message_id}"
    return {"pk": key, "sk": key}


def _account_item(account: Account) -> dict[str, Any]:
    return {
        **account_key(account.account_id),
        "type": "account",
        "gsi1pk": accounts_index(account.service_account_id),
        "gsi1sk": f"ACCOUNT#{account.account_id}",
        "account_id": account.account_id,
        "client_id": account.client_id,
        "service_account_id": account.service_account_id,
        "email": account.email,
        "name": account.name,
        "provider_user_id": account.provider_user_id,
        "profile_id": account.profile.profile_id,
        "provider": str(account.profile.provider),
        "profile_name": account.profile.profile_name,
        "created_at": account.created_at,
    }


def account_from(data: Mapping[str, Any] | None) -> Account | None:
    """An account from its item (already read), or None."""
    if data is None or data.get("type") != "account":
        return None
    return Account(
        account_id=data["account_id"],
        client_id=data["client_id"],
        service_account_id=data["service_account_id"],
        email=data["email"],
        name=data.get("name"),
        provider_user_id=data["provider_user_id"],
        profile=CalendarProfile(data["profile_id"], CalendarProvider(data["provider"]), data["profile_name"]),
        created_at=data.get("created_at", 0),
    )


class DynamoAccounts:
    """:class:`~orgconnect.domain.accounts.AccountRepository` and the worker's other writes."""

    def __init__(self, store: DynamoStore, *, clock: Callable[[], int]) -> None:
        self._store = store
        self.table_name = store.table_name
        self._db: DynamoDBClient = store.client
        self._clock = clock

    def get(self, account_id: str) -> Account | None:
        return account_from(self._store.read(account_key(account_id)))

    def create_or_get(self, account: Account) -> tuple[Account, bool]:
        """One TransactWriteItems (the email claim and the account, both new); when the claim
        exists, the account it names (a redelivered message, or a concurrent one)."""
        claim = account_email_key(account.service_account_id, account.email)
        new = "attribute_not_exists(pk)"
        try:
            transact(
                self._db,
                [
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": to_item(
                                {**claim, "type": "account_email", "account_id": account.account_id}
                            ),
                            "ConditionExpression": new,
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": to_item(_account_item(account)),
                            "ConditionExpression": new,
                        }
                    },
                ],
            )
            return account, True
        except ConditionFailed:
            pass
        found = self._store.read(claim)
        existing = self.get(found["account_id"]) if found else None
        if existing is None:
            raise TemporarilyUnavailable("the account claim names no account")
        return existing, False

    def issue_code(self, code_digest: str, code: AuthorizationCode, profile_name: str) -> None:
        """Put a new account code (PutItem, must be new)."""
        put = code_put(self.table_name, code_digest, code, profile_name)["Put"]
        try:
            write(lambda: self._db.put_item(**put))
        except ConditionFailed as failed:  # a 192-bit code collided: cannot happen in practice
            raise TemporarilyUnavailable("code collision") from failed

    def callback_delivered(self, message_id: str) -> bool:
        """Whether the callback of this queue message was already delivered."""
        return self._store.read(delivery_key(message_id), live=True) is not None

    def mark_delivered(self, message_id: str) -> None:
        now = self._clock()
        item = {
            **delivery_key(message_id),
            "type": "callback_delivered",
            "expires_at": now + DELIVERY_MARKER_TTL_SECONDS,
        }
        write(lambda: self._db.put_item(TableName=self.table_name, Item=to_item(item)))


class DynamoCalendarTenants:
    """:class:`~orgconnect.domain.accounts.CalendarTenants`: a GetItem, and one gsi1 Query per OU."""

    def __init__(self, store: DynamoStore) -> None:
        self._store = store

    @staticmethod
    def _tenant(data: Mapping[str, Any] | None) -> CalendarTenant | None:
        account = service_account_from(data)
        if data is None or account is None:
            return None
        return CalendarTenant(account, data.get("secret_arn"), data.get("delegated_scope"))

    def get(self, service_account_id: str) -> CalendarTenant | None:
        return self._tenant(self._store.read(keys.service_account_key(service_account_id)))

    def others_in_organizational_unit(self, tenant: CalendarTenant) -> list[CalendarTenant]:
        ou_id = tenant.service_account.organizational_unit_id
        if not ou_id:
            return []
        items = query_all(
            self._store.client,
            TableName=self._store.table_name,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk AND begins_with(gsi1sk, :sa)",
            ExpressionAttributeValues=to_item({":pk": keys.ou_member_index(ou_id), ":sa": "SERVICEACCOUNT#"}),
        )
        own = tenant.service_account
        others = [
            t
            for t in (self._tenant(i) for i in items)
            if t is not None
            and t.service_account.service_account_id != own.service_account_id
            and t.service_account.client_id == own.client_id
        ]
        return self._with_link_secrets(others)

    def _with_link_secrets(self, tenants: list[CalendarTenant]) -> list[CalendarTenant]:
        """A tenant linked with ``capabilities[]=calendars`` keeps its credentials on its
        provider-account link: one BatchGetItem for those without a secret of their own."""
        wanted = {
            t.service_account.service_account_id: keys.provider_account_key(
                t.service_account.client_id, str(t.service_account.provider), t.service_account.domain
            )
            for t in tenants
            if not t.secret_arn
        }
        found = self._store.batch_get(list(wanted.values()))
        out = []
        for t in tenants:
            link = (
                found.get(wanted[t.service_account.service_account_id]["pk"], {}) if not t.secret_arn else {}
            )
            arn = t.secret_arn or link.get("secret_arn")
            out.append(CalendarTenant(t.service_account, arn, t.delegated_scope))
        return out


class SqsDelegatedAccessQueue:
    """:class:`~orgconnect.domain.delegated_access.DelegatedAccessQueue`: SendMessageBatch in
    chunks of 10. A request is accepted only when every message is queued."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self._queue_url = queue_url

    def enqueue(self, requests: list[DelegatedAccessRequest]) -> None:
        """Queue one message a request; TemporarilyUnavailable when one is not queued."""
        send_all(self._sqs, self._queue_url, [r.to_message() for r in requests])
