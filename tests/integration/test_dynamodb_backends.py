"""Where moto and AWS's DynamoDB Local answer differently (the table in docs/dynamodb-local.md).

Each test runs on both backends and states what each one answers. DynamoDB Local is AWS's own
implementation; where the two differ, code tested only on moto can fail on AWS. A test that fails
after upgrading moto or DynamoDB Local means that table needs the same update.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import DYNAMODB_LOCAL, MOTO

pytestmark = pytest.mark.every_dynamodb


@pytest.fixture
def table(aws: dict[str, str]) -> str:
    return aws["ORGCONNECT_TABLE_NAME"]


def db() -> Any:
    """A DynamoDB client of the test's backend (the environment routes it)."""
    return boto3.client("dynamodb")


def error_of(call: Callable[[], Any]) -> str | None:
    """The error code ``call`` raised, or None when it succeeded."""
    try:
        call()
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return None


def key(pk: str, sk: str = "ITEM") -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def on(backend: str, *, moto: Any, dynamodb_local: Any) -> Any:
    return {MOTO: moto, DYNAMODB_LOCAL: dynamodb_local}[backend]


def test_access_key_ids_must_be_alphanumeric(aws: dict[str, str], dynamodb_backend: str) -> None:
    dashed = boto3.client("dynamodb", aws_access_key_id="orgconnect-local", aws_secret_access_key="x")
    plain = boto3.client("dynamodb", aws_access_key_id="orgconnectlocal", aws_secret_access_key="x")
    assert error_of(lambda: dashed.list_tables(Limit=1)) == on(
        dynamodb_backend, moto=None, dynamodb_local="UnrecognizedClientException"
    )
    assert error_of(lambda: plain.list_tables(Limit=1)) is None


def test_a_read_with_an_oversized_key_is_refused_only_by_dynamodb_local(
    table: str, dynamodb_backend: str
) -> None:
    # Partition keys hold up to 2048 bytes (UTF-8), sort keys 1024; "€" is 3 bytes.
    refused = on(dynamodb_backend, moto=None, dynamodb_local="ValidationException")
    assert error_of(lambda: db().get_item(TableName=table, Key=key("a" * 2049))) == refused
    assert error_of(lambda: db().get_item(TableName=table, Key=key("€" * 683))) == refused
    assert error_of(lambda: db().get_item(TableName=table, Key=key("a", "s" * 1025))) == refused
    assert error_of(lambda: db().batch_get_item(RequestItems={table: {"Keys": [key("a" * 2049)]}})) == refused
    assert error_of(lambda: db().get_item(TableName=table, Key=key("a" * 2048))) is None


def test_writes_with_an_oversized_key_are_refused_by_both(table: str) -> None:
    assert error_of(lambda: db().put_item(TableName=table, Item=key("a" * 2049))) == "ValidationException"
    assert (
        error_of(lambda: db().put_item(TableName=table, Item=key("a", "s" * 1025))) == "ValidationException"
    )
    oversized_index_key = {**key("b"), "gsi1pk": {"S": "a" * 2049}, "gsi1sk": {"S": "x"}}
    assert error_of(lambda: db().put_item(TableName=table, Item=oversized_index_key)) == "ValidationException"
    assert error_of(lambda: db().put_item(TableName=table, Item=key("a" * 2048))) is None


def test_a_key_of_the_wrong_type_is_refused_only_by_dynamodb_local(table: str, dynamodb_backend: str) -> None:
    wrong = {"pk": {"N": "1"}, "sk": {"S": "ITEM"}}
    assert error_of(lambda: db().get_item(TableName=table, Key=wrong)) == on(
        dynamodb_backend, moto=None, dynamodb_local="ValidationException"
    )


