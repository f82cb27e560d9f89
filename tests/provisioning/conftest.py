"""A dev stack of its own (the delegated-access one: real SQS event source, a callback receiver):
the demo service account moves into an OU of its own with a Server-to-Server Zoom connection,
whose provisioning policy the tests set; the Zoom users of some demo people are removed first,
so that those people have no Zoom user before any match. Also the in-process Zoom simulator rig
of the modules that drive the workers directly: one loopback server a module, a fresh simulator a
test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from devstack.servers import RunningServer
from devstack.simulators.zoom import ZoomSimulator
from orgconnect.providers.api import close_pooled_clients
from tests.delegated.conftest import delegated_stack, receiver
from tests.flow.harness import FlowStack
from tests.flow.s2s_helpers import OuToken, add_connection, make_ou_token, zoom_credentials
from tests.provisioning.fakes import CLOCK_START, Rig, rig
from tests.wsgi_slot import Slot, slot_server

__all__ = ["delegated_stack", "provisioned_ou", "receiver"]


@dataclass
class ProvisionedOu:
    """The demo OU's token and Zoom connection, and people without a Zoom user (handed out once)."""

    flow: FlowStack
    ou: OuToken
    connection_id: str
    without_zoom: list[str]

    def person_without_zoom(self) -> str:
        return self.without_zoom.pop()

    @property
    def zoom_base(self) -> str:
        return str(self.flow.info["simulators"]["zoom"]["base_url"])


@pytest.fixture(scope="package")
def provisioned_ou(delegated_stack: FlowStack) -> ProvisionedOu:
    flow = delegated_stack
    demo = flow.demo_client()
    ou = make_ou_token(flow, demo)
    added = add_connection(flow, ou.access_token, zoom_credentials(flow))
    assert added.status_code == 201, added.text
    base = flow.info["simulators"]["zoom"]["base_url"]
    removed = flow.info["demo"]["zoom_active"][-12:]
    for email in removed:
        assert httpx.delete(f"{base}/_sim/users/{email}").status_code < 300
    return ProvisionedOu(
        flow,
        ou,
        added.json()["conferencing_connection"]["connection_id"],
        [*flow.info["demo"]["no_zoom"], *removed],
    )


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[RunningServer, Slot]]:
    """One loopback server for the module; each test plugs its own simulator in."""
    with slot_server("provisioning-zoom") as served:
        yield served


@pytest.fixture
def zoom(served: tuple[RunningServer, Slot]) -> Iterator[Rig]:
    """A fresh Zoom simulator on the module's server, and the ports wired to it."""
    server, slot = served
    sim = ZoomSimulator(clock=lambda: float(CLOCK_START))
    slot.app = sim
    yield rig(sim, server.url, clock=lambda: float(CLOCK_START))
    close_pooled_clients()
