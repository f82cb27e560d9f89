"""``orgconnect sync``: run a connection's directory sync here, chunk by chunk (docs/sync.md).

    orgconnect sync --connection cnx_... [--dev [PATH] | --stack-name NAME [--region R]]

The same job the sync worker runs from its queue (list the provider's directory, keep each page
and the cursor, reconcile: only changed directory items and profiles written), run in this
process with the operator's AWS credentials. A progress bar and a summary table go to stderr;
the summary as JSON to stdout. A connection that is unknown, revoked, needs reauthorization or
is already being synced, and a provider outage, end with a plain message and a non-zero status.

``--dry-run`` (planned, with provisioning's planner): build the job with read-only ``profiles``
and ``directory.apply`` ports (:func:`build_job` is the one place they are chosen).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orgconnect.cli import DEFAULT_DEV_FILE, CliError

if TYPE_CHECKING:
    from orgconnect.domain.directory_sync import SyncState
    from orgconnect.workers.connection_sync import ConnectionSyncJob


def add_sync_command(groups: Any) -> None:
    """Register ``orgconnect sync`` on the CLI's sub-command groups."""
    parser = groups.add_parser("sync", help="sync a conferencing connection's directory and profiles now")
    parser.add_argument("--connection", required=True, help="the connection id (cnx_...)")
    parser.add_argument(
        "--dev",
        nargs="?",
        const=str(DEFAULT_DEV_FILE),
        default=None,
        help="use the local stack (default file: .orgconnect/dev.json)",
    )
    parser.add_argument("--stack-name", help="a deployed stack (reads its outputs)")
    parser.add_argument("--region", help="AWS region of the deployed stack")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or table (JSON only)")
    parser.set_defaults(run=run_sync)


