"""DynamoDB side of the OU authorization flow: authorization requests, provider OAuth states,
link-token consumption and the approval transaction.

Single-use things (link tokens, provider states, the consent step) are consumed by one
conditional write each; ``expires_at`` is part of every condition because TTL deletion is lazy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from orgconnect.domain.authorization import AuthorizationRequest, PendingAccount, Step
from orgconnect.domain.errors import Conflict
from orgconnect.domain.model import (
    CalendarProvider,
    Connection,
    LinkTokenGrant,
    OrganizationalUnit,
    ServiceAccount,
)
from orgconnect.store import keys
from orgconnect.store.dynamodb import DynamoStore, aws_errors, from_item, to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class LinkTokenUnavailable(Exception):
    """The link token is unknown, expired, already used, or bound to another client."""


class StateUnavailable(Exception):
    """The provider state is unknown, expired or already used."""


class StepConflict(Exception):
    """The authorization request is no longer at the step this request expected (replay, race)."""


@dataclass(frozen=True)
class ProviderState:
    """What a provider ``state`` value stands for (stored by digest, consumed once)."""

    request_id: str
    provider_key: str
    purpose: str
    option: str | None
    code_verifier: str | None
    browser_digest: str
    expires_at: int


@dataclass(frozen=True)
class StartRead:
    """Everything the flow's first request needs, read in one BatchGetItem."""

    link_token: LinkTokenGrant | None
    link_token_used_by: str | None
    resumable: AuthorizationRequest | None


def request_to_item(request: AuthorizationRequest) -> dict[str, Any]:
    pending = request.pending
    return to_item(
        {
            **keys.authorization_request_key(request.request_id),
            "type": "authorization_request",
            "request_id": request.request_id,
            "client_id": request.client_id,
            "redirect_uri": request.redirect_uri,
            "state": request.state,
            "capability": request.capability,
            "service_account_id": request.service_account_id,
            "link_token_digest": request.link_token_digest,
            "browser_digest": request.browser_digest,
            "step": str(request.step),
            "created_at": request.created_at,
            "expires_at": request.expires_at,
            "requested_provider": request.requested_provider,
            "admin_proved": request.admin_proved,
            "chosen": request.chosen,
            "outcome": request.outcome,
            "pending": None
            if pending is None
            else {
                "option": pending.option,
                "provider_key": pending.provider_key,
                "account_id": pending.account_id,
                "account_name": pending.account_name,
                "user_email": pending.user_email,
                "domain": pending.domain,
                "sealed_tokens": pending.sealed_tokens,
            },
        }
    )


def request_from_item(data: Mapping[str, Any]) -> AuthorizationRequest:
    raw = data.get("pending")
    pending = (
        None
        if not raw
        else PendingAccount(
            option=raw["option"],
            provider_key=raw["provider_key"],
            account_id=raw["account_id"],
            account_name=raw["account_name"],
            user_email=raw["user_email"],
            domain=raw.get("domain"),
            sealed_tokens=raw["sealed_tokens"],
        )
    )
    return AuthorizationRequest(
        request_id=data["request_id"],
        client_id=data["client_id"],
        redirect_uri=data["redirect_uri"],
        state=data.get("state"),
        capability=data["capability"],
        service_account_id=data["service_account_id"],
        link_token_digest=data["link_token_digest"],
        browser_digest=data["browser_digest"],
        step=Step(data["step"]),
        created_at=data["created_at"],
        expires_at=data["expires_at"],
        requested_provider=data.get("requested_provider"),
        admin_proved=bool(data.get("admin_proved")),
        chosen=data.get("chosen"),
        pending=pending,
        outcome=data.get("outcome"),
    )


