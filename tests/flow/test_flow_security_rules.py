"""anchors.md section C rules that apply to the browser flow, one test (or more) per rule."""

from __future__ import annotations

import json
import os
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from orgconnect import runtime
from orgconnect.store import keys
from orgconnect.store.dynamodb import to_item
from tests.flow.harness import Browser, FlowStack

REGISTERED = "redirect_uri"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda u: u + "/",
        lambda u: u + "?x=1",
        lambda u: u.upper(),
        lambda u: u.replace("127.0.0.1", "127.0.0.1.evil.example"),
        lambda u: u.replace("http://", "https://"),
        lambda u: "https://evil.example/callback",
    ],
    ids=["trailing-slash", "extra-query", "case", "suffix-host", "scheme", "foreign"],
)
def test_r1_redirect_uri_is_compared_by_exact_string_match(
    flow: FlowStack, browser: Browser, mutate: object
) -> None:
    client = flow.new_client()
    url = flow.authorize_url(client, redirect_uri=mutate(client.redirect_uri))  # type: ignore[operator]
    response = browser.get(url)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "return address is not registered" in response.text


@pytest.mark.parametrize("problem", ["missing-redirect", "unknown-client", "missing-client", "two-redirects"])
def test_r2_bad_client_or_redirect_uri_shows_a_page_and_never_redirects(
    flow: FlowStack, browser: Browser, problem: str
) -> None:
    client = flow.new_client()
    cases: dict[str, dict[str, Any]] = {
        "missing-redirect": {"redirect_uri": None},
        "unknown-client": {"client_id": "cli_000000000000000000000000"},
        "missing-client": {"client_id": None},
        "two-redirects": {"redirect_uri": [client.redirect_uri, client.redirect_uri]},
    }
    response = browser.get(flow.authorize_url(client, **cases[problem]))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")


def test_r3_registration_requires_https_or_loopback(flow: FlowStack) -> None:
    from orgconnect.domain.clients import register_client
    from orgconnect.domain.errors import InvalidRequest

    for uri in ("http://app.example/cb", "https://app.example/cb#frag"):
        with pytest.raises(InvalidRequest):
            register_client(
                name="x",
                redirect_uris=[uri],
                store=runtime.get_clients(),
                hasher=runtime.get_hasher(),
                now=runtime.now(),
            )


@pytest.mark.parametrize(
    "extra",
    [
        {"return_to": "https://evil.example"},
        {"next": "//evil.example"},
        {"redirect": "https://evil.example"},
        {"redirect_url": "https://evil.example"},
    ],
)
def test_r4_no_open_redirect_from_query_input(flow: FlowStack, extra: dict[str, str]) -> None:
    client = flow.new_client()
    browser = Browser(flow)
    outcome = browser.run(flow.authorize_url(client, **extra))
    assert outcome.kind == "code"
    allowed = {
        urlsplit(u).netloc
        for u in (
            flow.info["app_url"],
            client.redirect_uri,
            *(s["base_url"] for s in flow.info["simulators"].values()),
        )
    }
    for response in browser.visited:
        if "location" in response.headers:
            assert urlsplit(response.headers["location"]).netloc in allowed
    # And with a bad scope, the error goes to the registered redirect_uri, not to return_to.
    error = Browser(flow).run(flow.authorize_url(client, scope="calendar", **extra))
    assert error.kind == "error"


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "unsupported_response_type"),
        ({"scope": "read_events"}, "invalid_scope"),
        ({"capabilities[]": ["conferencing", "calendars"]}, "invalid_request"),
        ({"capabilities[]": None}, "invalid_request"),
        ({"capabilities[]": "meetings"}, "invalid_request"),
        ({"ou_link_token": None}, "invalid_request"),
        ({"ou_link_token": "not-a-real-token"}, "access_denied"),
        ({"state": ["a", "b"]}, "invalid_request"),
    ],
    ids=[
        "implicit",
        "no-response-type",
        "scope",
        "two-capabilities",
        "no-capability",
        "bad-capability",
        "no-link",
        "unknown-link",
        "two-states",
    ],
)
def test_t3_and_section3_other_bad_parameters_redirect_with_an_error(
    flow: FlowStack, browser: Browser, overrides: dict[str, Any], error: str
) -> None:
    client = flow.new_client()
    outcome = browser.run(flow.authorize_url(client, **overrides))
    assert outcome.kind == "error"
    assert outcome.params["error"] == error
    assert outcome.params["error_description"]
    if "state" not in overrides:
        assert outcome.params["state"] == "st-1"


def test_l1_link_token_is_single_use_another_browser_is_refused(flow: FlowStack) -> None:
    client = flow.new_client()
    url = flow.authorize_url(client)
    assert Browser(flow).get(url).status_code == 302
    second = Browser(flow).run(url)
    assert second.kind == "error"
    assert second.params["error"] == "access_denied"
    assert "already been used" in second.params["error_description"]
    assert second.params["state"] == "st-1"


