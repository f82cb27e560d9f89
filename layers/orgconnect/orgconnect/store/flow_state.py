"""The flow's state in DynamoDB: authorization requests (``AUTHREQ#``), provider OAuth states
(``OAUTHSTATE#``) and the consumption of link tokens (``OULINKTOKEN#``).

Single-use things (link tokens, provider states, steps) are consumed by one conditional write
each; ``expires_at`` is part of every condition and every read because TTL deletion is lazy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from orgconnect.domain.authorization import AuthorizationRequest, PendingAccount, ProviderState, Step
from orgconnect.domain.model import LinkTokenGrant
from orgconnect.domain.ports import LinkTokenUnavailable, StartRead, StateUnavailable, StepConflict
from orgconnect.store import keys
from orgconnect.store.clients import client_from
from orgconnect.store.dynamodb import ConditionFailed, DynamoStore, from_item, to_item, transact, write

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


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
            "outcome": request.outcome,
            "code_challenge": request.code_challenge,
            "relink_connection_id": request.relink_connection_id,
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
        pending=pending,
        outcome=data.get("outcome"),
        code_challenge=data.get("code_challenge"),
        relink_connection_id=data.get("relink_connection_id"),
    )


class DynamoFlowState:
    """:class:`~orgconnect.domain.ports.FlowStateRepository` over the single table."""

    def __init__(self, store: DynamoStore, *, clock: Callable[[], int]) -> None:
        self._store = store
        self.table_name = store.table_name
        self._db: DynamoDBClient = store.client
        self._clock = clock

    def read_start(self, client_id: str | None, link_digest: str, request_id: str | None) -> StartRead:
        """One BatchGetItem: the client, the link token and the browser's current request."""
        wanted = [keys.link_token_key(link_digest)]
        if client_id:
            wanted.append(keys.client_key(client_id))
        if request_id:
            wanted.append(keys.authorization_request_key(request_id))
        found = self._store.batch_get(wanted)
        now = self._clock()
        client = client_from(found.get(keys.client_key(client_id)["pk"])) if client_id else None
        link = found.get(keys.link_token_key(link_digest)["pk"])
        grant = None
        if link is not None and link["expires_at"] > now:
            grant = LinkTokenGrant(
                link["client_id"], link["service_account_id"], link["created_at"], link["expires_at"]
            )
        resumable = None
        if request_id:
            raw = found.get(keys.authorization_request_key(request_id)["pk"])
            if raw is not None and raw["expires_at"] > now:
                resumable = request_from_item(raw)
        return StartRead(client, grant, bool(link and link.get("used_at")), resumable)

    def start_request(self, request: AuthorizationRequest) -> None:
        """Consume the link token and create the request, atomically (exactly one winner)."""
        consume = {
            "Update": {
                "TableName": self.table_name,
                "Key": to_item(keys.link_token_key(request.link_token_digest)),
                "UpdateExpression": "SET used_at = :now, request_id = :rid",
                "ConditionExpression": (
                    "attribute_exists(pk) AND attribute_not_exists(used_at) "
                    "AND expires_at > :now AND client_id = :cid"
                ),
                "ExpressionAttributeValues": to_item(
                    {":now": request.created_at, ":rid": request.request_id, ":cid": request.client_id}
                ),
            }
        }
        create = {
            "Put": {
                "TableName": self.table_name,
                "Item": request_to_item(request),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        try:
            transact(self._db, [consume, create])
        except ConditionFailed as failed:
            raise LinkTokenUnavailable() from failed

    def get_request(self, request_id: str) -> AuthorizationRequest | None:
        data = self._store.read(keys.authorization_request_key(request_id), live=True)
        return request_from_item(data) if data else None

    def save_request(self, request: AuthorizationRequest, *, expected_step: Step) -> None:
        """Replace the request if it is still at ``expected_step`` (and alive)."""
        try:
            write(
                lambda: self._db.put_item(
                    TableName=self.table_name,
                    Item=request_to_item(request),
                    ConditionExpression="attribute_exists(pk) AND step = :step AND expires_at > :now",
                    ExpressionAttributeValues=to_item({":step": str(expected_step), ":now": self._clock()}),
                )
            )
        except ConditionFailed as failed:
            raise StepConflict() from failed

    def end_request(self, request: AuthorizationRequest, *, outcome: str) -> None:
        """End the request without linking anything (its pending credentials are dropped)."""
        try:
            write(
                lambda: self._db.update_item(
                    TableName=self.table_name,
                    Key=to_item(keys.authorization_request_key(request.request_id)),
                    UpdateExpression="SET step = :done, outcome = :outcome REMOVE pending",
                    ConditionExpression="attribute_exists(pk) AND step <> :done",
                    ExpressionAttributeValues=to_item({":done": str(Step.DONE), ":outcome": outcome}),
                )
            )
        except ConditionFailed as failed:
            raise StepConflict() from failed

    def put_state(self, state_digest: str, state: ProviderState) -> None:
        item = {
            **keys.oauth_state_key(state_digest),
            "type": "oauth_state",
            "request_id": state.request_id,
            "provider_key": state.provider_key,
            "purpose": state.purpose,
            "option": state.option,
            "sealed_code_verifier": state.sealed_code_verifier,
            "browser_digest": state.browser_digest,
            "expires_at": state.expires_at,
        }
        self._store.put_new(to_item(item))

    def consume_state(self, state_digest: str) -> ProviderState:
        """Delete the state and return what it held: one conditional DeleteItem (S2)."""
        try:
            response = write(
                lambda: self._db.delete_item(
                    TableName=self.table_name,
                    Key=to_item(keys.oauth_state_key(state_digest)),
                    ConditionExpression="attribute_exists(pk) AND expires_at > :now",
                    ExpressionAttributeValues=to_item({":now": self._clock()}),
                    ReturnValues="ALL_OLD",
                )
            )
        except ConditionFailed as failed:
            raise StateUnavailable() from failed
        data = from_item(response.get("Attributes", {}))
        return ProviderState(
            request_id=data["request_id"],
            provider_key=data["provider_key"],
            purpose=data["purpose"],
            option=data.get("option"),
            sealed_code_verifier=data.get("sealed_code_verifier"),
            browser_digest=data["browser_digest"],
            expires_at=data["expires_at"],
        )
