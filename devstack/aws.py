"""The embedded AWS emulator: a moto server on loopback, provisioned from template.yaml.

Tables and secrets are created from the template's own resource definitions, so the local
schema (keys, indexes, TTL attribute) is the deployed one.
"""

from __future__ import annotations

import secrets
import string
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from devstack.servers import RunningServer, WSGIApp, serve_wsgi
from devstack.template import Resolver, resources_of_type

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
# moto accepts any credentials; these only keep boto3 from looking for real ones.
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "orgconnect-local", "AWS_SECRET_ACCESS_KEY": "orgconnect-local"}


@dataclass
class LocalAws:
    """A running moto server and what was provisioned in it."""

    server: RunningServer
    endpoint_url: str

    def client(self, service: str) -> Any:
        """A boto3 client of ``service`` talking to this emulator."""
        make: Callable[..., Any] = boto3.client  # typed per service; this serves any service
        return make(service, endpoint_url=self.endpoint_url, region_name=REGION, **_boto_credentials())

    def stop(self) -> None:
        self.server.stop()


def _boto_credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }


def serialized(app: WSGIApp) -> WSGIApp:
    """Handle one request at a time.

    moto is not safe under concurrent requests: a TransactWriteItems snapshots the whole table
    and restores the snapshot when a condition fails, undoing other requests' committed writes.
    DynamoDB serializes conflicting transactions, so serializing the emulator keeps its semantics;
    races in orgconnect's own code still show, because they interleave between requests.
    """
    lock = threading.Lock()

    def locked(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with lock:
            return list(app(environ, start_response))

    return locked


def start_local_aws(port: int = 0) -> LocalAws:
    """Start moto on 127.0.0.1:``port`` (0: a free port)."""
    app = DomainDispatcherApplication(create_backend_app)
    server = serve_wsgi(serialized(app), name="aws", port=port)
    return LocalAws(server=server, endpoint_url=server.url)


def aws_environment(endpoint_url: str) -> dict[str, str]:
    """Environment that points boto3 (handlers, CLI, AWS CLI) at the emulator."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        **LOCAL_CREDENTIALS,
    }


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
    return resolver
