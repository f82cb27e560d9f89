"""A provider that answers 200 with a body we cannot use (HTML, empty, wrong types) ends the flow
with an RFC 6749 ``server_error`` and the integrator's state: never a 500, never a stranded flow;
the request ends and the flow cookie is cleared."""

from __future__ import annotations

from typing import Any

import pytest

from tests.flow.harness import Browser, FlowStack


@pytest.mark.parametrize(
    "fault",
    [
        {"target": "token"},
        {"target": "token", "body": ""},
        {"target": "token", "body": '{"access_token": 5, "token_type": []}'},
        {"target": "api", "path_prefix": "/v2/users/me"},
        {"target": "api", "path_prefix": "/v2/users/me", "body": '{"id": 5, "email": null}'},
    ],
    ids=["token-html", "token-empty", "token-wrong-types", "account-html", "account-wrong-types"],
)
def test_a_malformed_provider_answer_reaches_the_integrator_as_server_error(
    flow: FlowStack, fault: dict[str, Any]
) -> None:
    zoom = flow.simulator("zoom")
    client = flow.new_client(policy="never")
    zoom.add_fault(kind="malformed", count=1, **fault)
    outcome = Browser(flow).run(flow.authorize_url(client))
    assert outcome.kind == "error"
    assert (outcome.params["error"], outcome.params["state"]) == ("server_error", "st-1")
    assert not [c for c in flow.table_items("CONNECTION#") if c["client_id"] == client.client_id]
    assert "orgconnect_flow=;" in outcome.response.headers.get("set-cookie", "")
    (request,) = [r for r in flow.table_items("AUTHREQ#") if r["client_id"] == client.client_id]
    assert (request["step"], request["outcome"]) == ("done", "failed")
