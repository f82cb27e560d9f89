"""Issue 7 defects of the browser flow, end to end on the dev stack: the flow cookie is cleared on
every ending (1e), a provider's own error reaches the integrator as that error (1h), our PKCE
verifier toward the provider is not stored in clear (1k), and the integrator's PKCE challenge is
bound to the code (1c)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.flow.harness import Browser, Client, FlowStack

CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636 appendix B


def _cleared(response: httpx.Response) -> bool:
    """The response expires the flow cookie with the attributes it was set with (loopback http)."""
    values = response.headers.get_list("set-cookie")
    return any(
        v.startswith("orgconnect_flow=;") and "Max-Age=0" in v and "Path=/;" in v and "SameSite=Lax" in v
        for v in values
    )


def test_an_error_redirect_clears_the_flow_cookie(flow: FlowStack) -> None:
    client = flow.new_client(policy="never")
    browser = Browser(flow)
    outcome = browser.run(flow.authorize_url(client), consent="deny")
    assert outcome.params["error"] == "access_denied"
    assert _cleared(outcome.response)
    assert "orgconnect_flow" not in browser.http.cookies


def test_success_clears_the_flow_cookie(flow: FlowStack) -> None:
    client = flow.new_client(policy="never")
    browser = Browser(flow)
    outcome = browser.run(flow.authorize_url(client))
    assert outcome.kind == "code"
    assert _cleared(outcome.response)


def _provider_state(flow: FlowStack, browser: Browser, client: Client) -> str:
    start = browser.get(flow.authorize_url(client))
    to_zoom = browser.get(start.headers["location"])
    return parse_qs(urlsplit(to_zoom.headers["location"]).query)["state"][0]


@pytest.mark.parametrize("error", ["server_error", "temporarily_unavailable"])
def test_a_provider_error_reaches_the_integrator_as_that_error(flow: FlowStack, error: str) -> None:
    client = flow.new_client(policy="never")
    browser = Browser(flow)
    state = _provider_state(flow, browser, client)
    answer = browser.get(
        f"{flow.info['app_url']}/oauth/callback/zoom?{urlencode({'error': error, 'state': state})}"
    )
    outcome = browser.drive(answer)
    assert outcome.params["error"] == error
    assert outcome.params["state"] == "st-1"
    assert _cleared(outcome.response)


def test_the_pkce_verifier_toward_the_provider_is_sealed_at_rest(flow: FlowStack) -> None:
    client = flow.new_client(policy="never")
    before = {s["pk"] for s in flow.table_items("OAUTHSTATE#")}
    _provider_state(flow, Browser(flow), client)
    (item,) = [s for s in flow.table_items("OAUTHSTATE#") if s["pk"] not in before]
    assert "code_verifier" not in item
    assert str(item["sealed_code_verifier"]).startswith("v1.k1.")


def test_the_integrators_pkce_challenge_is_bound_to_the_code(flow: FlowStack) -> None:
    client = flow.new_client(policy="never")
    url = flow.authorize_url(client, code_challenge=CHALLENGE, code_challenge_method="S256")
    outcome = Browser(flow).run(url)
    assert outcome.kind == "code"
    (code,) = [c for c in flow.table_items("CODE#") if c["client_id"] == client.client_id]
    assert code["code_challenge"] == CHALLENGE


def test_a_plain_pkce_challenge_is_refused(flow: FlowStack) -> None:
    client = flow.new_client(policy="never")
    url = flow.authorize_url(client, code_challenge=CHALLENGE, code_challenge_method="plain")
    outcome = Browser(flow).run(url)
    assert (outcome.kind, outcome.params["error"], outcome.params["state"]) == (
        "error",
        "invalid_request",
        "st-1",
    )
