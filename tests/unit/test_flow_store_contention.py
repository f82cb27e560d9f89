"""Contention in the flow's DynamoDB repositories (1i), with botocore's Stubber (no network): a
write that lost to a concurrent transaction is repeated (nothing was written), a condition that
lost a race becomes the domain's answer, and what outlasts the retries is TemporarilyUnavailable,
never a raw ClientError (a 500)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from orgconnect.domain.authorization import AuthorizationRequest, Step
from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.domain.ports import LinkTokenUnavailable, StateUnavailable, StepConflict
from orgconnect.domain.secrets import new_id
from orgconnect.store.dynamodb import DynamoStore
from orgconnect.store.flow_state import DynamoFlowState
from tests.contract.conftest import NOW


@pytest.fixture
def stubbed() -> Iterator[tuple[DynamoFlowState, Stubber]]:
    client: Any = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield DynamoFlowState(DynamoStore("t", client, clock=lambda: NOW), clock=lambda: NOW), stubber
        stubber.assert_no_pending_responses()


def _request() -> AuthorizationRequest:
    return AuthorizationRequest(
        request_id=new_id("arq"),
        client_id=new_id("cli"),
        redirect_uri="https://app.example/cb",
        state="st",
        capability="conferencing",
        service_account_id=new_id("ser"),
        link_token_digest="d" * 64,
        browser_digest="b" * 64,
        step=Step.CHOOSE,
        created_at=NOW,
        expires_at=NOW + 3600,
    )


def _cancelled(stubber: Stubber, *reasons: str) -> None:
    stubber.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        modeled_fields={"CancellationReasons": [{"Code": r} for r in reasons]},
    )


def test_a_step_write_that_met_a_transaction_is_repeated(stubbed: tuple[DynamoFlowState, Stubber]) -> None:
    flow_state, stubber = stubbed
    stubber.add_client_error("put_item", service_error_code="TransactionConflictException")
    stubber.add_response("put_item", {})
    flow_state.save_request(_request(), expected_step=Step.CHOOSE)


def test_a_conflict_that_outlasts_the_retries_is_temporarily_unavailable(
    stubbed: tuple[DynamoFlowState, Stubber],
) -> None:
    flow_state, stubber = stubbed
    for _ in range(3):
        stubber.add_client_error("put_item", service_error_code="TransactionConflictException")
    with pytest.raises(TemporarilyUnavailable):
        flow_state.save_request(_request(), expected_step=Step.CHOOSE)


def test_a_conflict_then_a_lost_condition_is_a_step_conflict(
    stubbed: tuple[DynamoFlowState, Stubber],
) -> None:
    flow_state, stubber = stubbed
    stubber.add_client_error("update_item", service_error_code="TransactionConflictException")
    stubber.add_client_error("update_item", service_error_code="ConditionalCheckFailedException")
    with pytest.raises(StepConflict):
        flow_state.end_request(_request(), outcome="failed")


def test_a_consumed_state_under_contention(stubbed: tuple[DynamoFlowState, Stubber]) -> None:
    flow_state, stubber = stubbed
    stubber.add_client_error("delete_item", service_error_code="TransactionConflictException")
    stubber.add_client_error("delete_item", service_error_code="ConditionalCheckFailedException")
    with pytest.raises(StateUnavailable):
        flow_state.consume_state("digest")


def test_a_start_that_met_another_transaction_is_repeated_and_decided(
    stubbed: tuple[DynamoFlowState, Stubber],
) -> None:
    flow_state, stubber = stubbed
    _cancelled(stubber, "TransactionConflict", "None")
    _cancelled(stubber, "ConditionalCheckFailed", "None")  # the other start won
    with pytest.raises(LinkTokenUnavailable):
        flow_state.start_request(_request())


def test_a_start_that_met_another_transaction_then_succeeds(stubbed: tuple[DynamoFlowState, Stubber]) -> None:
    flow_state, stubber = stubbed
    _cancelled(stubber, "None", "TransactionConflict")
    stubber.add_response("transact_write_items", {})
    flow_state.start_request(_request())


def test_a_throttled_transaction_is_temporarily_unavailable(stubbed: tuple[DynamoFlowState, Stubber]) -> None:
    flow_state, stubber = stubbed
    _cancelled(stubber, "ThrottlingError", "None")
    with pytest.raises(TemporarilyUnavailable):
        flow_state.start_request(_request())
    stubber.add_client_error("get_item", service_error_code="ProvisionedThroughputExceededException")
    with pytest.raises(TemporarilyUnavailable):
        flow_state.get_request("arq_" + "0" * 24)
