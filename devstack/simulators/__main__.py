"""Run provider simulators standalone on 127.0.0.1 for integrators' own tests.

    python -m devstack.simulators [--provider zoom ...] [--port N] [--seed S] [--zoom-users N]
                                  [--zoom-plan business|pro] [--no-rate-limits]
                                  [--redirect-uri PROVIDER=URI ...]

Prints one JSON object on stdout once every simulator answers:
``{"simulators": {name: dev_info, ...}, "demo": {...}}``, then serves until SIGINT or SIGTERM
and stops cleanly. ``--port N`` gives the first provider port N, the next N+1, and so on
(default: free ports).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from devstack.simulators import SIMULATORS, start_simulators, stop_simulators
from devstack.simulators.demo import build_demo_directory
from devstack.simulators.zoom import MAX_ZOOM_USERS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.simulators", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--provider",
        action="append",
        choices=sorted(SIMULATORS),
        help="simulator to run (repeatable; default: every provider whose module exists)",
    )
    parser.add_argument("--port", type=int, default=0, help="first port (default: free ports)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the demo data (default 7)")
    parser.add_argument(
        "--zoom-users",
        type=int,
        default=None,
        help=f"users in the paid Zoom account (up to {MAX_ZOOM_USERS:,})",
    )
    parser.add_argument("--zoom-plan", choices=["business", "pro"], default="business")
    parser.add_argument("--no-rate-limits", action="store_true", help="disable Zoom rate limiting")
    parser.add_argument(
        "--redirect-uri",
        action="append",
        default=[],
        metavar="PROVIDER=URI",
        help="redirect URI of the provider's default OAuth app (repeatable)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Start the simulators, print their URLs and credentials, serve until a signal arrives."""
    args = _parser().parse_args(argv)
    if args.zoom_users is not None and not 0 <= args.zoom_users <= MAX_ZOOM_USERS:
        print(f"--zoom-users must be between 0 and {MAX_ZOOM_USERS}", file=sys.stderr)
        return 2
    names: list[str] = args.provider or list(SIMULATORS)
    options: dict[str, dict[str, Any]] = {name: {} for name in names}
    for item in args.redirect_uri:
        provider, sep, uri = item.partition("=")
        if not sep or provider not in options:
            print(
                f"--redirect-uri expects PROVIDER=URI for a selected provider, got {item!r}", file=sys.stderr
            )
            return 2
        options[provider].setdefault("redirect_uris", []).append(uri)
    if "zoom" in options:
        options["zoom"].update({"plan": args.zoom_plan, "zoom_users": args.zoom_users})
        if args.no_rate_limits:
            options["zoom"]["rate_limits"] = False
    ports = {name: args.port + index for index, name in enumerate(names)} if args.port else None
    demo = build_demo_directory(seed=args.seed)
    started = start_simulators(names, demo=demo, seed=args.seed, ports=ports, options=options)
    if not started:
        print("no simulator could be started", file=sys.stderr)
        return 1
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        report = {
            "simulators": {name: item.dev_info() for name, item in started.items()},
            "demo": demo.summary(),
        }
        print(json.dumps(report, indent=2), flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stop_simulators(started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
