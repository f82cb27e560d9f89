"""The sync's rate plan and rate stats against the Zoom simulator (docs/providers.md, docs/sync.md):
a connection's syncs pace at the deployment's plan (Pro by default) or the one an operator set
with ``orgconnect admin set-zoom-plan``, on the process's one limiter of the Zoom account; the
summary's API calls and 429s are the provider client's own counts (a 429 waited out included)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orgconnect.cli import main
from tests.sync.conftest import LinkedZoom, wait_synced


def medium_quota(linked: LinkedZoom) -> int:
    """The Medium (List users) quota of the process's limiter of the linked Zoom account."""
    from orgconnect.providers.rate_limit import shared_limiter

    (item,) = [
        i for i in linked.flow.table_items(f"CONNECTION#{linked.connection_id}") if i["sk"] == "CONNECTION"
    ]
    quota = shared_limiter("zoom", item["provider_account_id"], None, label="Zoom").limits("Medium").quota
    assert quota is not None
    return quota.limit


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main(list(args)) == 0, capsys.readouterr().err
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def set_zoom_plan(capsys: pytest.CaptureFixture[str], linked: LinkedZoom, plan: str) -> dict[str, Any]:
    """``orgconnect admin set-zoom-plan`` for the linked connection: the CLI's output."""
    dev = str(linked.flow.stack.dev_file)
    return cli(
        capsys, "admin", "set-zoom-plan", "--connection", linked.connection_id, "--plan", plan, "--dev", dev
    )


def test_a_connection_paces_at_the_plan_an_operator_set_else_the_deployments(
    linked: LinkedZoom, capsys: pytest.CaptureFixture[str]
) -> None:
    dev = str(linked.flow.stack.dev_file)
    wait_synced(linked.flow, linked.connection_id)
    try:
        chosen = set_zoom_plan(capsys, linked, "business")
        assert chosen["zoom_rate_plan"] == "business"
        cli(capsys, "sync", "--connection", linked.connection_id, "--dev", dev, "--quiet")
        assert medium_quota(linked) == 60  # Business+: 60 Medium calls a second
    finally:
        set_zoom_plan(capsys, linked, "default")
    cli(capsys, "sync", "--connection", linked.connection_id, "--dev", dev, "--quiet")
    assert medium_quota(linked) == 20  # the deployment's default: Pro


def test_set_zoom_plan_refuses_an_unknown_connection(
    linked: LinkedZoom, capsys: pytest.CaptureFixture[str]
) -> None:
    dev = str(linked.flow.stack.dev_file)
    unknown = "cnx_" + "0" * 24
    assert main(["admin", "set-zoom-plan", "--connection", unknown, "--plan", "pro", "--dev", dev]) == 2
    assert f"unknown connection {unknown}" in capsys.readouterr().err


def test_the_summary_counts_every_request_and_the_429s_waited_out(
    linked: LinkedZoom, capsys: pytest.CaptureFixture[str]
) -> None:
    wait_synced(linked.flow, linked.connection_id)
    zoom = linked.zoom
    zoom.clear_requests()
    zoom.add_fault("api", "429", count=1, path_prefix="/v2/users")
    try:
        summary = cli(
            capsys,
            "sync",
            "--connection",
            linked.connection_id,
            "--dev",
            str(linked.flow.stack.dev_file),
            "--quiet",
        )
    finally:
        zoom.clear_faults()
    listed = [r for r in zoom.requests() if r.get("path") == "/v2/users"]
    assert summary["status"] == "done"
    assert [r["status"] for r in listed].count(429) == summary["rate_limited_429s"] == 1
    assert summary["api_calls"] == len(listed) == 4  # a page per status, one of them asked twice
