"""A dev stack of its own (the delegated-access one: real SQS event source, a callback receiver):
the demo service account moves into an OU of its own with a Server-to-Server Zoom connection,
whose provisioning policy the tests set; the Zoom users of some demo people are removed first,
so that those people have no Zoom user before any match."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from tests.delegated.conftest import delegated_stack, receiver
from tests.flow.harness import FlowStack
from tests.flow.s2s_helpers import OuToken, add_connection, make_ou_token, zoom_credentials

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
