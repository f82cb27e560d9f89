"""The local API Gateway enforces each function's IAM policy from template.yaml."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from werkzeug.test import Client

from devstack import iam
from devstack.apigw import LocalApiGateway
from devstack.template import Resolver, load_template
from tests.conftest import Seeded

PATH = "/v1/organizational_unit_authorization_link_tokens"


def _without(template: dict[str, Any], function: str, action: str) -> dict[str, Any]:
    changed = copy.deepcopy(template)
    for statement in changed["Resources"][function]["Properties"]["Policies"][0]["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        statement["Action"] = [a for a in actions if a != action]
    return changed


def test_the_templates_policy_is_enough_for_the_endpoint(seeded: Seeded, aws_resolver: Resolver) -> None:
    client = Client(LocalApiGateway(load_template(), aws_resolver))
    response = client.post(
        PATH,
        headers={"Authorization": f"Bearer {seeded.client_secret}"},
        json={"service_account_id": seeded.service_account_id},
    )
    assert response.status_code == 200


@pytest.mark.parametrize("action", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:ConditionCheckItem"])
def test_a_missing_permission_fails_locally_as_on_aws(
    seeded: Seeded, aws_resolver: Resolver, action: str, caplog: pytest.LogCaptureFixture
) -> None:
    template = _without(load_template(), "LinkTokensFunction", action)
    client = Client(LocalApiGateway(template, aws_resolver))
    response = client.post(
        PATH,
        headers={"Authorization": f"Bearer {seeded.client_secret}"},
        json={"service_account_id": seeded.service_account_id},
    )
    assert response.status_code == 500


def test_calls_outside_a_function_are_not_checked(aws_resolver: Resolver) -> None:
    import boto3

    iam.install()
    assert boto3.client("dynamodb").describe_table(TableName=aws_resolver.refs["Table"])


def test_required_actions_per_transaction_item() -> None:
    params = {
        "TransactItems": [
            {"Put": {"TableName": "t", "Item": {}}},
            {"Update": {"TableName": "t", "Key": {}}},
            {"ConditionCheck": {"TableName": "t", "Key": {}}},
            {"Delete": {"TableName": "t", "Key": {}}},
        ]
    }
    actions = [a for a, _ in iam.required("dynamodb", "TransactWriteItems", params)]
    assert actions == [
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:DeleteItem",
    ]
    ((_, index),) = iam.required("dynamodb", "Query", {"TableName": "t", "IndexName": "gsi1"})
    assert index.endswith(":table/t/index/gsi1")
    ((action, secret),) = iam.required(
        "secretsmanager", "CreateSecret", {"Name": "orgconnect/x/connections/cnx_1"}
    )
    assert action == "secretsmanager:CreateSecret"
    assert secret.endswith(":secret:orgconnect/x/connections/cnx_1")


def test_statements_match_wildcards_like_iam() -> None:
    statement = iam.Statement(("dynamodb:Get*",), ("arn:aws:dynamodb:*:*:table/t",))
    assert statement.allows("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:1:table/t")
    assert not statement.allows("dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:1:table/t")
    assert not statement.allows("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:1:table/t/index/gsi1")
