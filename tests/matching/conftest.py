"""A dev stack of its own (the delegated-access one: real SQS event source, a callback receiver),
so linking Zoom to the demo OU here does not change what the delegated-access tests see."""

import httpx
import pytest

from tests.delegated.conftest import delegated_stack, receiver
from tests.flow.harness import Browser, Client, FlowStack

__all__ = ["delegated_stack", "receiver", "zoom_linked"]


@pytest.fixture(scope="package")
def zoom_linked(delegated_stack: FlowStack) -> FlowStack:
    """The demo OU (the service account's) with a Zoom connection, and an empty Zoom request log."""
    flow = delegated_stack
    demo = Client(
        flow.info["client_id"],
        flow.info["client_secret"],
        flow.info["redirect_uri"],
        flow.info["service_account_id"],
    )
    outcome = Browser(flow).run(flow.authorize_url(demo, provider="zoom_enterprise"))
    assert outcome.kind == "code", outcome.text
    base = flow.info["simulators"]["zoom"]["base_url"]
    assert httpx.delete(f"{base}/_sim/requests").status_code < 300
    return flow
