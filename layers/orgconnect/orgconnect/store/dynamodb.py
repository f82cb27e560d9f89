"""DynamoDB repositories over one table, using the low-level client (cheaper to create at cold start).

Single-use and must-be-unique writes are conditional writes or transactions, never
read-then-write. Reads of items with a lifetime check ``expires_at`` themselves, because
DynamoDB's TTL deletion is lazy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from orgconnect.domain.errors import Conflict, TemporarilyUnavailable
from orgconnect.domain.model import (
    AdminProofPolicy,
    ApiKey,
    CalendarProvider,
    Client,
    ConferencingCategory,
    LinkTokenGrant,
    ServiceAccount,
)
from orgconnect.domain.ports import ServiceAccountNotFound
from orgconnect.store import keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# BatchGetItem may leave keys unprocessed under throttling; retried this many times in all.
BATCH_GET_ATTEMPTS = 3
# A write that lost to a concurrent transaction (nothing written) is tried this many times in all.
CONFLICT_ATTEMPTS = 3

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

_THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Marshal a plain dict into DynamoDB attribute values, dropping None values."""
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """Unmarshal DynamoDB attribute values into plain Python values (numbers become int)."""
    out: dict[str, Any] = {}
    for k, v in item.items():
        value = _deserializer.deserialize(v)
        out[k] = int(value) if type(value).__name__ == "Decimal" and value == int(value) else value
    return out


@contextmanager
def aws_errors() -> Iterator[None]:
    """Turn DynamoDB throttling and outages into TemporarilyUnavailable (HTTP 503, retryable)."""
    try:
        yield
    except ClientError as error:
        code = error_code(error)
        if code in _THROTTLING_CODES or code == "TransactionConflictException":
            raise TemporarilyUnavailable(code) from error
        raise


def error_code(error: ClientError) -> str:
    """DynamoDB's error code (``ConditionalCheckFailedException``, ``ThrottlingException``, ...)."""
    return str(error.response.get("Error", {}).get("Code", ""))


def cancellation_reasons(error: ClientError) -> list[str]:
    """The per-item reasons of a cancelled transaction ("None" for items that were fine)."""
    return [str(r.get("Code") or "None") for r in error.response.get("CancellationReasons", [])]


