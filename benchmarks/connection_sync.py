"""``make bench``, connection syncs (docs/sync.md). Prints numbers; asserts nothing about time.

1. DynamoDB writes of the sync job (the real stores, on moto in this process) for an OU of M
   accounts and a directory of M users (M = 10,000, ``BENCH_SYNC_USERS``): the backfill, a
   reconcile that finds no change, and one with 1% of the users changed (a quarter each added,
   removed, renamed with the same id, status changed). Goal: writes proportional to the changes.
   The provider is an in-memory listing of 300 users a page (provider calls: the Zoom bench).
2. CPU time of the pure in-memory match (``reconcile_profiles``) of 100,000 accounts against
   100,000 provider users (``BENCH_MATCH_USERS``), with and without existing profiles. Goal ≤ 1 s.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from typing import Any

from msgspec.structs import replace

USERS = int(os.environ.get("BENCH_SYNC_USERS", "10000"))
MATCH_USERS = int(os.environ.get("BENCH_MATCH_USERS", "100000"))
PAGE = 300
WRITES = {"PutItem", "UpdateItem", "DeleteItem"}


@contextmanager
def dynamodb_writes() -> Iterator[Counter[str]]:
    """Requests by operation, and ``items written`` (BatchWriteItem's items counted one by one)."""
    from botocore.client import BaseClient

    counts: Counter[str] = Counter()
    original = getattr(BaseClient, "_make_api_call")  # noqa: B009

    def counting(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            counts[operation] += 1
            if operation in WRITES:
                counts["items written"] += 1
            if operation == "BatchWriteItem":
                counts["items written"] += sum(len(v) for v in params["RequestItems"].values())
        return original(self, operation, params)

    setattr(BaseClient, "_make_api_call", counting)  # noqa: B010
    try:
        yield counts
    finally:
        setattr(BaseClient, "_make_api_call", original)  # noqa: B010


class Listing:
    """An in-memory provider directory listed 300 users a page; the page token is an offset."""

    def __init__(self, users: list[Any]) -> None:
        self.users = users
        self.calls = 0

    def pages(self, adapter: Any, segment: int, token: str | None) -> Iterator[Any]:
        from orgconnect.providers.directory_pages import ListedPage

        start = int(token or 0)
        while True:
            self.calls += 1
            users, start = self.users[start : start + PAGE], start + PAGE
            done = start >= len(self.users)
            yield ListedPage(users, 0, None if done else str(start), done)
            if done:
                return


class _Adapter:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()


class _Tokens:
    def access_token(self, connection: Any, *, rejected: str | None = None) -> str:
        return "bench-token"


def _seed(store: Any, users: list[Any], ou: str, connection_id: str) -> None:
    from orgconnect.domain.accounts import Account, CalendarProfile
    from orgconnect.domain.model import CalendarProvider
    from orgconnect.store.accounts import _account_item
    from orgconnect.store.directory import DynamoDirectory
    from orgconnect.store.dynamodb import to_item

    items: list[dict[str, Any]] = [
        {
            "pk": "SERVICEACCOUNT#ser_bench",
            "sk": "SERVICEACCOUNT",
            "type": "service_account",
            "service_account_id": "ser_bench",
            "gsi1pk": f"OU#{ou}",
            "gsi1sk": "SERVICEACCOUNT#ser_bench",
        },
        {
            "pk": f"CONNECTION#{connection_id}",
            "sk": "CONNECTION",
            "type": "connection",
            "connection_id": connection_id,
            "ou_id": ou,
            "client_id": "cli_bench",
            "provider_name": "zoom_enterprise",
            "provider_account_id": "bench",
            "account_name": "Bench",
            "status": "connected",
            "secret_arn": "arn:bench",
            "authorization_type": "oauth",
        },
    ]
    for n, user in enumerate(users):
        profile = CalendarProfile(f"pro_c{n}", CalendarProvider.GOOGLE_WORKSPACE, user.email)
        account = Account(f"acc_{n:08d}", "cli_bench", "ser_bench", user.email, None, f"g{n}", profile)
        items.append(_account_item(account))
    requests = [{"PutRequest": {"Item": to_item(i)}} for i in items]
    directory = DynamoDirectory(store)
    for start in range(0, len(requests), 25):
        directory._write(requests[start : start + 25])


def _changed(users: list[Any]) -> tuple[list[Any], int]:
    """1% of the users changed: a quarter each removed, renamed (same id), deactivated, added."""
    from orgconnect.domain.conferencing import DirectoryUser, UserStatus

    quarter = max(1, len(users) // 400)
    changed = list(users)
    for n in range(quarter):
        changed[n] = replace(changed[n], email=f"renamed.{changed[n].email}")
        changed[quarter + n] = replace(changed[quarter + n], status=UserStatus.INACTIVE)
    del changed[2 * quarter : 3 * quarter]
    changed += [
        DirectoryUser(f"zu_new{n}", f"new{n}@bench.example", "New", UserStatus.ACTIVE) for n in range(quarter)
    ]
    return changed, 4 * quarter


def dynamodb_writes_of_a_reconcile() -> dict[str, Any]:
    """The sync job on moto: backfill, no change, 1% changed."""
    import boto3
    from moto import mock_aws

    from devstack.aws import REGION, provision
    from devstack.template import load_template, parameter_defaults
    from orgconnect import runtime
    from orgconnect.domain.conferencing import DirectoryUser, UserStatus
    from orgconnect.domain.secrets import new_id
    from orgconnect.store.bulk_profiles import DynamoBulkProfiles
    from orgconnect.store.conferencing_profiles import DynamoConferencingProfiles
    from orgconnect.store.sync_state import DynamoSyncDirectory
    from orgconnect.workers.connection_sync import ConnectionSyncJob, SyncLimits
    from orgconnect.workers.connection_sync_driver import run_in_process

    for key, value in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        os.environ[key] = value
    os.environ.pop("AWS_ENDPOINT_URL", None)
    results: dict[str, Any] = {"users": USERS, "accounts": USERS}
    with mock_aws():
        template = load_template()
        make: Any = boto3.client
        resolver = provision(
            lambda s: make(s, region_name=REGION),
            template,
            parameter_defaults(template),
            prefix="bench",
        )
        os.environ["ORGCONNECT_TABLE_NAME"] = resolver.refs["Table"]
        runtime.reset()
        store = runtime.get_store()
        users = [
            DirectoryUser(f"zu_{n}", f"u{n}@bench.example", f"U{n}", UserStatus.ACTIVE) for n in range(USERS)
        ]
        _seed(store, users, "ou_bench", "cnx_bench")
        listing = Listing(users)
        job = ConnectionSyncJob(
            directory=DynamoSyncDirectory(store, clock=lambda: int(time.time())),
            profiles=DynamoBulkProfiles(store),
            connections=DynamoConferencingProfiles(store),
            tokens=_Tokens(),
            adapters=lambda name, token, tenant: _Adapter(),  # type: ignore[arg-type,return-value]
            pages=listing.pages,
            new_id=new_id,
            limits=SyncLimits(pages_per_chunk=20, writes_per_chunk=USERS * 3),
        )

        def run(label: str, changes: int) -> None:
            listing.calls = 0
            started = time.perf_counter()
            with dynamodb_writes() as counts:
                state = run_in_process(job, "cnx_bench").state
            results[label] = {
                "changes": changes,
                "dynamodb_items_written": counts["items written"],
                "of_which_directory_items": state.stats.directory_writes,
                "of_which_profiles": state.stats.profile_writes,
                "sync_bookkeeping_items": counts["items written"]
                - state.stats.directory_writes
                - state.stats.profile_writes,
                "dynamodb_requests": dict(sorted((k, v) for k, v in counts.items() if k != "items written")),
                "list_pages": listing.calls,
                "chunks": state.stats.chunks,
                "wall_time_s (moto, in-process)": round(time.perf_counter() - started, 2),
            }

        run("backfill (no directory, no profile yet)", USERS)
        run("reconcile, no change", 0)
        listing.users, changes = _changed(users)
        run("reconcile, 1% changed", changes)
    return results


def cpu_of_the_in_memory_match() -> dict[str, Any]:
    """process_time of reconcile_profiles over MATCH_USERS accounts and users."""
    from orgconnect.domain.bulk_matching import reconcile_profiles
    from orgconnect.domain.conferencing import DirectoryUser, UserStatus
    from orgconnect.domain.matching import ConferencingProfile

    class Acc:
        __slots__ = ("account_id", "email")

        def __init__(self, account_id: str, email: str) -> None:
            self.account_id, self.email = account_id, email

    users = [
        DirectoryUser(f"zu_{n}", f"u{n}@bench.example", "U", UserStatus.ACTIVE) for n in range(MATCH_USERS)
    ]
    accounts = [Acc(f"acc_{n}", f"u{n}@bench.example") for n in range(MATCH_USERS)]
    existing = {
        f"acc_{n}": ConferencingProfile(
            f"pro_{n}", f"acc_{n}", "cnx_1", "zoom", f"zu_{n}", u.email, UserStatus.ACTIVE
        )
        for n, u in enumerate(users)
    }
    changed, _ = _changed(users)
    ids = count()
    out: dict[str, Any] = {"accounts": MATCH_USERS, "provider_users": MATCH_USERS}
    for label, profiles, listed in (
        ("backfill: every account new", {}, users),
        ("reconcile: 1% changed", existing, changed),
    ):
        cpu = time.process_time()
        result = reconcile_profiles(
            accounts,
            listed,
            profiles,
            connection_id="cnx_1",
            provider_name="zoom",
            new_profile_id=lambda: f"pro_{next(ids)}",
        )
        out[label] = {"cpu_seconds": round(time.process_time() - cpu, 3), "changes": len(result.changes)}
    return out


def main() -> None:
    report = {
        "cpu_in_memory_match": cpu_of_the_in_memory_match(),
        "dynamodb_writes": dynamodb_writes_of_a_reconcile(),
    }
    print(json.dumps({"connection_sync": report}))


if __name__ == "__main__":
    main()
