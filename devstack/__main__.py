"""``python -m devstack`` (what ``make dev`` runs): serve orgconnect on 127.0.0.1 without Docker."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path

from devstack.aws import DYNAMODB_BACKENDS
from devstack.dynamodb_local import DynamoDBLocalNotInstalled
from devstack.stack import (
    DEFAULT_DYNAMODB_LOCAL_PORT,
    DEFAULT_PORTS,
    DEFAULT_SIMULATOR_PORTS,
    DevStack,
    StackOptions,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument(
        "--port-base",
        type=int,
        default=None,
        help="use consecutive ports from here instead of the defaults; 0 = free ports",
    )
    parser.add_argument("--state-dir", type=Path, default=Path(".orgconnect"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--zoom-users", type=int, default=50, help="users in the demo Zoom account (≤ 100000)"
    )
    parser.add_argument("--no-simulators", action="store_true")
    parser.add_argument(
        "--dynamodb",
        choices=DYNAMODB_BACKENDS,
        default="moto",
        help="DynamoDB backend: moto (default) or AWS's DynamoDB Local (needs `make dynamodb-local`)",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the dev.json path")
    return parser.parse_args(argv)


def _ports(base: int | None) -> tuple[dict[str, int], dict[str, int]]:
    if base is None:
        return {**DEFAULT_PORTS, "dynamodb": DEFAULT_DYNAMODB_LOCAL_PORT}, dict(DEFAULT_SIMULATOR_PORTS)
    # DynamoDB Local comes last, so the other ports keep their offsets from the base.
    names = [*DEFAULT_PORTS, *DEFAULT_SIMULATOR_PORTS, "dynamodb"]
    chosen = {n: (0 if base == 0 else base + i) for i, n in enumerate(names)}
    return {n: chosen[n] for n in [*DEFAULT_PORTS, "dynamodb"]}, {
        n: chosen[n] for n in DEFAULT_SIMULATOR_PORTS
    }


def summary(info: dict[str, object], dev_file: Path) -> str:
    sims = info.get("simulators") or {}
    lines = [
        "orgconnect dev stack is up (state is in memory; Ctrl-C stops everything)",
        f"  API / app         {info['api_url']}",
        f"  API docs          {info['docs_url']}",
        f"  AWS emulator      {info['aws_endpoint_url']}",
        *(
            [f"  DynamoDB Local    {info['dynamodb_endpoint_url']}"]
            if info.get("dynamodb") == "local"
            else []
        ),
        f"  demo integrator   {info['integrator_url']}",
        *(f"  {name + ' simulator':<17} {s['base_url']}" for name, s in sims.items()),  # type: ignore[attr-defined]
        f"  client_id         {info['client_id']}",
        f"  service account   {info['service_account_id']}",
        f"  credentials       {dev_file} (client_secret and simulator apps)",
        f"  start the flow    {info['start_url']}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    ports, simulator_ports = _ports(args.port_base)
    stack = DevStack(
        StackOptions(
            ports=ports,
            simulator_ports=simulator_ports,
            simulators=not args.no_simulators,
            seed=args.seed,
            zoom_users=args.zoom_users,
            state_dir=args.state_dir,
            dynamodb=args.dynamodb,
        )
    )
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    try:
        info = stack.start()
    except DynamoDBLocalNotInstalled as error:
        print(f"devstack: cannot start: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(
            f"devstack: cannot start: {error} (is another `make dev` running? try --port-base 0)",
            file=sys.stderr,
        )
        return 1
    print(str(stack.dev_file) if args.quiet else summary(info, stack.dev_file), flush=True)
    if not args.quiet:
        print(json.dumps({"dev_json": str(stack.dev_file)}), flush=True)
    # A signal may be delivered to a server thread; CPython then only flags it, and runs the handler
    # when the main thread next executes bytecode. A blocking wait() would never get there.
    while not stopping.wait(timeout=0.2):
        pass
    stack.stop()
    print("orgconnect dev stack stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
