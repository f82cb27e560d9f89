"""Shared fixtures: AWS resources built from template.yaml itself (so tests and infrastructure
cannot drift), a seeded client and service account, and API Gateway events."""

from __future__ import annotations

import base64
import json
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devstack.aws import REGION, provision
from devstack.dynamodb_local import DynamoDBLocal, DynamoDBLocalNotInstalled, start_dynamodb_local
from devstack.template import Resolver, load_template, parameter_defaults

PEPPER_ENV = "ORGCONNECT_PEPPER_SECRET_ID"
# The `aws` fixture's DynamoDB backends (they are also the test ids: `test_x[dynamodb-local]`).
MOTO, DYNAMODB_LOCAL = "moto", "dynamodb-local"
EVERY_DYNAMODB = "every_dynamodb"  # the marker that opts a test or module into both backends
# `make test` sets this: there a missing DynamoDB Local fails the tier instead of skipping it.
REQUIRE_DYNAMODB_LOCAL_ENV = "ORGCONNECT_REQUIRE_DYNAMODB_LOCAL"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{EVERY_DYNAMODB}: run on moto and on AWS's DynamoDB Local (the `aws` fixture's backends)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``every_dynamodb`` that use ``aws`` (even through other fixtures) run once per backend."""
    if "aws" in metafunc.fixturenames and metafunc.definition.get_closest_marker(EVERY_DYNAMODB):
        metafunc.parametrize("aws", [MOTO, DYNAMODB_LOCAL], indirect=True)


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[DynamoDBLocal]:
    """One DynamoDB Local for the session (in memory, 127.0.0.1, a free port), started on first use."""
    try:
        server = start_dynamodb_local()
    except DynamoDBLocalNotInstalled as missing:
        if os.environ.get(REQUIRE_DYNAMODB_LOCAL_ENV):
            raise
        pytest.skip(str(missing))
    yield server
    server.stop()


@pytest.fixture
def dynamodb_backend(request: pytest.FixtureRequest) -> str:
    """The DynamoDB backend of this test's ``aws`` fixture: ``moto`` or ``dynamodb-local``."""
    callspec = getattr(request.node, "callspec", None)
    return str(callspec.params.get("aws", MOTO)) if callspec else MOTO


# Only DynamoDB leaves moto; moto would send it there anyway (the endpoint is not an AWS URL).
_DYNAMODB_PASSTHROUGH: Any = {"core": {"passthrough": {"services": ["dynamodb"], "urls": []}}}


