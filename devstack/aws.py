"""The embedded AWS emulator: a moto server on loopback, provisioned from template.yaml.

Tables and secrets are created from the template's own resource definitions, so the local
schema (keys, indexes, TTL attribute) is the deployed one. DynamoDB is moto's by default, or
AWS's own DynamoDB Local (``dynamodb="local"``, devstack/dynamodb_local.py) beside moto.
"""

from __future__ import annotations

import io
import json
import secrets
import string
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import boto3
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from devstack.dynamodb_local import DynamoDBLocal, start_dynamodb_local
from devstack.servers import RunningServer, WSGIApp, serve_wsgi
from devstack.template import Resolver, resources_of_type

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
# moto accepts any credentials; these only keep boto3 from looking for real ones. Alphanumeric,
# because DynamoDB Local refuses any other access key id.
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "orgconnectlocal", "AWS_SECRET_ACCESS_KEY": "orgconnectlocal"}

DynamoDBBackend = Literal["moto", "local"]
DYNAMODB_BACKENDS: tuple[DynamoDBBackend, ...] = ("moto", "local")


@dataclass
class LocalAws:
    """A running moto server (and DynamoDB Local, when DynamoDB is not moto's)."""

    server: RunningServer
    endpoint_url: str
    dynamodb_endpoint_url: str
    dynamodb_local: DynamoDBLocal | None = None  # started here, so stopped here

    def client(self, service: str) -> Any:
        """A boto3 client of ``service`` talking to this emulator."""
        make: Callable[..., Any] = boto3.client  # typed per service; this serves any service
        endpoint = self.dynamodb_endpoint_url if service == "dynamodb" else self.endpoint_url
        return make(service, endpoint_url=endpoint, region_name=REGION, **_boto_credentials())

    def stop(self) -> None:
        self.server.stop()
        if self.dynamodb_local is not None:
            self.dynamodb_local.stop()


def _boto_credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }


#: Serializes every moto server of this process (see :func:`serialized`).
_MOTO_LOCK = threading.Lock()