class FlowStore:
    """The flow's reads and writes. Shares the table and client of :class:`DynamoStore`."""

    def __init__(self, base: DynamoStore, client: DynamoDBClient, *, clock: Callable[[], int]) -> None:
        self.base = base
        self.table_name = base.table_name
        self._db = client
        self._clock = clock

    # -- start ---------------------------------------------------------------------------------

    def start_read(
        self, found: Mapping[str, dict[str, Any]], link_digest: str, cookie_request_id: str | None
    ) -> StartRead:
        """Interpret the start's one BatchGetItem: the link token and the browser's request."""
        now = self._clock()
        link = found.get(keys.link_token_key(link_digest)["pk"])
        grant = None
        if link is not None and link["expires_at"] > now:
            grant = LinkTokenGrant(
                link["client_id"], link["service_account_id"], link["created_at"], link["expires_at"]
            )
        resumable = None
        if cookie_request_id:
            raw = found.get(keys.authorization_request_key(cookie_request_id)["pk"])
            if raw is not None and raw["expires_at"] > now:
                resumable = request_from_item(raw)
        return StartRead(grant, link.get("request_id") if link else None, resumable)

    def start_request(self, request: AuthorizationRequest) -> None:
        """Consume the link token and create the request, atomically (exactly one winner)."""
        try:
            self.base.transact(
                [
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": to_item(keys.link_token_key(request.link_token_digest)),
                            "UpdateExpression": "SET used_at = :now, request_id = :rid",
                            "ConditionExpression": (
                                "attribute_exists(pk) AND attribute_not_exists(used_at) "
                                "AND expires_at > :now AND client_id = :cid"
                            ),
                            "ExpressionAttributeValues": to_item(
                                {
                                    ":now": request.created_at,
                                    ":rid": request.request_id,
                                    ":cid": request.client_id,
                                }
                            ),
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": request_to_item(request),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ],
                failure_for_first=LinkTokenUnavailable,
            )
        except Conflict:
            raise LinkTokenUnavailable() from None

    # -- requests ------------------------------------------------------------------------------

    def get_request(self, request_id: str) -> AuthorizationRequest | None:
        data = self.base.read(keys.authorization_request_key(request_id), live=True)
        return request_from_item(data) if data else None

    def save_request(self, request: AuthorizationRequest, *, expected_step: Step) -> None:
        """Replace the request if it is still at ``expected_step`` (and alive)."""
        try:
            with aws_errors():
                self._db.put_item(
                    TableName=self.table_name,
                    Item=request_to_item(request),
                    ConditionExpression="attribute_exists(pk) AND step = :step AND expires_at > :now",
                    ExpressionAttributeValues=to_item({":step": str(expected_step), ":now": self._clock()}),
                )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise StepConflict() from error
            raise

    # -- provider states -----------------------------------------------------------------------

    def put_state(self, state_digest: str, state: ProviderState) -> None:
        self.base.put_new(
            to_item(
                {
                    **keys.oauth_state_key(state_digest),
                    "type": "oauth_state",
                    "request_id": state.request_id,
                    "provider_key": state.provider_key,
                    "purpose": state.purpose,
                    "option": state.option,
                    "code_verifier": state.code_verifier,
                    "browser_digest": state.browser_digest,
                    "expires_at": state.expires_at,
                }
            )
        )

    def consume_state(self, state_digest: str) -> ProviderState:
        """Delete the state and return what it held: one conditional DeleteItem (S2)."""
        try:
            with aws_errors():
                response = self._db.delete_item(
                    TableName=self.table_name,
                    Key=to_item(keys.oauth_state_key(state_digest)),
                    ConditionExpression="attribute_exists(pk) AND expires_at > :now",
                    ExpressionAttributeValues=to_item({":now": self._clock()}),
                    ReturnValues="ALL_OLD",
                )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise StateUnavailable() from error
            raise
        data = from_item(response.get("Attributes", {}))
        return ProviderState(
            request_id=data["request_id"],
            provider_key=data["provider_key"],
            purpose=data["purpose"],
            option=data.get("option"),
            code_verifier=data.get("code_verifier"),
            browser_digest=data["browser_digest"],
            expires_at=data["expires_at"],
        )

    # -- organizational units ------------------------------------------------------------------

    def approve(
        self,
        *,
        request: AuthorizationRequest,
        service_account: ServiceAccount,
        ou: OrganizationalUnit,
        ou_is_new: bool,
        link_item: dict[str, Any],
        link_is_new: bool,
        member_put: dict[str, Any],
        code_put: dict[str, Any],
    ) -> None:
        """The one transaction of SPEC 3 step 7: finish the request, create or check the OU,
        link the service account, write the connection (or calendar service account) and its
        provider-account link, and issue the code. Any failed condition cancels all of it."""
        now = self._clock()
        ou_entry: dict[str, Any]
        if ou_is_new:
            ou_entry = {
                "Put": {
                    "TableName": self.table_name,
                    "Item": to_item(
                        {
                            **keys.organizational_unit_key(ou.ou_id),
                            "type": "organizational_unit",
                            "ou_id": ou.ou_id,
                            "client_id": ou.client_id,
                            "name": ou.name,
                            "created_at": ou.created_at,
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        else:
            ou_entry = {
                "ConditionCheck": {
                    "TableName": self.table_name,
                    "Key": to_item(keys.organizational_unit_key(ou.ou_id)),
                    "ConditionExpression": "client_id = :cid",
                    "ExpressionAttributeValues": to_item({":cid": ou.client_id}),
                }
            }
        previous_ou = service_account.organizational_unit_id
        sa_condition = "client_id = :cid AND " + (
            "organizational_unit_id = :prev"
            if previous_ou
            else "attribute_not_exists(organizational_unit_id)"
        )
        sa_values: dict[str, Any] = {
            ":cid": request.client_id,
            ":ou": ou.ou_id,
            ":g1": keys.ou_member_index(ou.ou_id),
            ":g1s": f"SERVICEACCOUNT#{service_account.service_account_id}",
        }
        if previous_ou:
            sa_values[":prev"] = previous_ou
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": to_item(keys.authorization_request_key(request.request_id)),
                    "UpdateExpression": "SET step = :done, outcome = :approved REMOVE pending",
                    "ConditionExpression": "step = :consent AND expires_at > :now AND browser_digest = :b",
                    "ExpressionAttributeValues": to_item(
                        {
                            ":done": str(Step.DONE),
                            ":approved": "approved",
                            ":consent": str(Step.CONSENT),
                            ":now": now,
                            ":b": request.browser_digest,
                        }
                    ),
                }
            },
            ou_entry,
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": to_item(keys.service_account_key(service_account.service_account_id)),
                    "UpdateExpression": "SET organizational_unit_id = :ou, gsi1pk = :g1, gsi1sk = :g1s",
                    "ConditionExpression": sa_condition,
                    "ExpressionAttributeValues": to_item(sa_values),
                }
            },
            member_put,
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": to_item(link_item),
                    **({"ConditionExpression": "attribute_not_exists(pk)"} if link_is_new else {}),
                }
            },
            code_put,
        ]
        try:
            self.base.transact(items, failure_for_first=StepConflict)
        except Conflict:
            raise StepConflict() from None

    def deny(self, request: AuthorizationRequest, *, outcome: str) -> None:
        """End the request without linking anything (its pending credentials are dropped)."""
        try:
            with aws_errors():
                self._db.update_item(
                    TableName=self.table_name,
                    Key=to_item(keys.authorization_request_key(request.request_id)),
                    UpdateExpression="SET step = :done, outcome = :outcome REMOVE pending",
                    ConditionExpression="attribute_exists(pk) AND step <> :done",
                    ExpressionAttributeValues=to_item({":done": str(Step.DONE), ":outcome": outcome}),
                )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise StepConflict() from error
            raise