@pytest.fixture
def aws(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """moto's in-process AWS with the template's table and secrets; the function environment set.

    DynamoDB is moto's unless the test opts into both backends, then it runs once on moto and
    once on AWS's DynamoDB Local (ids ``[moto]`` and ``[dynamodb-local]``; Secrets Manager stays
    on moto). Opt a test in with ``@pytest.mark.every_dynamodb``, or a whole module with one line:
    ``pytestmark = pytest.mark.every_dynamodb``. ``dynamodb_backend`` tells a test which it is on.
    Fixtures between the test and ``aws`` must take it as an argument: pytest parametrizes what
    it sees in signatures, not ``request.getfixturevalue("aws")``.
    """
    backend = getattr(request, "param", MOTO)
    server: DynamoDBLocal | None = (
        request.getfixturevalue("dynamodb_local") if backend == DYNAMODB_LOCAL else None
    )
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "orgconnect",
        "POWERTOOLS_METRICS_NAMESPACE": "orgconnect",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    _serialize_moto_dynamodb(monkeypatch)
    if server is not None:
        # botocore's service-specific endpoint; moto's credentials (FOOBARKEY) are alphanumeric.
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", server.endpoint_url)
    with mock_aws(config=_DYNAMODB_PASSTHROUGH if server is not None else None):
        template = load_template()
        resolver = provision(
            lambda s: boto3.client(s, region_name=REGION),
            template,
            parameter_defaults(template),
            prefix=f"test-{uuid.uuid4().hex[:6]}",
        )
        _provisioned.append(resolver)
        env = {
            "ORGCONNECT_TABLE_NAME": resolver.refs["Table"],
            PEPPER_ENV: resolver.refs["PepperSecret"],
            "ORGCONNECT_DELEGATED_ACCESS_QUEUE_URL": resolver.refs["DelegatedAccessQueue"],
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        from orgconnect import runtime

        runtime.reset()
        yield env
        runtime.reset()
        _provisioned.clear()
        if server is not None:  # DynamoDB Local outlives the test: drop its tables
            server.client().delete_table(TableName=resolver.refs["Table"])


_provisioned: list[Resolver] = []


def _serialize_moto_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make moto's DynamoDB apply one request at a time, as DynamoDB applies each request atomically.

    moto checks a condition and then writes without a lock, so two in-process threads can both
    pass it (a test once saw two syncs start). Serializing whole requests models DynamoDB's
    guarantee without weakening the tests: a read-then-write in our code still interleaves
    between its two requests. The dev stack's moto server does the same (devstack/aws.py).
    """
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.RLock()
    original = DynamoHandler.call_action

    def call_action(self: DynamoHandler) -> Any:
        with lock:
            return original(self)

    monkeypatch.setattr(DynamoHandler, "call_action", call_action)


@pytest.fixture
def aws_resolver(aws: dict[str, str]) -> Resolver:
    """The local names and ARNs of the template's resources in the ``aws`` fixture."""
    return _provisioned[-1]


@dataclass(frozen=True)
class Seeded:
    client_id: str
    client_secret: str
    service_account_id: str
    other_client_secret: str
    other_service_account_id: str


@pytest.fixture
def seeded(aws: dict[str, str]) -> Seeded:
    """Two clients, each with one Google Workspace service account."""
    from orgconnect import runtime
    from orgconnect.domain.clients import register_client
    from orgconnect.domain.model import CalendarProvider
    from orgconnect.domain.service_accounts import register_service_account
    from orgconnect.store.service_accounts import DynamoServiceAccounts

    clients, hasher = runtime.get_clients(), runtime.get_hasher()
    accounts = DynamoServiceAccounts(runtime.get_store())
    made = []
    for name, domain in (("Acme", "example.com"), ("Other", "other.example")):
        client = register_client(
            name=name,
            redirect_uris=["https://app.example/callback"],
            store=clients,
            hasher=hasher,
            now=runtime.now(),
        )
        account = register_service_account(
            client_id=client.client.client_id,
            provider=CalendarProvider.GOOGLE_WORKSPACE,
            domain=domain,
            admin_email=f"admin@{domain}",
            clients=clients,
            store=accounts,
            now=runtime.now(),
        )
        made.append((client, account))
    (a, sa), (b, sb) = made
    return Seeded(
        a.client.client_id, a.client_secret, sa.service_account_id, b.client_secret, sb.service_account_id
    )


def api_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: dict[str, list[str]] | None = None,
    resource: str | None = None,
    raw_body: str | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event, as the real service (and the dev stack) sends it."""
    hdrs = {"Host": "api.example", "User-Agent": "pytest", **(headers or {})}
    if body is not None and raw_body is None:
        raw_body = json.dumps(body)
        hdrs.setdefault("Content-Type", "application/json")
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": hdrs,
        "multiValueHeaders": {k: [v] for k, v in hdrs.items()},
        "queryStringParameters": {k: v[-1] for k, v in (query or {}).items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource or path,
            "httpMethod": method,
            "path": f"/live{path}",
            "stage": "live",
            "requestId": str(uuid.uuid4()),
            "accountId": "123456789012",
            "apiId": "test",
            "identity": {"sourceIp": "203.0.113.9", "userAgent": "pytest"},
            "requestTimeEpoch": 0,
        },
        "body": raw_body,
        "isBase64Encoded": False,
    }


class FakeContext:
    function_name = "test"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    memory_limit_in_mb = 512
    aws_request_id = "test-request"
    log_group_name = "/aws/lambda/test"
    log_stream_name = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def decode_body(response: dict[str, Any]) -> Any:
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return json.loads(body) if body else None


def header(response: dict[str, Any], name: str) -> str | None:
    """A response header, whether the handler put it in headers or multiValueHeaders."""
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name.lower():
            return str(value)
    for key, values in (response.get("multiValueHeaders") or {}).items():
        if key.lower() == name.lower() and values:
            return str(values[-1])
    return None


@pytest.fixture
def service_logs() -> Iterator[list[str]]:
    """Every line the service logger writes during the test, formatted as in production (DEBUG)."""
    import logging

    from orgconnect.observability import logger

    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(logger.registered_formatter)
    previous = logger.log_level
    logger.addHandler(handler)
    logger.setLevel("DEBUG")
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
