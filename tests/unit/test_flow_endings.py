"""How the browser flow ends, over the in-memory fakes: the code (with the integrator's PKCE
challenge), every RFC 6749 error with the integrator's state, and the flow cookie cleared with
the attributes it was set with (issue 7: 1a, 1c, 1e, 1h)."""

from __future__ import annotations

import pytest

from orgconnect.domain.codes import CODE_PURPOSE
from orgconnect.domain.provider_model import ProviderError, ProviderRefused, ProviderUnavailable
from tests.unit.flow_driver import Browser, World, integrator_params

CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636 appendix B


def _attributes(set_cookie: str) -> list[str]:
    """A Set-Cookie's name and attributes, without its value and lifetime."""
    name = set_cookie.split("=", 1)[0]
    return [name, *sorted(a for a in set_cookie.split("; ")[1:] if not a.startswith("Max-Age"))]


def _cleared_like_set(browser: Browser) -> None:
    first, last = browser.set_cookies[0], browser.set_cookies[-1]
    assert "Max-Age=3600" in first and "Max-Age=0" in last
    assert _attributes(first) == _attributes(last)
    assert not browser.cookies


def test_success_issues_a_code_bound_to_the_challenge_and_clears_the_cookie() -> None:
    world = World()
    browser = Browser(world)
    consent = browser.to_consent(world.authorize_url(code_challenge=CHALLENGE, code_challenge_method="S256"))
    params = integrator_params(browser.approve(consent))
    assert params["state"] == "st-1"
    issued = world.store.codes[world.hasher.digest(CODE_PURPOSE, params["code"])]
    assert issued.code_challenge == CHALLENGE
    assert browser.set_cookies[0].startswith("__Host-orgconnect_flow=")
    assert "Path=/;" in browser.set_cookies[0] and "Secure" in browser.set_cookies[0]
    _cleared_like_set(browser)


def test_without_a_challenge_the_code_has_none() -> None:
    world = World()
    browser = Browser(world)
    params = integrator_params(browser.approve(browser.to_consent(world.authorize_url())))
    assert world.store.codes[world.hasher.digest(CODE_PURPOSE, params["code"])].code_challenge is None


@pytest.mark.parametrize(
    "pkce",
    [
        {"code_challenge": CHALLENGE, "code_challenge_method": "plain"},
        {"code_challenge": CHALLENGE},
        {"code_challenge_method": "S256"},
        {"code_challenge": CHALLENGE[:-1], "code_challenge_method": "S256"},
        {"code_challenge": CHALLENGE + "A", "code_challenge_method": "S256"},
        {"code_challenge": CHALLENGE[:-1] + "=", "code_challenge_method": "S256"},
        {"code_challenge": CHALLENGE[:-1] + "é", "code_challenge_method": "S256"},
    ],
    ids=["plain", "no-method", "no-challenge", "short", "long", "padding", "multibyte"],
)
def test_a_bad_pkce_request_is_invalid_request_with_the_state(pkce: dict[str, str]) -> None:
    world = World()
    response = Browser(world).get(world.authorize_url(**pkce))
    params = integrator_params(response)
    assert (params["error"], params["state"]) == ("invalid_request", "st-1")
    assert not world.store.requests  # the link token is not consumed either
    assert not any(t.used_by for t in world.store._link_usage.values())


def test_the_local_http_stack_uses_a_plain_cookie_on_the_app_path() -> None:
    world = World(app_url="http://127.0.0.1:4010/dev")
    browser = Browser(world)
    browser.approve(browser.to_consent(world.authorize_url()))
    first = browser.set_cookies[0]
    assert first.startswith("orgconnect_flow=") and "Path=/dev;" in first and "Secure" not in first
    _cleared_like_set(browser)


@pytest.mark.parametrize(
    ("provider_error", "expected"),
    [
        ("access_denied", "access_denied"),
        ("server_error", "server_error"),
        ("temporarily_unavailable", "temporarily_unavailable"),
        ("invalid_scope", "server_error"),
    ],
)
def test_a_providers_error_reaches_the_integrator_as_that_error(provider_error: str, expected: str) -> None:
    world = World()
    browser = Browser(world)
    state = browser.to_provider(world.authorize_url())
    params = integrator_params(browser.callback(state, error=provider_error))
    assert (params["error"], params["state"]) == (expected, "st-1")
    (request,) = world.store.requests.values()
    assert request.outcome == ("denied" if expected == "access_denied" else "failed")
    _cleared_like_set(browser)


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (ProviderUnavailable("503 after retries"), "temporarily_unavailable"),
        (ProviderRefused("invalid_grant"), "server_error"),
        (ProviderRefused("denied", error="access_denied"), "access_denied"),
        (ProviderError("the token answer is not JSON"), "server_error"),
    ],
    ids=["unavailable", "refused", "denied", "malformed"],
)
def test_every_provider_failure_at_the_exchange_ends_with_an_error_and_no_stranded_request(
    failure: ProviderError, expected: str
) -> None:
    world = World()
    browser = Browser(world)
    state = browser.to_provider(world.authorize_url())
    world.providers.clients["zoom"].fail_with = failure
    params = integrator_params(browser.callback(state, code="provider-code"))
    assert (params["error"], params["state"]) == (expected, "st-1")
    (request,) = world.store.requests.values()
    assert str(request.step) == "done"
    _cleared_like_set(browser)


def test_deny_on_the_consent_page_clears_the_cookie() -> None:
    world = World()
    browser = Browser(world)
    params = integrator_params(browser.approve(browser.to_consent(world.authorize_url()), decision="deny"))
    assert params["error"] == "access_denied"
    _cleared_like_set(browser)


def test_a_refused_start_leaves_another_tabs_flow_alone() -> None:
    world = World()
    browser = Browser(world)
    state = browser.to_provider(world.authorize_url())
    refused = browser.get(world.authorize_url(scope="calendar"))
    assert integrator_params(refused)["error"] == "invalid_scope"
    assert not refused.cookies  # nothing of this refused start was set, so nothing is cleared
    answer = browser.callback(state, code="provider-code")  # the first flow goes on
    assert answer.status_code == 302 and not answer.cookies


def test_an_expired_request_shows_a_page_and_clears_the_cookie() -> None:
    world = World()
    browser = Browser(world)
    state = browser.to_provider(world.authorize_url())
    assert state
    world.now += 3600
    page = browser.get(f"{world.app_url}/organizational_unit_oauth/continue")
    assert page.status_code == 403 and "expired" in str(page.body)
    _cleared_like_set(browser)