class ConditionFailed(Exception):
    """A condition of a write did not hold. ``reasons`` has one entry per transaction item."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(",".join(reasons))
        self.reasons = reasons

    def at(self, index: int) -> bool:
        """The condition of item ``index`` failed."""
        return len(self.reasons) > index and self.reasons[index] == "ConditionalCheckFailed"


def _is_conflict(error: BaseException) -> bool:
    """Another transaction held one of our items; nothing was written, so the write may be repeated."""
    if not isinstance(error, ClientError):
        return False
    code = error_code(error)
    if code == "TransactionConflictException":
        return True
    reasons = cancellation_reasons(error) if code == "TransactionCanceledException" else []
    return "TransactionConflict" in reasons and set(reasons) <= {"None", "TransactionConflict"}


def _with_conflict_retries[T](call: Callable[[], T]) -> T:
    """``call``, repeated (jittered backoff, 3 attempts in all) while it only lost to a concurrent
    transaction. Tenacity is imported only then, so the usual path costs nothing at cold start."""
    try:
        return call()
    except ClientError as error:
        if not _is_conflict(error):
            raise
    from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

    retrying = Retrying(
        retry=retry_if_exception(_is_conflict),
        stop=stop_after_attempt(CONFLICT_ATTEMPTS - 1),
        wait=wait_random_exponential(multiplier=0.02, max=0.2),
        reraise=True,
    )
    return retrying(call)


def write[T](call: Callable[[], T]) -> T:
    """One conditional write (PutItem, UpdateItem, DeleteItem): ConditionFailed when its condition
    does not hold, TemporarilyUnavailable for throttling and conflicts that outlast the retries."""
    try:
        with aws_errors():
            return _with_conflict_retries(call)
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            raise ConditionFailed(["ConditionalCheckFailed"]) from error
        raise


def transact(client: DynamoDBClient, items: list[dict[str, Any]]) -> None:
    """TransactWriteItems: ConditionFailed (with every item's reason) when a condition failed;
    TemporarilyUnavailable for throttling and for conflicts that outlast the retries."""
    try:
        with aws_errors():
            _with_conflict_retries(lambda: client.transact_write_items(TransactItems=items))  # type: ignore[arg-type]
    except ClientError as error:
        if error_code(error) != "TransactionCanceledException":
            raise
        reasons = cancellation_reasons(error)
        if "ConditionalCheckFailed" in reasons:
            raise ConditionFailed(reasons) from error
        raise TemporarilyUnavailable("transaction cancelled: " + ",".join(reasons)) from error


def query_all(client: DynamoDBClient, **request: Any) -> list[dict[str, Any]]:
    """Every item of a Query (all pages), unmarshalled."""
    items: list[dict[str, Any]] = []
    while True:
        with aws_errors():
            page = client.query(**request)
        items.extend(from_item(i) for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def domain_claim_item(account: ServiceAccount) -> dict[str, Any]:
    """Which service account ``account``'s client has for its provider and domain (the latest)."""
    return {
        **keys.service_account_domain_key(account.client_id, str(account.provider), account.domain),
        "type": "service_account_domain",
        "service_account_id": account.service_account_id,
        "client_id": account.client_id,
    }


class DynamoStore:
    """All repositories of the domain over one DynamoDB table (ClientStore, ServiceAccountStore, ...)."""

    def __init__(self, table_name: str, client: DynamoDBClient, *, clock: Callable[[], int]) -> None:
        self.table_name = table_name
        self.client = client
        self._db = client
        self._clock = clock

    # -- clients ------------------------------------------------------------------------------

    def create_client(self, client: Client) -> None:
        """Create the client and its API-key item in one transaction."""
        client_item = to_item(
            {
                **keys.client_key(client.client_id),
                "type": "client",
                "client_id": client.client_id,
                "name": client.name,
                "secret_digest": client.secret_digest,
                "redirect_uris": list(client.redirect_uris),
                "categories": [str(c) for c in client.categories],
                "admin_proof_policy": str(client.admin_proof_policy),
                "notification_url": client.notification_url,
                "created_at": client.created_at,
            }
        )
        api_key_item = to_item(
            {
                **keys.api_key_key(client.secret_digest),
                "type": "api_key",
                "client_id": client.client_id,
                "secret_digest": client.secret_digest,
                "created_at": client.created_at,
            }
        )
        new_item = "attribute_not_exists(pk)"
        self.transact(
            [
                {"Put": {"TableName": self.table_name, "Item": client_item, "ConditionExpression": new_item}},
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": api_key_item,
                        "ConditionExpression": new_item,
                    }
                },
            ]
        )

    def get_client(self, client_id: str) -> Client | None:
        return self.client_from(self.read(keys.client_key(client_id)))

    @staticmethod
    def client_from(data: Mapping[str, Any] | None) -> Client | None:
        """A client from its item (already read), or None."""
        if data is None or data.get("type") != "client":
            return None
        return Client(
            client_id=data["client_id"],
            name=data["name"],
            secret_digest=data["secret_digest"],
            redirect_uris=tuple(data.get("redirect_uris", [])),
            categories=tuple(ConferencingCategory(c) for c in data.get("categories", [])),
            admin_proof_policy=AdminProofPolicy(data.get("admin_proof_policy", "when_unlinked")),
            notification_url=data.get("notification_url"),
            created_at=data.get("created_at", 0),
        )

    def get_api_key(self, secret_digest: str) -> ApiKey | None:
        data = self.read(keys.api_key_key(secret_digest))
        if data is None:
            return None
        return ApiKey(client_id=data["client_id"], secret_digest=data["secret_digest"])

    # -- service accounts ---------------------------------------------------------------------

    def create_service_account(self, service_account: ServiceAccount) -> None:
        sa = service_account
        item = to_item(
            {
                **keys.service_account_key(service_account.service_account_id),
                "type": "service_account",
                "service_account_id": service_account.service_account_id,
                "client_id": service_account.client_id,
                "provider": str(service_account.provider),
                "domain": service_account.domain,
                "admin_email": service_account.admin_email,
                "organizational_unit_id": service_account.organizational_unit_id,
                "created_at": service_account.created_at,
            }
        )
        # The domain claim lets Enterprise Connect find (and refresh) this service account.
        claim_item = to_item(domain_claim_item(service_account))
        claim = {"TableName": self.table_name, "Item": claim_item}
        new_item = {
            "TableName": self.table_name,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        try:
            self.transact([{"Put": new_item}, {"Put": claim}])
        except Conflict:  # ours, landed by an attempt whose answer was lost, then retried?
            stored = self.read(keys.service_account_key(service_account.service_account_id)) or {}
            if (stored.get("client_id"), stored.get("created_at")) != (sa.client_id, sa.created_at):
                raise
            write(lambda: self._db.put_item(TableName=self.table_name, Item=claim_item))  # idempotent

    @staticmethod
    def service_account_from(data: Mapping[str, Any] | None) -> ServiceAccount | None:
        """A service account from its item (already read), or None."""
        if data is None or data.get("type") != "service_account":
            return None
        return ServiceAccount(
            service_account_id=data["service_account_id"],
            client_id=data["client_id"],
            provider=CalendarProvider(data["provider"]),
            domain=data["domain"],
            admin_email=data.get("admin_email"),
            organizational_unit_id=data.get("organizational_unit_id"),
            created_at=data.get("created_at", 0),
        )

    # -- link tokens --------------------------------------------------------------------------

    def put_link_token(self, token_digest: str, grant: LinkTokenGrant) -> None:
        """One transaction: the service account must belong to the client, and the token is new."""
        item = to_item(
            {
                **keys.link_token_key(token_digest),
                "type": "ou_link_token",
                "client_id": grant.client_id,
                "service_account_id": grant.service_account_id,
                "created_at": grant.created_at,
                "expires_at": grant.expires_at,
            }
        )
        self.transact(
            [
                {
                    "ConditionCheck": {
                        "TableName": self.table_name,
                        "Key": to_item(keys.service_account_key(grant.service_account_id)),
                        "ConditionExpression": "client_id = :client_id",
                        "ExpressionAttributeValues": to_item({":client_id": grant.client_id}),
                    }
                },
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": item,
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ],
            failure_for_first=ServiceAccountNotFound,
        )

    def get_link_token(self, token_digest: str) -> LinkTokenGrant | None:
        """The grant of an unexpired link token (used or not), or None."""
        data = self.read(keys.link_token_key(token_digest), live=True)
        if data is None:
            return None
        return LinkTokenGrant(
            client_id=data["client_id"],
            service_account_id=data["service_account_id"],
            created_at=data["created_at"],
            expires_at=data["expires_at"],
        )

    # -- shared helpers (also used by the flow and token stores) --------------------------------

    def batch_get(self, wanted: list[dict[str, str]]) -> dict[str, dict[str, Any]]:
        """Items by pk with one consistent BatchGetItem (unprocessed keys retried, 3 attempts in all)."""
        unique = {k["pk"]: k for k in wanted}
        if not unique:
            return {}
        request: dict[str, Any] = {
            self.table_name: {"Keys": [to_item(k) for k in unique.values()], "ConsistentRead": True}
        }
        found: dict[str, dict[str, Any]] = {}
        for _ in range(BATCH_GET_ATTEMPTS):
            with aws_errors():
                response = self._db.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(self.table_name, []):
                data = from_item(item)
                found[data["pk"]] = data
            request = dict(response.get("UnprocessedKeys") or {})
            if not request:
                return found
        raise TemporarilyUnavailable("BatchGetItem left keys unprocessed")

    def read(self, key: Mapping[str, str], *, live: bool = False) -> dict[str, Any] | None:
        """One consistent GetItem; with ``live``, an expired item reads as absent."""
        with aws_errors():
            response = self._db.get_item(TableName=self.table_name, Key=to_item(key), ConsistentRead=True)
        item = response.get("Item")
        if item is None:
            return None
        data = from_item(item)
        # TTL deletion is lazy: an expired item may still be there.
        if live and data.get("expires_at", 0) <= self._clock():
            return None
        return data

    def put_new(self, item: dict[str, Any]) -> None:
        """PutItem that must create the item (Conflict if it exists)."""
        try:
            write(
                lambda: self._db.put_item(
                    TableName=self.table_name, Item=item, ConditionExpression="attribute_not_exists(pk)"
                )
            )
        except ConditionFailed as failed:
            raise Conflict("item exists") from failed

    def transact(
        self, items: list[dict[str, Any]], *, failure_for_first: type[Exception] | None = None
    ) -> None:
        """:func:`transact`; a failed condition on item 0 raises ``failure_for_first``, else Conflict."""
        try:
            transact(self._db, items)
        except ConditionFailed as failed:
            if failure_for_first is not None and failed.at(0):
                raise failure_for_first() from failed
            raise Conflict("transaction condition failed") from failed
