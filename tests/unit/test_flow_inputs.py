"""Identifiers from outside are checked before they reach a key (1g), our PKCE verifier toward a
provider rests sealed (1k), and lost races end cleanly (1i) — over the in-memory fakes, which
refuse keys over 2048 bytes as DynamoDB does."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from msgspec.structs import asdict

from orgconnect.domain.authorization import Step, state_binding
from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.domain.ports import StepConflict
from orgconnect.domain.secrets import new_secret
from orgconnect.web import browser as flow_browser
from tests.conftest import api_event
from tests.unit.flow_driver import Browser, World, integrator_params

HUGE = "a" * 3000
WIDE = "é" * 1100  # 2200 bytes in UTF-8


@pytest.mark.parametrize("request_id", ["arq_" + HUGE, "arq_" + WIDE, "arq_0123", "arq_" + "0" * 24 + "\n"])
def test_a_forged_cookie_is_no_cookie(request_id: str) -> None:
    world = World()
    browser = Browser(world)
    browser.cookies["__Host-orgconnect_flow"] = f"{request_id}.{new_secret()}"
    page = browser.get(f"{world.app_url}/organizational_unit_oauth/continue")
    assert page.status_code == 403
    # And a start with it still works: the cookie is ignored before any read.
    assert browser.get(world.authorize_url()).status_code == 302


def test_read_flow_cookie_checks_length_and_pattern() -> None:
    good = f"arq_{'0' * 24}.{new_secret()}"
    for value, expected in [(good, True), (good + "x" * 200, False), (good.replace("0", "é", 1), False)]:
        event = api_event("GET", "/x", headers={"Cookie": f"__Host-orgconnect_flow={value}"})
        found = flow_browser.read_flow_cookie(APIGatewayProxyEvent(event), "https://orgconnect.example")
        assert (found is not None) is expected


@pytest.mark.parametrize("client_id", ["cli_" + HUGE, "cli_" + WIDE, "cli_" + "0" * 24 + "\n"])
def test_an_oversized_or_malformed_client_id_gets_a_page(client_id: str) -> None:
    world = World()
    page = Browser(world).get(world.authorize_url(client_id=client_id))
    assert page.status_code == 400 and "application is unknown" in str(page.body)


@pytest.mark.parametrize("token", [HUGE, WIDE, "short"])
def test_an_oversized_or_malformed_link_token_is_access_denied(token: str) -> None:
    world = World()
    params = integrator_params(Browser(world).get(world.authorize_url(ou_link_token=token)))
    assert (params["error"], params["state"]) == ("access_denied", "st-1")


@pytest.mark.parametrize("state", [HUGE, WIDE])
def test_an_oversized_provider_state_gets_a_page(state: str) -> None:
    world = World()
    browser = Browser(world)
    browser.to_provider(world.authorize_url())
    page = browser.callback(state, code="x")
    assert page.status_code == 400


def test_an_oversized_provider_name_in_the_path_gets_a_page() -> None:
    world = World()
    browser = Browser(world)
    browser.get(world.authorize_url(conferencing_provider_name=None))
    page = browser.get(f"{world.app_url}/organizational_unit_oauth/providers/{HUGE}")
    assert page.status_code == 403


def test_an_oversized_ou_choice_gets_a_page() -> None:
    world = World()
    browser = Browser(world)
    consent = browser.to_consent(world.authorize_url())
    csrf = str(consent.body).split("name=csrf value='")[1].split("'")[0]
    form = {"csrf": csrf, "decision": "approve", "ou": HUGE}
    page = browser.request("POST", f"{world.app_url}/organizational_unit_oauth/consent", form=form)
    assert page.status_code == 400


def test_a_consent_form_that_is_not_utf8_gets_a_page() -> None:
    world = World()
    browser = Browser(world)
    browser.to_consent(world.authorize_url())
    page = browser.request(
        "POST", f"{world.app_url}/organizational_unit_oauth/consent", body_bytes=b"ou=\xff\xfe"
    )
    assert page.status_code == 400


def test_the_provider_pkce_verifier_rests_sealed_and_bound_to_its_state() -> None:
    world = World()
    browser = Browser(world)
    state = browser.to_provider(world.authorize_url())
    zoom = world.providers.clients["zoom"]
    (verifier,) = zoom.sent_verifiers
    assert verifier is not None and len(verifier) >= 43
    (held,) = world.store.states.values()
    assert verifier not in repr(asdict(held))  # every field, the sealed one too
    assert held.sealed_code_verifier is not None
    digest = world.hasher.digest("provider_state", state)
    opened = world.sealer.open(
        held.sealed_code_verifier, associated_data=state_binding(digest, held.request_id)
    )
    assert opened.decode() == verifier
    browser.callback(state, code="provider-code")
    assert zoom.verifiers == [verifier]


def test_a_consent_that_lost_to_another_tab_shows_the_done_page() -> None:
    world = World()
    browser = Browser(world)
    consent = browser.to_consent(world.authorize_url())

    def another_tab_won(operation: str) -> None:
        if operation == "approve":
            (request,) = world.store.requests.values()
            world.store.requests[request.request_id] = request.advanced(step=Step.DONE, outcome="approved")

    world.store.before_write = another_tab_won
    page = browser.approve(consent)
    assert page.status_code == 200 and "Already complete" in str(page.body)
    assert world.vault.secrets == {}  # the secret this attempt created was deleted
    assert not world.store.codes


def test_a_dynamodb_failure_at_approval_is_temporarily_unavailable_and_leaves_no_secret() -> None:
    world = World()
    browser = Browser(world)
    consent = browser.to_consent(world.authorize_url())

    def busy(operation: str) -> None:
        if operation == "approve":
            raise TemporarilyUnavailable("TransactionConflict after retries")

    world.store.before_write = busy
    params = integrator_params(browser.approve(consent))
    assert (params["error"], params["state"]) == ("temporarily_unavailable", "st-1")
    assert world.vault.secrets == {}


def test_a_lost_race_on_the_provider_step_is_a_page_not_an_error() -> None:
    world = World()
    browser = Browser(world)
    state = browser.to_provider(world.authorize_url())

    def lost(operation: str) -> None:
        if operation == "save_request":
            raise StepConflict()

    world.store.before_write = lost
    page = browser.callback(state, code="provider-code")
    assert page.status_code == 409


def test_throttling_on_the_provider_step_ends_with_temporarily_unavailable() -> None:
    world = World()
    browser = Browser(world)
    state = browser.to_provider(world.authorize_url())

    def throttled(operation: str) -> None:
        if operation == "save_request":
            raise TemporarilyUnavailable("ProvisionedThroughputExceededException")

    world.store.before_write = throttled
    params = integrator_params(browser.callback(state, code="provider-code"))
    assert (params["error"], params["state"]) == ("temporarily_unavailable", "st-1")


@pytest.mark.parametrize("csrf", ["é", HUGE, ""])
def test_a_forged_csrf_token_gets_a_page(csrf: str) -> None:
    world = World()
    browser = Browser(world)
    browser.to_consent(world.authorize_url())
    form = {"csrf": csrf, "decision": "approve", "ou": "new"}
    page = browser.request("POST", f"{world.app_url}/organizational_unit_oauth/consent", form=form)
    assert page.status_code == 403
    assert not world.store.codes


def test_a_provider_removed_during_the_flow_ends_with_server_error() -> None:
    world = World()
    browser = Browser(world)
    state = browser.to_provider(world.authorize_url())
    del world.providers.clients["zoom"]
    params = integrator_params(browser.callback(state, code="provider-code"))
    assert (params["error"], params["state"]) == ("server_error", "st-1")


def test_the_integrators_state_is_bounded_in_bytes() -> None:
    world = World()
    params = integrator_params(Browser(world).get(world.authorize_url(state="é" * 1500)))  # 3000 bytes
    assert params["error"] == "invalid_request" and "state" not in params
    accepted = Browser(world).get(world.authorize_url(state="é" * 1000))  # 2000 bytes
    assert accepted.status_code == 302 and "/organizational_unit_oauth/continue" in str(
        accepted.headers["Location"]
    )
