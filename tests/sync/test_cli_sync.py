"""``orgconnect sync --connection cnx_… --dev`` against the dev stack (docs/sync.md): the same job
runs in-process, prints the summary; plain errors and a non-zero status when it cannot run."""

from __future__ import annotations

import json

import pytest

from orgconnect.cli import main
from tests.sync.conftest import LinkedZoom, wait_synced


def test_sync_runs_the_job_here_and_prints_the_summary(
    linked: LinkedZoom, capsys: pytest.CaptureFixture[str]
) -> None:
    previous = wait_synced(linked.flow, linked.connection_id)
    linked.zoom.clear_requests()
    dev_file = str(linked.flow.stack.dev_file)
    assert main(["sync", "--connection", linked.connection_id, "--dev", dev_file]) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out)
    item = wait_synced(linked.flow, linked.connection_id)
    assert item["sync_id"] == summary["sync_id"] != previous["sync_id"]
    assert summary["status"] == "done" and summary["users_listed"] == item["users"]
    # Nothing changed at Zoom since the last sync: nothing written.
    assert summary["profiles_changed"] == 0 and summary["directory_items_written"] == 0
    assert summary["matched"] + summary["unmatched"] == len(linked.accounts)
    # One page per status (300 users a page), all through the sync's adapter.
    listed = [r for r in linked.zoom.requests() if r.get("path") == "/v2/users"]
    assert summary["api_calls"] == len(listed) == 3
    assert "users listed" in err and "api calls" in err  # the table, on stderr


def test_an_unknown_connection_is_a_plain_error(
    linked: LinkedZoom, capsys: pytest.CaptureFixture[str]
) -> None:
    dev_file = str(linked.flow.stack.dev_file)
    assert main(["sync", "--connection", "cnx_" + "0" * 24, "--dev", dev_file]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "unknown connection cnx_000000000000000000000000" in err
    assert "Traceback" not in err


def test_a_connection_being_synced_is_a_plain_error(
    linked: LinkedZoom, capsys: pytest.CaptureFixture[str]
) -> None:
    from orgconnect import sync_runtime

    wait_synced(linked.flow, linked.connection_id)
    job = sync_runtime.connection_sync_job()
    first = job.start(linked.connection_id)  # a sync that holds the lease (its chunks not run yet)
    assert first is not None
    try:
        dev_file = str(linked.flow.stack.dev_file)
        assert main(["sync", "--connection", linked.connection_id, "--dev", dev_file, "--quiet"]) == 2
        assert "already running" in capsys.readouterr().err
    finally:
        from orgconnect.workers.connection_sync_driver import resume_in_process

        assert resume_in_process(job, first).done


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": "revoked"}, "is revoked"),
        ({"status": "needs_reauthorization"}, "needs reauthorization"),
    ],
)
def test_a_connection_that_cannot_be_synced_is_a_plain_error(
    linked: LinkedZoom, capsys: pytest.CaptureFixture[str], change: dict[str, str], message: str
) -> None:
    from orgconnect import runtime
    from orgconnect.domain.secrets import new_id
    from orgconnect.store.dynamodb import to_item

    (item,) = [
        i for i in linked.flow.table_items(f"CONNECTION#{linked.connection_id}") if i["sk"] == "CONNECTION"
    ]
    other = new_id("cnx")
    copy = {**item, **change, "pk": f"CONNECTION#{other}", "connection_id": other}
    copy.pop("gsi1pk", None), copy.pop("gsi1sk", None)  # not in the OU: only the CLI reads it
    store = runtime.get_store()
    store.client.put_item(TableName=store.table_name, Item=to_item(copy))
    assert main(["sync", "--connection", other, "--dev", str(linked.flow.stack.dev_file)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and message in err and "Traceback" not in err
