"""AWS calls per request of the OU authorization flow, warm (run in a fresh process by `make bench`).

Starts the dev stack in this process, runs the whole flow twice with the scripted browser and
counts the botocore calls of each orgconnect request of the second run.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from devstack.browser import ScriptedBrowser
from devstack.instrument import count_aws_calls
from devstack.integrator import IntegratorConfig, authorization_url, mint_link_token
from devstack.stack import DevStack, StackOptions

STEPS = {
    "/organizational_unit_oauth": "start (link token consumed)",
    "/organizational_unit_oauth/continue": "continue (next step)",
    "/oauth/callback/google": "callback: admin proof",
    "/oauth/callback/zoom": "callback: Zoom code exchange",
    "/organizational_unit_oauth/consent": "consent approved (code issued)",
}


def _delta(after: Counter[str], before: Counter[str]) -> dict[str, int]:
    return {k: v - before[k] for k, v in after.items() if v - before[k]}


def run_flow(config: IntegratorConfig, calls: Counter[str]) -> list[dict[str, Any]]:
    """One whole flow; the AWS calls of each orgconnect request, in order."""
    steps: list[dict[str, Any]] = []
    mark = Counter(calls)

    def record(response: httpx.Response) -> None:
        nonlocal mark
        path = urlsplit(str(response.request.url)).path
        if path in STEPS:
            steps.append({"step": STEPS[path], "aws_calls": _delta(calls, mark)})
        mark = Counter(calls)

    url = authorization_url(config, mint_link_token(config), "bench", "zoom_enterprise")
    mark = Counter(calls)
    outcome = ScriptedBrowser(
        redirect_uri=config.redirect_uri, app_url=config.app_url, on_request=record
    ).run(url, ou_name="Bench")
    assert outcome.kind == "code", outcome.text
    before = Counter(calls)
    token = httpx.post(
        f"{config.api_url}/oauth/token",
        json={
            "grant_type": "authorization_code",
            "code": outcome.params["code"],
            "redirect_uri": config.redirect_uri,
            "client_id": config.client_id,
            "client_secret": config.client_secret,
        },
    )
    assert token.status_code == 200, token.text
    steps.append({"step": "code redemption (POST /oauth/token)", "aws_calls": _delta(calls, before)})
    return steps


def main() -> None:
    for key in [k for k in os.environ if k.startswith(("AWS_", "ORGCONNECT_", "POWERTOOLS_"))]:
        del os.environ[key]
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    stack = DevStack(StackOptions(state_dir=Path(tempfile.mkdtemp())))
    info = stack.start()
    try:
        config = IntegratorConfig().fill(info)
        results: dict[str, Any] = {}
        with count_aws_calls() as calls:
            for run in ("cold", "warm"):
                results[run] = run_flow(config, calls)
        print(json.dumps({"flow": results}))
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
