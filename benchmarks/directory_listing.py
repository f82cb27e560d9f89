"""Directory listing at scale (issue 9, item 7): the Zoom simulator at Business+ limits, seeded
in process with M users, listed over HTTP through the real adapter (ZoomConferencing) and the
client-side rate limiter, in real time. Per run:

- list calls against the goal ⌈M/300⌉ + one per extra status listed;
- wall time against the rate-limit floor (list calls / the plan's Medium QPS; goal <= 1.2x);
- 429s seen, and 429s left unhandled (the listing failed with one; goal 0).

``python -m benchmarks.directory_listing`` prints a table on stderr and the JSON on the last line
of stdout (``make bench`` collects it). Nothing here asserts on time.
"""

from __future__ import annotations

import json
import math
import sys
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from devstack.servers import serve_wsgi
from devstack.simulators.zoom import ZoomSimulator
from devstack.simulators.zoom_model import RATE_LIMITS, Plan
from orgconnect.domain.model import ProviderApp
from orgconnect.domain.provider_model import ProviderUnavailable
from orgconnect.providers.api import close_pooled_clients
from orgconnect.providers.zoom import ZoomApi
from orgconnect.providers.zoom_conferencing import LISTED_STATUSES, ZoomConferencing

PAGE = 300
#: (users seeded, the account's plan, the plan the client paces at: None = unknown).
RUNS: tuple[tuple[int, Plan, str | None], ...] = (
    (10_000, "business", "business"),
    (100_000, "business", "business"),
    (10_000, "business", None),
)


def listing_run(users: int, plan: Plan, client_plan: str | None) -> dict[str, Any]:
    """Seed, serve, list every status once; the numbers of that one listing."""
    seed_start = time.perf_counter()
    sim = ZoomSimulator(plan=plan, zoom_users=users)  # real clock: Zoom's windows in real time
    seed_seconds = time.perf_counter() - seed_start
    server = serve_wsgi(sim, name="bench-zoom-listing")
    try:
        info = sim.dev_info(server.url)
        api = ZoomApi(
            ProviderApp(info["client_id"], info["client_secret"]), base_url=server.url, rate_plan=client_plan
        )
        api.account_credentials(info["account_id"])
        zoom = ZoomConferencing(api)
        sim.clear_requests()
        unhandled, listed = 0, 0
        start = time.perf_counter()
        try:
            listed = sum(1 for _ in zoom.list_users())
        except ProviderUnavailable as error:
            unhandled = 1 if error.status == 429 else 0
            if not unhandled:
                raise
        wall = time.perf_counter() - start
    finally:
        server.stop()
        close_pooled_clients()
    seeded = sum(1 for u in sim.list_users() if u["account_plan"] != "free")
    calls = zoom.calls["list"]
    qps = RATE_LIMITS[plan]["Medium"][0]
    floor = calls / qps
    refused = sum(1 for r in sim.requests() if r["path"] == "/v2/users" and r["status"] == 429)
    return {
        "users": seeded,
        "listed": listed,
        "account plan": plan,
        "client paces at": client_plan or "unknown (pro)",
        "list calls": calls,
        "goal calls": math.ceil(seeded / PAGE) + len(LISTED_STATUSES) - 1,
        "requests sent": api.rate_stats.requests_by_category["Medium"],
        "wall (s)": round(wall, 2),
        "floor (s)": round(floor, 2),
        "wall / floor": round(wall / floor, 2),
        "paced (s)": round(api.rate_stats.paced_seconds, 2),
        "429 seen": api.rate_stats.rate_limited,
        "429 at simulator": refused,
        "429 unhandled": unhandled,
        "seed (s)": round(seed_seconds, 2),
    }


TABLE_COLUMNS = (
    "users",
    "client paces at",
    "list calls",
    "goal calls",
    "wall (s)",
    "floor (s)",
    "wall / floor",
    "429 seen",
    "429 unhandled",
)


def print_table(rows: list[dict[str, Any]]) -> None:
    """The runs as a table on stderr (every number is in the JSON)."""
    table = Table(title="Zoom directory listing through the rate limiter, Business+ account (60 Medium/s)")
    for column in TABLE_COLUMNS:
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(*(str(row[c]) for c in TABLE_COLUMNS))
    Console(stderr=True, width=140).print(table)


def main() -> None:
    rows = [listing_run(users, plan, client_plan) for users, plan, client_plan in RUNS]
    print_table(rows)
    print(json.dumps({"directory_listing": rows}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
