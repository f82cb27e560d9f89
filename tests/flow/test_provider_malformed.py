"""A provider that answers 200 with a body we cannot read (issue 7, 1a): the integrator gets an
RFC 6749 error with its state, the request ends, the flow cookie is cleared. Needs the
simulators' ``malformed`` fault kind."""

from __future__ import annotations

import pytest

from tests.flow.harness import Browser, FlowStack


def test_a_malformed_token_answer_ends_with_server_error(flow: FlowStack) -> None:
    client = flow.new_client(policy="never")
    try:
        flow.simulator("zoom").add_fault("token", "malformed", 1)
    except Exception as error:  # the simulators' ControlError for an unknown kind
        pytest.skip(f"the simulators have no malformed fault yet: {error}")
    outcome = Browser(flow).run(flow.authorize_url(client))
    assert outcome.kind == "error", outcome.text
    assert (outcome.params["error"], outcome.params["state"]) == ("server_error", "st-1")
    assert "orgconnect_flow=;" in outcome.response.headers.get("set-cookie", "")
    (request,) = [r for r in flow.table_items("AUTHREQ#") if r["client_id"] == client.client_id]
    assert (request["step"], request["outcome"]) == ("done", "failed")
