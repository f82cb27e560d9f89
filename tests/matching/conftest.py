"""A dev stack of its own (the delegated-access one: real SQS event source, a callback receiver),
so linking Zoom to the demo OU here does not change what the delegated-access tests see."""

import httpx
import pytest

from tests.delegated.conftest import delegated_stack, receiver
from tests.flow.harness import Browser, FlowStack, wait_for

__all__ = ["delegated_stack", "receiver", "zoom_linked"]


@pytest.fixture(scope="package")
def zoom_linked(delegated_stack: FlowStack) -> FlowStack:
    """The demo OU (the service account's) with a Zoom connection whose directory the link's sync
    listed (once, through the sync worker), and an empty Zoom request log."""
    flow = delegated_stack
    demo = flow.demo_client()
    base = flow.info["simulators"]["zoom"]["base_url"]
    assert httpx.delete(f"{base}/_sim/requests").status_code < 300
    outcome = Browser(flow).run(flow.authorize_url(demo, provider="zoom_enterprise"))
    assert outcome.kind == "code", outcome.text

    def synced() -> list[dict[str, object]]:
        return [i for i in flow.table_items("DIRECTORY#") if i["sk"] == "SYNC" and i["state"] == "done"]

    # The link queued the connection's sync (docs/sync.md): one listing, through the sync worker.
    wait_for(lambda: bool(synced()), timeout=30)
    (sync,) = synced()
    assert sync["users"] == len([i for i in flow.table_items(str(sync["pk"])) if i["sk"].startswith("USER#")])
    requests = httpx.get(f"{base}/_sim/requests").json()["requests"]
    listings = [r for r in requests if r["method"] == "GET" and r["path"] == "/v2/users"]
    assert sorted(r["params"]["status"] for r in listings) == ["active", "inactive", "pending"]
    assert httpx.delete(f"{base}/_sim/requests").status_code < 300
    return flow
