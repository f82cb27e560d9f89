"""``orgconnect admin set-zoom-plan``: the Zoom plan one connection's syncs pace at (docs/providers.md).

    orgconnect admin set-zoom-plan --connection cnx_... --plan business|pro|default [target]

Zoom's API does not tell Pro from Business+; the deployment's ``ZoomRatePlan`` (default pro) is
used for every Zoom connection unless the operator names the plan of one here (stored on the
connection item as ``zoom_rate_plan``; ``default`` removes it). Too high a plan costs 429s,
waited out; the limiter then learns the real quota from ``X-RateLimit-Limit``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from orgconnect.cli import CliError, resolve_target

PLANS = ("pro", "business")
DEFAULT = "default"


def add_rate_plan_command(
    commands: Any, with_target: Callable[[argparse.ArgumentParser], argparse.ArgumentParser]
) -> None:
    """Register ``set-zoom-plan`` on the admin commands."""
    p = with_target(commands.add_parser("set-zoom-plan", help="the Zoom plan a connection's syncs pace at"))
    p.add_argument("--connection", required=True, help="the connection id (cnx_...)")
    p.add_argument("--plan", required=True, choices=[*PLANS, DEFAULT], help="default: the deployment's")
    p.set_defaults(run=set_zoom_plan)


def set_zoom_plan(args: argparse.Namespace) -> dict[str, Any]:
    """Store (or remove) the connection's plan; a plain error for an unknown or non-Zoom one."""
    from orgconnect.cli import _clients
    from orgconnect.domain.matching import profile_provider_name
    from orgconnect.store import keys
    from orgconnect.store.dynamodb import to_item
    from orgconnect.sync_runtime import RATE_PLAN_ATTRIBUTE

    if not str(args.connection).startswith("cnx_"):
        raise CliError("--connection must be a connection id (cnx_...)")
    store, _ = _clients(resolve_target(args))
    key = keys.connection_key(args.connection)
    item = store.read(key)
    if not item or item.get("type") != "connection":
        raise CliError(f"unknown connection {args.connection}")
    if profile_provider_name(str(item.get("provider_name", ""))) != "zoom":
        raise CliError(f"connection {args.connection} is not a Zoom connection")
    condition = {"ConditionExpression": "attribute_exists(pk)", "Key": to_item(key)}
    if args.plan == DEFAULT:
        store.client.update_item(
            TableName=store.table_name,
            UpdateExpression="REMOVE #plan",
            ExpressionAttributeNames={"#plan": RATE_PLAN_ATTRIBUTE},
            **condition,
        )
        return {"connection_id": args.connection, "zoom_rate_plan": None}
    store.client.update_item(
        TableName=store.table_name,
        UpdateExpression="SET #plan = :plan",
        ExpressionAttributeNames={"#plan": RATE_PLAN_ATTRIBUTE},
        ExpressionAttributeValues=to_item({":plan": args.plan}),
        **condition,
    )
    return {"connection_id": args.connection, "zoom_rate_plan": args.plan}
