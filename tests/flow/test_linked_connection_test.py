"""``POST /v1/organizational_unit/conferencing_connections/{id}/test`` for a connection linked in
the browser flow (issue 8 item 6, issue 9 item 4), through the local API Gateway (local IAM
enforced) against the Zoom simulator: a valid token is used as it is, an expiring one is refreshed
and the rotated refresh token saved, ``invalid_grant`` shows ``needs_reauthorization`` in userinfo
and ``GET /v1/organizational_unit``, an outage answers 503 and changes nothing."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.flow.harness import Browser, FlowStack, wait_for
from tests.flow.s2s_helpers import COLLECTION, redeem


def call(flow: FlowStack, method: str, path: str, token: str) -> httpx.Response:
    return flow.api.request(
        method, f"{flow.info['api_url']}{path}", headers={"Authorization": f"Bearer {token}"}
    )


class Linked:
    """An OU with one browser-linked Zoom connection, and the means to look at its secret."""

    def __init__(self, flow: FlowStack, token: str, connection_id: str) -> None:
        self.flow, self.token, self.connection_id = flow, token, connection_id
        (self.secret,) = [s for s in flow.connection_secrets() if s.endswith(connection_id)]
        self.sim = flow.simulator("zoom")

    def tokens(self) -> dict[str, Any]:
        value = self.flow.aws("secretsmanager").get_secret_value(SecretId=self.secret)["SecretString"]
        data: dict[str, Any] = json.loads(value)
        return data

    def expire(self) -> dict[str, Any]:
        """Make the stored access token expire within the safety margin (as an hour later would)."""
        data = {**self.tokens(), "expires_at": 0}
        self.flow.aws("secretsmanager").put_secret_value(SecretId=self.secret, SecretString=json.dumps(data))
        return data

    def test(self) -> httpx.Response:
        return call(self.flow, "POST", f"{COLLECTION}/{self.connection_id}/test", self.token)

    def refreshes(self) -> int:
        return sum(
            1
            for r in self.sim.requests()
            if r.get("path") == "/oauth/token"
            and (r.get("params") or {}).get("grant_type") == "refresh_token"
        )

    def statuses(self) -> tuple[str, str]:
        """The status in GET /v1/userinfo and in GET /v1/organizational_unit."""
        info = call(self.flow, "GET", "/v1/userinfo", self.token).json()
        ou = call(self.flow, "GET", "/v1/organizational_unit", self.token).json()
        (in_userinfo,) = info["cronofy.data"]["conferencing_connections"]
        (in_ou,) = ou["conferencing_connections"]
        return in_userinfo["status"], in_ou["status"]


@pytest.fixture
def linked(flow: FlowStack, browser: Browser) -> Linked:
    client = flow.new_client()
    outcome = browser.run(flow.authorize_url(client))
    assert outcome.kind == "code", outcome.text
    token = redeem(flow, client, outcome.params["code"])
    info = call(flow, "GET", "/v1/userinfo", token).json()
    (connection,) = info["cronofy.data"]["conferencing_connections"]
    found = Linked(flow, token, connection["connection_id"])
    # Linking queued the connection's sync (docs/sync.md): let it finish before counting calls.
    sync = f"DIRECTORY#{found.connection_id}"
    wait_for(lambda: any(i["sk"] == "SYNC" and i["state"] == "done" for i in flow.table_items(sync)), 30)
    found.sim.clear_requests()
    return found


def test_a_valid_token_is_tested_as_it_is(linked: Linked) -> None:
    before = linked.tokens()
    response = linked.test()
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["test"]["passed"] is True
    assert body["conferencing_connection"]["status"] == "connected"
    assert body["conferencing_connection"]["authorization_type"] == "oauth"
    assert linked.refreshes() == 0 and linked.tokens() == before
    assert [r["path"] for r in linked.sim.requests()] == ["/v2/users/me"]


def test_an_expiring_token_is_refreshed_and_the_rotation_saved(linked: Linked) -> None:
    old = linked.expire()
    response = linked.test()
    assert response.status_code == 200, response.text
    assert response.json()["test"]["passed"] is True
    new = linked.tokens()
    assert linked.refreshes() == 1
    assert new["refresh_token"] != old["refresh_token"] and new["access_token"] != old["access_token"]
    assert linked.sim.tokens.valid(old["refresh_token"], "refresh") is None  # Zoom retired it
    assert linked.sim.tokens.valid(new["refresh_token"], "refresh") is not None
    assert linked.test().status_code == 200 and linked.refreshes() == 1  # the new token is reused


def test_invalid_grant_shows_needs_reauthorization_everywhere(linked: Linked) -> None:
    old = linked.expire()
    linked.sim.add_fault("token", "invalid_grant")
    response = linked.test()
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["test"]["passed"] is False
    assert body["conferencing_connection"]["status"] == "needs_reauthorization"
    assert [e["key"] for e in body["test"]["errors"]["connection_id"]] == ["errors.needs_reauthorization"]
    assert linked.statuses() == ("needs_reauthorization", "needs_reauthorization")
    assert linked.tokens() == old  # kept: a relink replaces them


@pytest.mark.parametrize("kind", ["503", "timeout"])
def test_an_outage_answers_503_and_keeps_everything(linked: Linked, kind: str) -> None:
    old = linked.expire()
    linked.sim.add_fault("token", kind, count=2, delay_seconds=6.0)
    response = linked.test()
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "provider_unavailable" and response.headers["retry-after"]
    assert linked.tokens() == old
    assert linked.statuses() == ("connected", "connected")
