"""Local enforcement of each function's IAM policy from template.yaml.

On AWS a function may only make the calls its role allows; moto allows everything. So that a
missing permission fails locally (in `make dev` and every test that goes through the local API
Gateway) instead of after `sam deploy`, every botocore call made while a function runs is
checked against that function's ``Policies`` statements: the IAM actions it needs (one per
item of a transaction) on the resources it touches. A call that is not allowed raises
``AccessDeniedException``, as AWS would.

Only ``Allow`` statements with ``Action`` and ``Resource`` are modelled (that is all the template
uses); anything else in a policy is a startup error rather than a silently wrong check.
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from devstack.aws import ACCOUNT_ID, REGION, queue_arn
from devstack.template import Resolver, resources_of_type

_current = threading.local()
_install_lock = threading.Lock()
_installed = False


@dataclass(frozen=True)
class Statement:
    actions: tuple[str, ...]
    resources: tuple[str, ...]

    def allows(self, action: str, resource: str) -> bool:
        return any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in self.actions) and any(
            fnmatch.fnmatchcase(resource, r) for r in self.resources
        )


@dataclass(frozen=True)
class Policy:
    function: str
    statements: tuple[Statement, ...]

    def allows(self, action: str, resource: str) -> bool:
        return any(s.allows(action, resource) for s in self.statements)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policies(template: Mapping[str, Any], resolver: Resolver) -> dict[str, Policy]:
    """Each function's inline policy statements, with intrinsics resolved to local ARNs."""
    out: dict[str, Policy] = {}
    for logical_id, res in resources_of_type(template, "AWS::Serverless::Function").items():
        statements = []
        for policy in res.get("Properties", {}).get("Policies", []):
            if not isinstance(policy, dict) or "Statement" not in policy:
                raise ValueError(f"{logical_id}: only inline policy documents are modelled locally")
            for st in policy["Statement"]:
                if st.get("Effect") != "Allow" or "Action" not in st or "Resource" not in st:
                    raise ValueError(
                        f"{logical_id}: only Allow statements with Action and Resource are modelled"
                    )
                statements.append(
                    Statement(
                        tuple(str(a) for a in _as_list(st["Action"])),
                        tuple(str(resolver.resolve(r)) for r in _as_list(st["Resource"])),
                    )
                )
        out[logical_id] = Policy(logical_id, tuple(statements))
    return out


def _table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"


def _secret_arn(secret_id: str) -> str:
    return (
        secret_id
        if secret_id.startswith("arn:")
        else f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{secret_id}"
    )


_SQS_BATCH_ACTIONS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}

_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def required(service: str, operation: str, params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (IAM action, resource ARN) pairs a call needs."""
    if service == "dynamodb":
        if operation in ("TransactWriteItems", "TransactGetItems"):
            pairs = []
            for item in params.get("TransactItems", []):
                ((kind, body),) = item.items()
                pairs.append((f"dynamodb:{_TRANSACT_ACTIONS[kind]}", _table_arn(body["TableName"])))
            return pairs
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(f"dynamodb:{operation}", _table_arn(t)) for t in params.get("RequestItems", {})]
        arn = _table_arn(params.get("TableName", "*"))
        if params.get("IndexName"):
            arn += f"/index/{params['IndexName']}"
        return [(f"dynamodb:{operation}", arn)]
    if service == "sqs":
        # Batch calls are authorized as their single-message action; queues are named by URL.
        action = _SQS_BATCH_ACTIONS.get(operation, operation)
        return [(f"sqs:{action}", queue_arn(str(params.get("QueueUrl", "*"))))]
    if service == "secretsmanager":
        secret = params.get("SecretId") or params.get("Name") or "*"
        return [(f"secretsmanager:{operation}", _secret_arn(str(secret)))]
    return [(f"{service}:{operation}", "*")]


@contextmanager
def acting_as(policy: Policy) -> Iterator[None]:
    """Run the block under ``policy`` (the local API Gateway wraps each invocation in this)."""
    previous = getattr(_current, "policy", None)
    _current.policy = policy
    try:
        yield
    finally:
        _current.policy = previous


def install() -> None:
    """Check every botocore call made under :func:`acting_as` (idempotent, process-wide)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        original = getattr(BaseClient, "_make_api_call")  # noqa: B009 - private botocore hook

        def checked(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            policy: Policy | None = getattr(_current, "policy", None)
            if policy is not None:
                service = self.meta.service_model.service_name
                for action, resource in required(service, operation, params):
                    if not policy.allows(action, resource):
                        message = (
                            f"local IAM: {policy.function} is not authorized to perform {action} "
                            f"on {resource} (add it to the function's Policies in template.yaml)"
                        )
                        raise ClientError(
                            {"Error": {"Code": "AccessDeniedException", "Message": message}}, operation
                        )
            return original(self, operation, params)

        setattr(BaseClient, "_make_api_call", checked)  # noqa: B010
        _installed = True