def connection_item(connection: Connection) -> dict[str, Any]:
    """A conferencing connection, as a Put for the approval transaction."""
    return {
        **keys.connection_key(connection.connection_id),
        "type": "connection",
        "gsi1pk": keys.ou_member_index(connection.ou_id),
        "gsi1sk": f"CONNECTION#{connection.connection_id}",
        "connection_id": connection.connection_id,
        "ou_id": connection.ou_id,
        "client_id": connection.client_id,
        "provider_name": connection.provider_name,
        "provider_account_id": connection.provider_account_id,
        "account_name": connection.account_name,
        "status": str(connection.status),
        "secret_arn": connection.secret_arn,
        "created_at": connection.created_at,
        "updated_at": connection.updated_at,
    }


def calendar_service_account_item(account: ServiceAccount) -> dict[str, Any]:
    """A calendar tenant linked through ``capabilities[]=calendars`` (seed 002)."""
    assert account.organizational_unit_id is not None
    return {
        **keys.service_account_key(account.service_account_id),
        "type": "service_account",
        "gsi1pk": keys.ou_member_index(account.organizational_unit_id),
        "gsi1sk": f"SERVICEACCOUNT#{account.service_account_id}",
        "service_account_id": account.service_account_id,
        "client_id": account.client_id,
        "provider": str(CalendarProvider(account.provider)),
        "domain": account.domain,
        "admin_email": account.admin_email,
        "organizational_unit_id": account.organizational_unit_id,
        "created_at": account.created_at,
    }
