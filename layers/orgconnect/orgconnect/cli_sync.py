"""``orgconnect sync``: run a connection's directory sync here, chunk by chunk (docs/sync.md).

    orgconnect sync --connection cnx_... [--dev [PATH] | --stack-name NAME [--region R]]

The same job the sync worker runs from its queue (list the provider's directory, keep each page
and the cursor, reconcile: only changed directory items and profiles written), run in this
process with the operator's AWS credentials. A progress bar and a summary table go to stderr;
the summary as JSON to stdout. A connection that is unknown, revoked, needs reauthorization or
is already being synced, and a provider outage, end with a plain message and a non-zero status.

``--dry-run``: the same listing and reconcile with read-only write ports (:func:`build_job` is
the one place they are chosen): it lists what provisioning would create, update, disable or
remove and how many profiles would be added, changed or disconnected, and writes nothing to
DynamoDB nor to the provider (docs/provisioning.md). Without it, the summary shows the
provisioning actions taken.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from orgconnect.cli import CliError, add_stack_arguments, read_dev_file

if TYPE_CHECKING:
    from orgconnect.domain.directory_sync import SyncState
    from orgconnect.workers.connection_sync import ConnectionSyncJob
    from orgconnect.workers.provisioning_reconcile import ReconcileOutcome


def add_sync_command(groups: Any) -> None:
    """Register ``orgconnect sync`` on the CLI's sub-command groups."""
    parser = groups.add_parser("sync", help="sync a conferencing connection's directory and profiles now")
    parser.add_argument("--connection", required=True, help="the connection id (cnx_...)")
    add_stack_arguments(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar or table (JSON only)")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="list what the sync and provisioning would change, without writing anything",
    )
    parser.set_defaults(run=run_sync)


def stack_environment(args: argparse.Namespace) -> dict[str, str]:
    """The environment the job's wiring reads (``orgconnect.settings``), for the chosen stack."""
    if args.dev is not None:
        data = read_dev_file(args.dev)
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


def build_job(on_progress: Callable[[SyncState], None], *, dry_run: bool = False) -> ConnectionSyncJob:
    """The sync job as the worker builds it; a dry run's has read-only write ports, provisioning
    that only plans, and no integrator notifications."""
    from orgconnect import sync_runtime

    job = sync_runtime.connection_sync_job(on_progress=on_progress, dry_run=dry_run)
    if dry_run:
        job.on_profiles_changed = None  # nothing is changed, so nothing is notified
    return job


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
    dry_run = bool(getattr(args, "dry_run", False))
    job, state = _run_with_progress(args.connection, console, dry_run=dry_run)
    summary = _summary(state, time.monotonic() - started)
    if state.reason:
        raise CliError(f"sync of {args.connection} stopped: {state.reason.replace('_', ' ')}")
    outcomes = list(getattr(job.on_reconciled, "outcomes", []))
    summary.update(_provisioning_summary(outcomes, dry_run=dry_run))
    if dry_run:
        del summary["directory_items_written"]  # nothing is: the dry run's counts replace it
        summary.update(_dry_run_counts(job))
    console.print(_table(args.connection, summary))
    for outcome in outcomes:
        console.print(outcome.summary(), markup=False, highlight=False)
    return summary


def _provisioning_summary(outcomes: list[ReconcileOutcome], *, dry_run: bool) -> dict[str, Any]:
    """Provisioning's actions by kind: planned (dry run) or carried out, with skips and failures."""
    from orgconnect.domain.provisioning import ActionKind

    counts = {str(kind): 0 for kind in ActionKind}
    skipped = failed = 0
    lines: list[str] = []
    for outcome in outcomes:
        lines.extend(a.summary() for a in outcome.actions)
        if dry_run:
            for action in outcome.actions:
                if action.skip_reason:
                    skipped += 1
                else:
                    counts[str(action.kind)] += 1
            continue
        for event in outcome.events:
            if str(event.result) == "ok":
                counts[event.action] = counts.get(event.action, 0) + 1
            skipped += str(event.result) == "skipped"
            failed += str(event.result) == "failed"
    return {
        "dry_run": dry_run,
        "provisioning": {**counts, "skipped": skipped, "failed": failed},
        "provisioning_actions": lines,
    }


def _dry_run_counts(job: ConnectionSyncJob) -> dict[str, Any]:
    """What the dry run's read-only ports held back: profile changes by kind, directory items."""
    from orgconnect.workers.connection_sync_dry_run import ReadOnlyDirectory, ReadOnlyProfiles

    profiles, directory = job.profiles, job.directory
    counts = profiles.counts() if isinstance(profiles, ReadOnlyProfiles) else {}
    items = directory.upserts + directory.removals if isinstance(directory, ReadOnlyDirectory) else 0
    return {
        "profiles_added": counts.get("created", 0),
        "profiles_changed": counts.get("updated", 0),
        "profiles_disconnected": counts.get("disconnected", 0),
        "directory_items_to_write": items,
    }


def _run_with_progress(
    connection_id: str, console: Any, *, dry_run: bool
) -> tuple[ConnectionSyncJob, SyncState]:
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

        job = build_job(show, dry_run=dry_run)
        try:
            return job, run_in_process(job, connection_id).state
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

    title = (
        f"dry run of the sync of {connection_id}" if summary.get("dry_run") else f"sync of {connection_id}"
    )
    table = Table(title=title)
    table.add_column("")
    table.add_column("", justify="right")
    keys = [
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
    ]
    if summary.get("dry_run"):
        keys[keys.index("profiles_changed")] = "profiles_added"
        keys[keys.index("directory_items_written")] = "directory_items_to_write"
        keys[keys.index("profiles_added") + 1 : keys.index("profiles_added") + 1] = [
            "profiles_changed",
            "profiles_disconnected",
        ]
    for key in keys:
        if key in summary:
            table.add_row(key.replace("_", " "), str(summary[key]))
    verb = "to " if summary.get("dry_run") else ""
    for kind, count in (summary.get("provisioning") or {}).items():
        table.add_row(f"provisioning {verb}{kind}", str(count))
    return table