def test_a_transaction_may_not_touch_one_item_twice(table: str, dynamodb_backend: str) -> None:
    put = {"Put": {"TableName": table, "Item": key("twice")}}
    update = {
        "Update": {
            "TableName": table,
            "Key": key("twice"),
            "UpdateExpression": "SET a = :a",
            "ExpressionAttributeValues": {":a": {"S": "1"}},
        }
    }
    assert error_of(lambda: db().transact_write_items(TransactItems=[put, update])) == "ValidationException"
    db().put_item(TableName=table, Item=key("twice"))
    get = {"Get": {"TableName": table, "Key": key("twice")}}
    assert error_of(lambda: db().transact_get_items(TransactItems=[get, get])) == on(
        dynamodb_backend, moto=None, dynamodb_local="ValidationException"
    )


def test_cancellation_reasons_have_one_shape_on_both(table: str) -> None:
    db().put_item(TableName=table, Item={**key("taken"), "v": {"S": "old"}})
    items = [
        {"Put": {"TableName": table, "Item": key("free")}},
        {
            "Put": {
                "TableName": table,
                "Item": key("taken"),
                "ConditionExpression": "attribute_not_exists(pk)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
    ]
    with pytest.raises(ClientError) as refused:
        db().transact_write_items(TransactItems=items)
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = refused.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed"]
    assert reasons[1]["Item"] == {**key("taken"), "v": {"S": "old"}}


def test_unused_expression_values_are_refused_only_by_dynamodb_local(
    table: str, dynamodb_backend: str
) -> None:
    def put() -> Any:
        return db().put_item(
            TableName=table,
            Item=key("unused"),
            ConditionExpression="attribute_not_exists(pk)",
            ExpressionAttributeValues={":never": {"S": "x"}},
        )

    assert error_of(put) == on(dynamodb_backend, moto=None, dynamodb_local="ValidationException")


def test_numbers_beyond_38_digits_are_refused_only_by_dynamodb_local(
    table: str, dynamodb_backend: str
) -> None:
    item = {**key("number"), "n": {"N": "1" * 39}}
    assert error_of(lambda: db().put_item(TableName=table, Item=item)) == on(
        dynamodb_backend, moto=None, dynamodb_local="ValidationException"
    )


def test_a_client_request_token_makes_a_transaction_idempotent_only_on_dynamodb_local(
    table: str, dynamodb_backend: str
) -> None:
    items = [
        {"Put": {"TableName": table, "Item": key("once"), "ConditionExpression": "attribute_not_exists(pk)"}}
    ]
    db().transact_write_items(TransactItems=items, ClientRequestToken="retry-of-one-request")
    again = error_of(
        lambda: db().transact_write_items(TransactItems=items, ClientRequestToken="retry-of-one-request")
    )
    assert again == on(dynamodb_backend, moto="TransactionCanceledException", dynamodb_local=None)


def test_batch_and_transaction_limits_hold_on_both(table: str) -> None:
    keys = [key(f"k{i}") for i in range(101)]
    assert (
        error_of(lambda: db().batch_get_item(RequestItems={table: {"Keys": keys}})) == "ValidationException"
    )
    duplicate = [key("same"), key("same")]
    assert (
        error_of(lambda: db().batch_get_item(RequestItems={table: {"Keys": duplicate}}))
        == "ValidationException"
    )
    puts = [{"Put": {"TableName": table, "Item": k}} for k in keys]
    assert error_of(lambda: db().transact_write_items(TransactItems=puts)) == "ValidationException"


def test_consistent_reads_of_a_global_index_are_refused_by_both(table: str) -> None:
    def query() -> Any:
        return db().query(
            TableName=table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "x"}},
            ConsistentRead=True,
        )

    assert error_of(query) == "ValidationException"


def test_expired_items_stay_readable_until_deleted_so_reads_check_expiry(table: str) -> None:
    # TTL deletion is a background sweep (on AWS within days): neither backend hides an expired item.
    expired = {**key("expired"), "expires_at": {"N": str(int(time.time()) - 3600)}}
    db().put_item(TableName=table, Item=expired)
    assert db().get_item(TableName=table, Key=key("expired"), ConsistentRead=True)["Item"] == expired
