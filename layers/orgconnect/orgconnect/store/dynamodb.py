"""Access to the one DynamoDB table with the low-level client (cheaper to create at cold start):
marshalling, conditional writes, transactions and reads that every repository uses.

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


class DynamoStore:
    """The one DynamoDB table: the reads and writes every repository shares (each repository, e.g.
    store/clients.py's DynamoClients, wraps one DynamoStore)."""

    def __init__(self, table_name: str, client: DynamoDBClient, *, clock: Callable[[], int]) -> None:
        self.table_name = table_name
        self.client = client
        self._db = client
        self._clock = clock

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