def test_l1_expired_link_token_is_refused_even_before_ttl_deletion(flow: FlowStack) -> None:
    client = flow.new_client()
    token = flow.link_token(client)
    digest = runtime.get_hasher().digest("ou_link_token", token)
    flow.aws("dynamodb").update_item(
        TableName=flow.info["aws"]["table_name"],
        Key=to_item(keys.link_token_key(digest)),
        UpdateExpression="SET expires_at = :t",
        ExpressionAttributeValues=to_item({":t": 5}),
    )
    outcome = Browser(flow).run(flow.authorize_url(client, link_token=token))
    assert outcome.kind == "error"
    assert outcome.params["error"] == "access_denied"


def test_l2_link_token_is_bound_to_the_client_that_minted_it(flow: FlowStack) -> None:
    owner, other = flow.new_client(), flow.new_client()
    token = flow.link_token(owner)
    outcome = Browser(flow).run(flow.authorize_url(other, link_token=token))
    assert outcome.kind == "error"
    assert outcome.params["error"] == "access_denied"
    # Still usable by its owner: the failed attempt did not consume it.
    assert Browser(flow).run(flow.authorize_url(owner, link_token=token)).kind == "code"


def test_l2_browser_cannot_widen_the_providers_of_the_application(flow: FlowStack, browser: Browser) -> None:
    client = flow.new_client(categories="general", policy="never")
    first = browser.get(flow.authorize_url(client, provider=None))
    chooser = browser.get(first.headers["location"])
    assert "data-testid='provider-zoom_enterprise'" in chooser.text
    assert "provider-indeed" not in chooser.text  # recruiting is not enabled for this client
    widened = browser.get(f"{flow.info['app_url']}/organizational_unit_oauth/providers/indeed")
    assert widened.status_code == 403
    assert "location" not in widened.headers


def test_l3_no_link_token_code_state_or_secret_in_the_logs(flow: FlowStack, service_logs: list[str]) -> None:
    client = flow.new_client()
    token = flow.link_token(client)
    browser = Browser(flow)
    outcome = browser.run(flow.authorize_url(client, link_token=token, state="integrator-state-xyz"))
    assert outcome.kind == "code"
    text = "\n".join(service_logs)
    assert "authorization flow started" in text  # the logger is captured
    secrets = [token, outcome.params["code"], client.client_secret]
    for response in browser.visited:
        location = response.headers.get("location", "")
        secrets += [v[0] for k, v in parse_qs(urlsplit(location).query).items() if k in ("code", "state")]
    cookie = browser.http.cookies.get("orgconnect_flow")
    if cookie:
        secrets.append(cookie.split(".", 1)[1])
    for secret in secrets:
        assert secret not in text


def test_l4_every_page_and_redirect_has_no_referrer_and_a_strict_csp(
    flow: FlowStack, browser: Browser
) -> None:
    client = flow.new_client(policy="never")
    outcome = browser.run(flow.authorize_url(client, provider=None), choose="zoom_enterprise")
    assert outcome.kind == "code"
    ours = [r for r in browser.visited if str(r.url).startswith(flow.info["app_url"])]
    assert len(ours) >= 4
    for response in ours:
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "no-store" in response.headers["cache-control"]
        if response.headers.get("content-type", "").startswith("text/html"):
            # No third-party (or any external) assets: no src= at all, links only to our pages.
            assert " src=" not in response.text
            for href in re.findall(r"href='([^']+)'", response.text):
                assert href.startswith(flow.info["app_url"]) or href.startswith(client.redirect_uri)


def _provider_redirect(flow: FlowStack, browser: Browser) -> str:
    client = flow.new_client(policy="never")
    start = browser.get(flow.authorize_url(client))
    to_zoom = browser.get(start.headers["location"])
    assert to_zoom.status_code == 302
    return str(to_zoom.headers["location"])


