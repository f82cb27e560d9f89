"""A dev stack of its own (the delegated-access one: real SQS event source, callbacks), its demo OU
linked to the Zoom simulator's paid account, whose webhooks the stack points at
``POST /webhooks/zoom``: user events, deauthorizations and relinks change that one connection, so
they must not share a stack with the matching tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.delegated.conftest import CallbackReceiver, delegated_stack, receiver
from tests.flow.harness import Browser, Client, FlowStack
from tests.flow.test_happy_path import redeem as redeem_ou_code
from tests.matching.test_matching_flow import account_token as delegated_tokens

__all__ = ["delegated_stack", "receiver"]


@dataclass
class DemoOu:
    """The demo OU (the demo service account's), its OU token and its Zoom connection."""

    flow: FlowStack
    client: Client
    ou_token: str
    ou_id: str

    @property
    def zoom(self) -> str:
        return str(self.flow.info["simulators"]["zoom"]["base_url"])

    def link_zoom(self) -> str:
        """Run the OU flow for Zoom (a first link, or a relink of the same account); the OU token."""
        outcome = Browser(self.flow).run(self.flow.authorize_url(self.client, provider="zoom_enterprise"))
        assert outcome.kind == "code", outcome.text
        tokens = redeem_ou_code(self.flow, self.client, outcome.params["code"])
        self.ou_token, self.ou_id = str(tokens["access_token"]), str(tokens["sub"])
        return self.ou_token

    def connection(self) -> dict[str, Any]:
        """The OU's Zoom connection item (one: relinks restore it in place)."""
        (found,) = [c for c in self.flow.table_items("CONNECTION#") if c.get("ou_id") == self.ou_id]
        return found

    def ensure_connected(self) -> dict[str, Any]:
        if self.connection()["status"] != "connected":
            self.link_zoom()
        return self.connection()

    def statuses(self) -> tuple[str, str]:
        """The connection's status in the OU's userinfo and in GET /v1/organizational_unit."""
        auth = {"Authorization": f"Bearer {self.ou_token}"}
        info = self.flow.api.get(f"{self.flow.info['api_url']}/v1/userinfo", headers=auth).json()
        ou = self.flow.api.get(f"{self.flow.info['api_url']}/v1/organizational_unit", headers=auth).json()
        (in_userinfo,) = info["cronofy.data"]["conferencing_connections"]
        (in_ou,) = ou["conferencing_connections"]
        return in_userinfo["status"], in_ou["status"]

    def managed_connection(self) -> dict[str, Any]:
        """The connection as GET /v1/organizational_unit shows it."""
        auth = {"Authorization": f"Bearer {self.ou_token}"}
        ou = self.flow.api.get(f"{self.flow.info['api_url']}/v1/organizational_unit", headers=auth)
        assert ou.status_code == 200, ou.text
        (connection,) = ou.json()["conferencing_connections"]
        return dict(connection)

    def zoom_requests(self) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.zoom}/_sim/requests").json()["requests"])

    def clear_zoom_requests(self) -> None:
        assert httpx.delete(f"{self.zoom}/_sim/requests").status_code < 300

    def zoom_user(self, email: str) -> dict[str, Any]:
        users = httpx.get(f"{self.zoom}/_sim/users").json()["users"]
        (found,) = [u for u in users if u["email"].lower() == email.lower()]
        return dict(found)

    def change_zoom_user(self, email: str, /, **changes: Any) -> None:
        """Change a user at Zoom: the simulator signs and delivers the user event at once."""
        response = httpx.patch(f"{self.zoom}/_sim/users/{email}", json=changes)
        assert response.status_code == 200, response.text

    def webhook_answers(self, event: str) -> list[int]:
        """The status our endpoint answered to each delivery of ``event`` (the simulator's log)."""
        return [
            r["status"]
            for r in self.zoom_requests()
            if r.get("kind") == "webhook" and r.get("event") == event
        ]


@pytest.fixture(scope="package")
def demo_ou(delegated_stack: FlowStack) -> DemoOu:
    flow = delegated_stack
    ou = DemoOu(flow, flow.demo_client(), "", "")
    ou.link_zoom()
    return ou


def account_token(flow: FlowStack, receiver: CallbackReceiver, email: str) -> str:
    """Delegated access for ``email`` (matched against the OU's Zoom on the way): its access token."""
    return str(delegated_tokens(flow, receiver, email)["access_token"])


def conferencing_profile(flow: FlowStack, access_token: str) -> dict[str, Any]:
    """The account's one conferencing profile, as GET /v1/userinfo shows it."""
    info = flow.api.get(
        f"{flow.info['api_url']}/v1/userinfo", headers={"Authorization": f"Bearer {access_token}"}
    )
    assert info.status_code == 200, info.text
    (profile,) = info.json()["cronofy.data"]["conferencing_profiles"]
    return dict(profile)