def stack_environment(args: argparse.Namespace) -> dict[str, str]:
    """The environment the job's wiring reads (``orgconnect.settings``), for the chosen stack."""
    if args.dev is not None:
        path = Path(args.dev)
        if not path.exists():
            raise CliError(f"{path} not found: is `make dev` running?")
        data = json.loads(path.read_text())
        aws = data["aws"]
        env = {
            "ORGCONNECT_TABLE_NAME": aws["table_name"],
            "ORGCONNECT_PROVIDER_APPS_SECRET_ID": aws.get("provider_apps_secret_id", ""),
            "ORGCONNECT_PROVIDER_URL_OVERRIDES": json.dumps(
                {name: sim["base_url"] for name, sim in (data.get("simulators") or {}).items()}
            ),
            "AWS_ENDPOINT_URL": data["aws_endpoint_url"],
            "AWS_DEFAULT_REGION": aws["region"],
            "AWS_REGION": aws["region"],
            "AWS_ACCESS_KEY_ID": aws["access_key_id"],
            "AWS_SECRET_ACCESS_KEY": aws["secret_access_key"],
        }
        if data.get("dynamodb_endpoint_url"):
            env["AWS_ENDPOINT_URL_DYNAMODB"] = data["dynamodb_endpoint_url"]
        return env
    if args.stack_name:
        import boto3

        cloudformation = boto3.client("cloudformation", region_name=args.region)
        stack = cloudformation.describe_stacks(StackName=args.stack_name)["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
        try:
            env = {
                "ORGCONNECT_TABLE_NAME": outputs["TableName"],
                "ORGCONNECT_PROVIDER_APPS_SECRET_ID": outputs["ProviderAppsSecretArn"],
            }
        except KeyError as missing:
            raise CliError(
                f"stack {args.stack_name} has no output {missing}; is it an orgconnect stack?"
            ) from None
        env["ORGCONNECT_PROVIDER_URL_OVERRIDES"] = parameters.get("ProviderUrlOverrides", "")
        if args.region:
            env["AWS_DEFAULT_REGION"] = env["AWS_REGION"] = args.region
        return env
    raise CliError("choose a target: --dev or --stack-name NAME")


def build_job(on_progress: Callable[[SyncState], None]) -> ConnectionSyncJob:
    """The sync job as the worker builds it (a dry run would swap its write ports here)."""
    from orgconnect import sync_runtime

    return sync_runtime.connection_sync_job(on_progress=on_progress)


def check_connection(connection_id: str) -> None:
    """A plain error for a connection that cannot be synced."""
    from orgconnect import runtime
    from orgconnect.domain.model import ConnectionStatus
    from orgconnect.store.conferencing_profiles import DynamoConferencingProfiles

    connection = DynamoConferencingProfiles(runtime.get_store()).connection(connection_id)
    if connection is None:
        raise CliError(f"unknown connection {connection_id} (never linked, or removed)")
    if connection.status is ConnectionStatus.REVOKED:
        raise CliError(f"connection {connection_id} is revoked: link the account again")
    if connection.status is ConnectionStatus.NEEDS_REAUTHORIZATION:
        raise CliError(
            f"connection {connection_id} needs reauthorization: its administrator must link it again"
        )


def run_sync(args: argparse.Namespace) -> dict[str, Any]:
    """``orgconnect sync``: the summary (also printed as a table unless ``--quiet``)."""
    if not str(args.connection).startswith("cnx_"):
        raise CliError("--connection must be a connection id (cnx_...)")
    os.environ.update(stack_environment(args))
    from orgconnect import runtime

    runtime.reset()
    check_connection(args.connection)
    from rich.console import Console

    console = Console(stderr=True, quiet=bool(args.quiet))
    started = time.monotonic()
    state = _run_with_progress(args.connection, console)
    summary = _summary(state, time.monotonic() - started)
    if state.reason:
        raise CliError(f"sync of {args.connection} stopped: {state.reason.replace('_', ' ')}")
    console.print(_table(args.connection, summary))
    return summary


def _run_with_progress(connection_id: str, console: Any) -> SyncState:
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from orgconnect.domain.errors import TemporarilyUnavailable
    from orgconnect.domain.provider_model import ProviderError
    from orgconnect.workers.connection_sync_driver import SyncBusy, run_in_process

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("starting", total=None)

        def show(state: SyncState) -> None:
            cursor, stats = state.cursor, state.stats
            text = f"{cursor.phase}: {cursor.pages} pages, {stats.users_listed} users listed"
            if str(state.status) == "done":
                progress.update(task, description="done", total=1, completed=1)
            else:
                progress.update(task, description=text)

        try:
            return run_in_process(build_job(show), connection_id).state
        except SyncBusy:
            raise CliError(
                f"a sync of {connection_id} is already running (queued, or another operator's); "
                "try again later"
            ) from None
        except (ProviderError, TemporarilyUnavailable) as problem:
            raise CliError(
                f"the provider or AWS is unavailable ({problem}); the sync kept its cursor "
                "(the scheduled reconcile starts a new one once its lease ends)"
            ) from None


def _summary(state: SyncState, seconds: float) -> dict[str, Any]:
    stats = state.stats
    return {
        "connection_id": state.connection_id,
        "sync_id": state.sync_id,
        "status": str(state.status),
        "users_listed": stats.users_listed,
        "matched": stats.matched,
        "pending": stats.pending,
        "unmatched": stats.unmatched,
        "profiles_changed": stats.profile_writes,
        "directory_items_written": stats.directory_writes,
        "api_calls": stats.api_calls,
        # Every 429 the provider answered, those the client waited out too (docs/sync.md).
        "rate_limited_429s": stats.rate_limited,
        "chunks": stats.chunks,
        "wall_time_seconds": round(seconds, 2),
    }


def _table(connection_id: str, summary: dict[str, Any]) -> Any:
    from rich.table import Table

    table = Table(title=f"sync of {connection_id}")
    table.add_column("")
    table.add_column("", justify="right")
    for key in (
        "users_listed",
        "matched",
        "pending",
        "unmatched",
        "profiles_changed",
        "directory_items_written",
        "api_calls",
        "rate_limited_429s",
        "chunks",
        "wall_time_seconds",
    ):
        table.add_row(key.replace("_", " "), str(summary[key]))
    return table
