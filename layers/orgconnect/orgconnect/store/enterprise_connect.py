"""Enterprise Connect in DynamoDB: its requests (``ECREQ#``), which service account a client has
for a provider and domain (``SERVICEACCOUNTDOMAIN#``), and the one transaction that records an
authorization.

| item | pk | sk | lifetime |
|---|---|---|---|
| Enterprise Connect request | ``ECREQ#{arq}`` | ``ECREQ`` | 1 h |
| service account by domain | ``SERVICEACCOUNTDOMAIN#{cli}#{provider}#{domain}`` | (same) | |

The service account item (``SERVICEACCOUNT#{ser}``) gains ``secret_arn`` (its admin credentials
in Secrets Manager), ``scope``, ``delegated_scope``, ``authorized_at`` and ``updated_at``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from orgconnect.domain.enterprise_connect import (
    EnterpriseConnectRequest,
    EnterpriseConnectStep,
    ExistingServiceAccount,
    ServiceAccountAuthorization,
    ServiceAccountDetails,
)
from orgconnect.domain.model import CalendarProvider, Client
from orgconnect.domain.ports import StepConflict
from orgconnect.store import keys
from orgconnect.store.clients import client_from
from orgconnect.store.dynamodb import (
    ConditionFailed,
    DynamoStore,
    to_item,
    transact,
    write,
)
from orgconnect.store.service_accounts import domain_claim_item, service_account_from
from orgconnect.store.tokens import code_put

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def request_key(request_id: str) -> dict[str, str]:
    return {"pk": f"ECREQ#{request_id}", "sk": "ECREQ"}


domain_claim_key = keys.service_account_domain_key


def _request_item(request: EnterpriseConnectRequest) -> dict[str, Any]:
    return to_item(
        {
            **request_key(request.request_id),
            "type": "enterprise_connect_request",
            "request_id": request.request_id,
            "client_id": request.client_id,
            "redirect_uri": request.redirect_uri,
            "state": request.state,
            "scope": request.scope,
            "delegated_scope": request.delegated_scope,
            "browser_digest": request.browser_digest,
            "created_at": request.created_at,
            "expires_at": request.expires_at,
            "provider": str(request.provider) if request.provider else None,
            "domain": request.domain,
            "code_challenge": request.code_challenge,
            "step": str(request.step),
            "outcome": request.outcome,
        }
    )


def _request_from(data: Mapping[str, Any]) -> EnterpriseConnectRequest:
    return EnterpriseConnectRequest(
        request_id=data["request_id"],
        client_id=data["client_id"],
        redirect_uri=data["redirect_uri"],
        state=data.get("state"),
        scope=data["scope"],
        delegated_scope=data["delegated_scope"],
        browser_digest=data["browser_digest"],
        created_at=data["created_at"],
        expires_at=data["expires_at"],
        provider=CalendarProvider(data["provider"]) if data.get("provider") else None,
        domain=data.get("domain"),
        code_challenge=data.get("code_challenge"),
        step=EnterpriseConnectStep(data["step"]),
        outcome=data.get("outcome"),
    )


class DynamoEnterpriseConnect:
    """:class:`~orgconnect.domain.enterprise_connect.EnterpriseConnectRepository` over the table."""

    def __init__(self, store: DynamoStore, *, clock: Callable[[], int]) -> None:
        self._store = store
        self.table_name = store.table_name
        self._db: DynamoDBClient = store.client
        self._clock = clock

    def get_client(self, client_id: str) -> Client | None:
        return client_from(self._store.read(keys.client_key(client_id)))

    def start(self, request: EnterpriseConnectRequest) -> None:
        self._store.put_new(_request_item(request))

    def get(self, request_id: str) -> EnterpriseConnectRequest | None:
        data = self._store.read(request_key(request_id), live=True)
        return _request_from(data) if data else None

    def end(self, request: EnterpriseConnectRequest, *, outcome: str) -> None:
        try:
            write(
                lambda: self._db.update_item(
                    TableName=self.table_name,
                    Key=to_item(request_key(request.request_id)),
                    UpdateExpression="SET step = :done, outcome = :outcome",
                    ConditionExpression="attribute_exists(pk) AND step <> :done",
                    ExpressionAttributeValues=to_item(
                        {":done": str(EnterpriseConnectStep.DONE), ":outcome": outcome}
                    ),
                )
            )
        except ConditionFailed as failed:
            raise StepConflict() from failed

    def find_service_account(
        self, client_id: str, provider: CalendarProvider, domain: str
    ) -> ExistingServiceAccount | None:
        """By its domain claim, else by the calendar-tenant link of an OU flow; then its item."""
        claim = domain_claim_key(client_id, str(provider), domain)
        link = keys.provider_account_key(client_id, str(provider), domain)
        found = self._store.batch_get([claim, link])
        service_account_id = (found.get(claim["pk"]) or found.get(link["pk"]) or {}).get("service_account_id")
        if not service_account_id:
            return None
        data = self._store.read(keys.service_account_key(service_account_id))
        account = service_account_from(data)
        if data is None or account is None or account.client_id != client_id:
            self._drop_stale_claim(claim, service_account_id)
            return None
        return ExistingServiceAccount(account, data.get("secret_arn"))

    def _drop_stale_claim(self, claim: dict[str, str], service_account_id: str) -> None:
        """A claim of a service account that no longer exists would block the domain for good."""
        # Absent, or already pointing elsewhere: nothing stale to remove.
        with suppress(ConditionFailed):
            write(
                lambda: self._db.delete_item(
                    TableName=self.table_name,
                    Key=to_item(claim),
                    ConditionExpression="service_account_id = :stale",
                    ExpressionAttributeValues=to_item({":stale": service_account_id}),
                )
            )

    def authorize(self, authorization: ServiceAccountAuthorization) -> None:
        """One TransactWriteItems: finish the request, put or refresh the service account, claim
        its domain, issue the code. StepConflict if any condition fails."""
        request, account = authorization.request, authorization.service_account
        now = authorization.code.created_at
        finish = {
            "Update": {
                "TableName": self.table_name,
                "Key": to_item(request_key(request.request_id)),
                "UpdateExpression": "SET step = :done, outcome = :approved",
                "ConditionExpression": "step = :active AND expires_at > :now AND browser_digest = :b",
                "ExpressionAttributeValues": to_item(
                    {
                        ":done": str(EnterpriseConnectStep.DONE),
                        ":approved": "approved",
                        ":active": str(EnterpriseConnectStep.ACTIVE),
                        ":now": self._clock(),
                        ":b": request.browser_digest,
                    }
                ),
            }
        }
        authorized = {
            "admin_email": account.admin_email,
            "secret_arn": authorization.secret_arn,
            "scope": request.scope,
            "delegated_scope": request.delegated_scope,
            "authorized_at": now,
            "updated_at": now,
        }
        if authorization.is_new:
            member = {
                "Put": {
                    "TableName": self.table_name,
                    "Item": to_item(
                        {
                            **keys.service_account_key(account.service_account_id),
                            "type": "service_account",
                            "service_account_id": account.service_account_id,
                            "client_id": account.client_id,
                            "provider": str(account.provider),
                            "domain": account.domain,
                            "created_at": account.created_at,
                            **authorized,
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            claim: dict[str, Any] = {
                "Put": {
                    "TableName": self.table_name,
                    "Item": to_item(domain_claim_item(account)),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        else:
            present = {k: v for k, v in authorized.items() if v is not None}
            names = {f"#a{i}": k for i, k in enumerate(present)}
            values = {f":a{i}": v for i, v in enumerate(present.values())}
            member = {
                "Update": {
                    "TableName": self.table_name,
                    "Key": to_item(keys.service_account_key(account.service_account_id)),
                    "UpdateExpression": "SET " + ", ".join(f"#a{i} = :a{i}" for i in range(len(present))),
                    # Attribute names go through placeholders: several are DynamoDB reserved words.
                    "ConditionExpression": "#cid = :cid AND #provider = :provider AND #domain = :domain",
                    "ExpressionAttributeNames": {
                        **names,
                        "#cid": "client_id",
                        "#provider": "provider",
                        "#domain": "domain",
                    },
                    "ExpressionAttributeValues": to_item(
                        {
                            **values,
                            ":cid": account.client_id,
                            ":provider": str(account.provider),
                            ":domain": account.domain,
                        }
                    ),
                }
            }
            claim = {"Put": {"TableName": self.table_name, "Item": to_item(domain_claim_item(account))}}
        code = code_put(self.table_name, authorization.code_digest, authorization.code, account.domain)
        try:
            transact(self._db, [finish, member, claim, code])
        except ConditionFailed as failed:
            raise StepConflict() from failed


class ServiceAccountDetailsReader:
    """The service account behind a service-account token (``GET /v1/userinfo``): one GetItem."""

    def __init__(self, store: DynamoStore) -> None:
        self._store = store

    @classmethod
    def sharing(cls, store: DynamoStore) -> ServiceAccountDetailsReader:
        return cls(store)

    def get(self, service_account_id: str) -> ServiceAccountDetails | None:
        data = self._store.read(keys.service_account_key(service_account_id))
        account = service_account_from(data)
        if data is None or account is None:
            return None
        return ServiceAccountDetails(account, data.get("scope"), data.get("delegated_scope"))
