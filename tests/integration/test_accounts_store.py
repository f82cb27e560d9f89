"""Delegated access's store on moto and on DynamoDB Local: one account per service account and
email whatever the number of (concurrent) deliveries, account codes, delivery markers, and the
queue's SendMessageBatch chunks of 10 (moto's SQS)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from orgconnect import runtime
from orgconnect.domain.accounts import Account, CalendarProfile
from orgconnect.domain.codes import CODE_PURPOSE, AuthorizationCode, GrantKind
from orgconnect.domain.delegated_access import DelegatedAccessRequest
from orgconnect.domain.model import CalendarProvider
from orgconnect.domain.secrets import new_id
from orgconnect.store.accounts import DynamoAccounts, SqsDelegatedAccessQueue
from orgconnect.store.tokens import TokenStore
from tests.conftest import Seeded

pytestmark = pytest.mark.every_dynamodb


def _account(seeded: Seeded, email: str = "ada@example.com") -> Account:
    return Account(
        new_id("acc"),
        seeded.client_id,
        seeded.service_account_id,
        email,
        "Ada",
        "google-user-1",
        CalendarProfile(new_id("pro"), CalendarProvider.GOOGLE_WORKSPACE, email),
        runtime.now(),
    )


def _accounts() -> DynamoAccounts:
    return DynamoAccounts(runtime.get_store(), clock=runtime.now)


def test_a_second_creation_returns_the_first_account(seeded: Seeded) -> None:
    first, created = _accounts().create_or_get(_account(seeded))
    again, created_again = _accounts().create_or_get(_account(seeded))
    assert created and not created_again
    assert again == first
    assert _accounts().get(first.account_id) == first


def test_parallel_deliveries_create_one_account(seeded: Seeded) -> None:
    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(lambda _: _accounts().create_or_get(_account(seeded, "bo@example.com")), range(8))
        )
    assert len({a.account_id for a, _ in results}) == 1
    assert sum(created for _, created in results) == 1


def test_an_account_code_is_redeemable_and_delivery_is_remembered(seeded: Seeded) -> None:
    account, _ = _accounts().create_or_get(_account(seeded))
    now = runtime.now()
    digest = runtime.get_hasher().digest(CODE_PURPOSE, "c" * 32)
    code = AuthorizationCode(
        seeded.client_id,
        "https://app.example/cb",
        GrantKind.ACCOUNT,
        account.account_id,
        "read_only",
        now,
        now + 600,
    )
    _accounts().issue_code(digest, code, account.email)
    stored = TokenStore.sharing(runtime.get_store()).get_code(digest)
    assert (
        stored is not None and stored.code.kind is GrantKind.ACCOUNT and stored.subject_name == account.email
    )
    assert not _accounts().callback_delivered("message-1")
    _accounts().mark_delivered("message-1")
    assert _accounts().callback_delivered("message-1")


def test_the_queue_sends_every_request_in_batches_of_ten(aws: dict[str, str]) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = aws["ORGCONNECT_DELEGATED_ACCESS_QUEUE_URL"]
    requests = [
        DelegatedAccessRequest(
            "cli_x", "ser_x", f"u{i}@example.com", "read_only", "https://a.example/cb", None
        )
        for i in range(23)
    ]
    SqsDelegatedAccessQueue(sqs, url).enqueue(requests)
    received: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            break
        received += [json.loads(m["Body"])["email"] for m in got]
    assert sorted(received) == sorted(r.email for r in requests)
