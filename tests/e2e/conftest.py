"""The dev stack as a user runs it: ``python -m devstack`` in a subprocess, on free ports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


class DevStackProcess:
    def __init__(self, state_dir: Path, *extra: str) -> None:
        self.state_dir = state_dir
        self.dev_file = state_dir / "dev.json"
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ORGCONNECT_", "POWERTOOLS_"))
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "devstack",
                "--port-base",
                "0",
                "--state-dir",
                str(state_dir),
                "--quiet",
                *extra,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_ready(self, timeout: float = 90) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while not self.dev_file.exists():
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"dev stack exited {self.process.returncode}: {self.process.stderr.read()}"
                )  # type: ignore[union-attr]
            if time.monotonic() > deadline:
                raise TimeoutError("dev stack did not write dev.json")
            time.sleep(0.1)
        return dict(json.loads(self.dev_file.read_text()))

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@pytest.fixture(scope="session")
def dev_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    stack = DevStackProcess(tmp_path_factory.mktemp("devstack"))
    try:
        yield stack.wait_ready()
    finally:
        assert stack.stop() == 0