def serialized(app: WSGIApp) -> WSGIApp:
    """Handle one request at a time.

    moto is not safe under concurrent requests: a TransactWriteItems snapshots the whole table
    and restores the snapshot when a condition fails, undoing other requests' committed writes.
    DynamoDB serializes conflicting transactions, so serializing the emulator keeps its semantics;
    races in orgconnect's own code still show, because they interleave between requests. One lock
    for the process: moto's backends are process-wide, shared by every stack a test session runs.
    """

    # Inside the lock: a repeat that waited for its first call finds that call's answer.
    answering = with_transaction_tokens(app)

    def locked(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with _MOTO_LOCK:
            return list(answering(environ, start_response))

    return locked


#: TransactWriteItems' ClientRequestToken: DynamoDB treats a repeat within 10 minutes as the same call.
TRANSACTION_TOKEN_SECONDS = 600


def with_transaction_tokens(app: WSGIApp) -> WSGIApp:
    """Answer a repeated ``TransactWriteItems`` (same ``ClientRequestToken``) as its first call was
    answered, as DynamoDB does and moto does not: botocore repeats a call whose answer it did not
    get (a read timeout) with the same token, and the repeat must not run the transaction again."""
    answered: dict[str, tuple[float, str, list[tuple[str, str]], bytes]] = {}
    lock = threading.Lock()

    def app_with_tokens(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not str(environ.get("HTTP_X_AMZ_TARGET", "")).endswith(".TransactWriteItems"):
            return app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            token = json.loads(body).get("ClientRequestToken")
        except ValueError:
            token = None
        with lock:
            now = time.monotonic()
            for key in [k for k, v in answered.items() if now - v[0] > TRANSACTION_TOKEN_SECONDS]:
                del answered[key]
            if token and token in answered:
                _, status, headers, content = answered[token]
                start_response(status, headers)
                return [content]
        seen: dict[str, Any] = {}

        def remember(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            seen.update(status=status, headers=headers)
            return start_response(status, headers, *rest)

        content = b"".join(app(environ, remember))
        if token and str(seen.get("status", "")).startswith("200"):
            with lock:
                answered[token] = (time.monotonic(), seen["status"], seen["headers"], content)
        return [content]

    return app_with_tokens


def start_local_aws(
    port: int = 0,
    *,
    dynamodb: DynamoDBBackend = "moto",
    dynamodb_port: int = 0,
    dynamodb_endpoint_url: str | None = None,
) -> LocalAws:
    """Start moto on 127.0.0.1:``port`` (0: a free port).

    With ``dynamodb="local"``, DynamoDB is DynamoDB Local: the one at ``dynamodb_endpoint_url``
    if given (left running on stop), else a new one on ``dynamodb_port``. moto then serves only
    Secrets Manager and needs no serializing: DynamoDB Local isolates transactions itself.
    """
    app = DomainDispatcherApplication(create_backend_app)
    if dynamodb == "moto":
        server = serve_wsgi(serialized(app), name="aws", port=port)
        return LocalAws(server=server, endpoint_url=server.url, dynamodb_endpoint_url=server.url)
    owned = None
    if dynamodb_endpoint_url is None:
        owned = start_dynamodb_local(dynamodb_port)
        dynamodb_endpoint_url = owned.endpoint_url
    try:
        server = serve_wsgi(app, name="aws", port=port)
    except BaseException:
        if owned is not None:
            owned.stop()
        raise
    return LocalAws(server, server.url, dynamodb_endpoint_url, dynamodb_local=owned)


def aws_environment(endpoint_url: str, dynamodb_endpoint_url: str | None = None) -> dict[str, str]:
    """Environment that points boto3 (handlers, CLI, AWS CLI) at the emulator.

    botocore's service-specific ``AWS_ENDPOINT_URL_DYNAMODB`` takes DynamoDB elsewhere.
    """
    env = {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        **LOCAL_CREDENTIALS,
    }
    if dynamodb_endpoint_url and dynamodb_endpoint_url != endpoint_url:
        env["AWS_ENDPOINT_URL_DYNAMODB"] = dynamodb_endpoint_url
    return env


def _generated_secret(spec: Mapping[str, Any]) -> str:
    alphabet = string.ascii_letters + string.digits
    if not spec.get("ExcludePunctuation"):
        alphabet += "!#$%&()*+,-.:;<=>?@[]^_{|}~"
    length = int(spec.get("PasswordLength", 32))
    return "".join(secrets.choice(alphabet) for _ in range(length))


def provision(
    client: Callable[[str], Any], template: Mapping[str, Any], parameters: Mapping[str, Any], *, prefix: str
) -> Resolver:
    """Create the template's tables and secrets; return a resolver for their local names.

    ``client(service)`` makes a boto3 client (of the dev stack's moto server, or of moto's
    in-process mock in tests).
    """
    resolver = Resolver(
        refs={
            **parameters,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::Partition": "aws",
            "AWS::StackName": prefix,
        }
    )
    dynamodb = client("dynamodb")
    for logical_id, res in resources_of_type(template, "AWS::DynamoDB::Table").items():
        props = resolver.resolve(res.get("Properties", {}))
        name = props.get("TableName") or f"{prefix}-{logical_id}"
        create: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            create["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("SSESpecification", {}).get("SSEEnabled"):
            create["SSESpecification"] = {"Enabled": True}
        dynamodb.create_table(**create)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        resolver.refs[logical_id] = name
        resolver.attrs[f"{logical_id}.Arn"] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"
    sm = client("secretsmanager")
    for logical_id, res in resources_of_type(template, "AWS::SecretsManager::Secret").items():
        props = resolver.resolve(res.get("Properties", {}))
        value = props.get("SecretString") or _generated_secret(props.get("GenerateSecretString", {}))
        created = sm.create_secret(Name=props.get("Name") or f"{prefix}/{logical_id}", SecretString=value)
        resolver.refs[logical_id] = created["ARN"]
    _provision_queues(client("sqs"), template, resolver, prefix=prefix)
    return resolver


def _provision_queues(sqs: Any, template: Mapping[str, Any], resolver: Resolver, *, prefix: str) -> None:
    """The template's SQS queues with their attributes (visibility timeout, retention, redrive
    policy); dead-letter queues first, so a redrive policy's ``GetAtt …Arn`` resolves."""
    queues = resources_of_type(template, "AWS::SQS::Queue")
    ordered = sorted(queues.items(), key=lambda item: "RedrivePolicy" in item[1].get("Properties", {}))
    for logical_id, res in ordered:
        props = resolver.resolve(res.get("Properties", {}))
        name = props.get("QueueName") or f"{prefix}-{logical_id}"
        attributes = {
            attribute: str(props[attribute])
            for attribute in (
                "VisibilityTimeout",
                "MessageRetentionPeriod",
                "DelaySeconds",
                "ReceiveMessageWaitTimeSeconds",
            )
            if attribute in props
        }
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        resolver.refs[logical_id] = url
        resolver.attrs[f"{logical_id}.Arn"] = queue_arn(name)
        resolver.attrs[f"{logical_id}.QueueName"] = name
        resolver.attrs[f"{logical_id}.QueueUrl"] = url


def queue_arn(name: str) -> str:
    """The ARN of a local queue (from its name, or the last segment of its URL)."""
    return f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name.rstrip('/').rsplit('/', 1)[-1]}"