def test_p5_pkce_s256_toward_the_provider(flow: FlowStack, browser: Browser) -> None:
    query = parse_qs(urlsplit(_provider_redirect(flow, browser)).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43


def _zoom_callback(flow: FlowStack, browser: Browser) -> str:
    """Approve at the Zoom simulator and return our callback URL (not yet visited)."""
    authorize = _provider_redirect(flow, browser)
    page = browser.get(authorize)
    from devstack.simulators.signin import parse_signin_form

    form = parse_signin_form(page.text)
    data = {**form.hidden, "decision": "approve"}
    if form.select_name and form.selected:
        data[form.select_name] = form.selected
    answer = browser.http.post(str(page.url), data=data)
    return str(answer.headers["location"])


def test_s1_callback_from_another_browser_is_refused(flow: FlowStack, browser: Browser) -> None:
    callback = _zoom_callback(flow, browser)
    stranger = Browser(flow).get(callback)
    assert stranger.status_code == 403
    assert "another browser" in stranger.text
    assert "location" not in stranger.headers


def test_s1_s2_replayed_callback_is_refused(flow: FlowStack, browser: Browser) -> None:
    callback = _zoom_callback(flow, browser)
    first = browser.get(callback)
    assert first.status_code == 302
    replay = browser.get(callback)
    assert replay.status_code == 400
    assert "expired or was already used" in replay.text


def test_s2_state_older_than_ten_minutes_is_refused(
    flow: FlowStack, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    callback = _zoom_callback(flow, browser)
    real_now = runtime.now
    monkeypatch.setattr(runtime, "now", lambda: real_now() + 601)
    late = browser.get(callback)
    assert late.status_code == 400
    assert "expired" in late.text


def test_s2_parallel_callbacks_are_processed_once(flow: FlowStack, browser: Browser) -> None:
    from concurrent.futures import ThreadPoolExecutor

    callback = _zoom_callback(flow, browser)
    cookies = dict(browser.http.cookies)

    def hit(_: int) -> int:
        with httpx.Client(cookies=cookies, timeout=30) as http:
            return http.get(callback).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(hit, range(8)))
    assert statuses.count(302) == 1
    assert set(statuses) - {302} <= {400, 409}


def test_s3_state_is_echoed_exactly_on_success_and_error(flow: FlowStack) -> None:
    weird = "s p+a/c=e&x;é✓"
    client = flow.new_client(policy="never")
    ok = Browser(flow).run(flow.authorize_url(client, state=weird))
    assert ok.params["state"] == weird
    denied = Browser(flow).run(flow.authorize_url(client, state=weird), consent="deny")
    assert denied.params == {
        "error": "access_denied",
        "error_description": denied.params["error_description"],
        "state": weird,
    }


def test_m1_state_minted_for_zoom_is_refused_at_another_providers_callback(
    flow: FlowStack, browser: Browser
) -> None:
    callback = _zoom_callback(flow, browser)
    mixed = callback.replace("/oauth/callback/zoom", "/oauth/callback/webex")
    response = browser.get(mixed)
    assert response.status_code == 400
    assert "different provider" in response.text
    assert browser.get(callback).status_code == 400  # the state was consumed by the attempt


def test_e1_provider_tokens_wait_sealed_and_the_keyring_rotates(flow: FlowStack, browser: Browser) -> None:
    from orgconnect.domain.sealing import Sealer, key_from_material
    from orgconnect.store.vault import load_sealer

    client = flow.new_client(policy="never")
    consent = browser.run(flow.authorize_url(client), stop_at_consent=True)
    assert "name=csrf" in consent.response.text
    cookie = browser.http.cookies["orgconnect_flow"]
    request = runtime.get_flow_state().get_request(cookie.split(".")[0])
    assert request is not None and request.pending is not None
    sealed = request.pending.sealed_tokens
    zoom_tokens = [t for t in flow.simulator("zoom").tokens.live() if getattr(t, "kind", "") != "s2s"]
    assert sealed.startswith("v1.k1.")
    assert all(t.value not in sealed for t in zoom_tokens)
    plain = json.loads(runtime.get_sealer().open(sealed, associated_data=request.request_id.encode()))
    assert plain["access_token"]
    # Rotation: a JSON keyring with a new current key still opens what k1 sealed.
    sm = flow.aws("secretsmanager")
    # This stack's keyring (other stacks of the test session share the in-process AWS emulator).
    keys_secret = sm.describe_secret(SecretId=os.environ["ORGCONNECT_ENCRYPTION_KEYS_SECRET_ID"])
    material = sm.get_secret_value(SecretId=keys_secret["ARN"])["SecretString"]
    sm.put_secret_value(
        SecretId=keys_secret["ARN"],
        SecretString=json.dumps({"current": "k2", "keys": {"k1": material, "k2": "n" * 64}}),
    )
    runtime.reset()  # the keyring is cached per process; read the rotated one
    try:
        rotated = load_sealer(keys_secret["ARN"])
        assert json.loads(rotated.open(sealed, associated_data=request.request_id.encode())) == plain
        assert rotated.seal(b"x", associated_data=b"a").startswith("v1.k2.")
        assert isinstance(Sealer({"k1": key_from_material(material)}, "k1"), Sealer)
    finally:
        sm.put_secret_value(SecretId=keys_secret["ARN"], SecretString=material)
        runtime.reset()
    approved = browser.submit_consent(consent.response)
    assert approved.status_code == 302
    assert (
        approved.headers["location"].startswith(client.redirect_uri)
        and "code=" in approved.headers["location"]
    )
