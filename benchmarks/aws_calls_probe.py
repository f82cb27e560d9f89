"""Count AWS calls per request of each endpoint (run in a fresh process by `make bench`)."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import boto3
from moto import mock_aws

from devstack.apigw import load_handler
from devstack.aws import REGION, provision
from devstack.instrument import count_aws_calls
from devstack.template import functions, load_template, parameter_defaults

os.environ.update(
    AWS_ACCESS_KEY_ID="bench",
    AWS_SECRET_ACCESS_KEY="bench",
    AWS_DEFAULT_REGION=REGION,
    POWERTOOLS_TRACE_DISABLED="true",
    POWERTOOLS_METRICS_DISABLED="true",
    POWERTOOLS_SERVICE_NAME="orgconnect",
    POWERTOOLS_LOG_LEVEL="WARNING",
)


def _event(path: str, secret: str, body: dict[str, str]) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    return {
        "resource": path,
        "path": path,
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "stage": "live",
            "identity": {"sourceIp": "127.0.0.1"},
            "resourcePath": path,
            "httpMethod": "POST",
        },
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


class _Context:
    function_name, memory_limit_in_mb, aws_request_id = "bench", 512, "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


make_client: Any = boto3.client  # any service, so not the per-service overloads

with mock_aws():
    template = load_template()
    resolver = provision(
        lambda s: make_client(s, region_name=REGION), template, parameter_defaults(template), prefix="bench"
    )
    os.environ.update(
        ORGCONNECT_TABLE_NAME=resolver.refs["Table"],
        ORGCONNECT_PEPPER_SECRET_ID=resolver.refs["PepperSecret"],
    )
    from orgconnect import runtime
    from orgconnect.domain.clients import register_client
    from orgconnect.domain.model import CalendarProvider
    from orgconnect.domain.service_accounts import register_service_account
    from orgconnect.store.service_accounts import DynamoServiceAccounts

    clients, hasher = runtime.get_clients(), runtime.get_hasher()
    client = register_client(
        name="bench", redirect_uris=["https://b.example/cb"], store=clients, hasher=hasher, now=1
    )
    account = register_service_account(
        client_id=client.client.client_id,
        provider=CalendarProvider.GOOGLE_WORKSPACE,
        domain="example.com",
        admin_email=None,
        clients=clients,
        store=DynamoServiceAccounts(runtime.get_store()),
        now=1,
    )
    runtime.reset()
    handler = load_handler(next(f for f in functions(template) if f.logical_id == "LinkTokensFunction"))
    event = _event(
        "/v1/organizational_unit_authorization_link_tokens",
        client.client_secret,
        {"service_account_id": account.service_account_id},
    )
    results = {}
    for label in ("cold", "warm"):
        with count_aws_calls() as calls:
            status = handler(event, _Context())["statusCode"]
        results[label] = {
            "status": status,
            "calls": dict(calls),
            "dynamodb": sum(n for k, n in calls.items() if k.startswith("dynamodb:")),
        }
    print(json.dumps({"POST /v1/organizational_unit_authorization_link_tokens": results}))
