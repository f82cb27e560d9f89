"""Every way the flow can go: admin-proof policies, the chooser, calendars, refusals and denials."""

from __future__ import annotations

import pytest

from tests.flow.harness import Browser, FlowStack


def zoom_url(flow: FlowStack) -> str:
    return str(flow.info["simulators"]["zoom"]["base_url"])


def google_url(flow: FlowStack) -> str:
    return str(flow.info["simulators"]["google"]["base_url"])


def visited(browser: Browser, fragment: str) -> bool:
    return any(fragment in str(r.url) for r in browser.visited)


@pytest.mark.parametrize(
    ("policy", "proof_expected"), [("always", True), ("when_unlinked", True), ("never", False)]
)
def test_admin_proof_policy_for_an_unlinked_service_account(
    flow: FlowStack, policy: str, proof_expected: bool
) -> None:
    client = flow.new_client(policy=policy)
    browser = Browser(flow)
    assert browser.run(flow.authorize_url(client)).kind == "code"
    assert visited(browser, "/o/oauth2/v2/auth") is proof_expected


def test_policy_always_asks_again_for_a_linked_service_account(flow: FlowStack) -> None:
    client = flow.new_client(policy="always")
    assert Browser(flow).run(flow.authorize_url(client)).kind == "code"
    again = Browser(flow)
    assert again.run(flow.authorize_url(client)).kind == "code"
    assert visited(again, "/o/oauth2/v2/auth")


def test_a_non_admin_cannot_prove_admin_access(flow: FlowStack) -> None:
    client = flow.new_client(policy="always")
    member = next(
        e for e in flow.info["demo"]["zoom_active"] if e != flow.info["simulators"]["google"]["admin_email"]
    )
    outcome = Browser(flow).run(flow.authorize_url(client), sign_in_as={google_url(flow): member})
    assert outcome.kind == "page", outcome.params
    assert outcome.response.status_code == 403
    assert "not an administrator of example.com" in outcome.text
    assert "data-testid=return" in outcome.response.text
    assert "error=access_denied" in outcome.response.text
    assert not [o for o in flow.table_items("OU#") if o["client_id"] == client.client_id]


def test_chooser_lists_the_clients_categories_with_test_ids(flow: FlowStack) -> None:
    general = flow.new_client(policy="never")
    browser = Browser(flow)
    chooser = browser.get(browser.get(flow.authorize_url(general, provider=None)).headers["location"])
    for name in ("zoom_enterprise", "webex_enterprise", "ms_teams", "google_meet"):
        assert f"data-testid='provider-{name}'" in chooser.text
    assert "provider-indeed" not in chooser.text
    both = flow.new_client(policy="never", categories="general,recruiting")
    browser = Browser(flow)
    chooser = browser.get(browser.get(flow.authorize_url(both, provider="unknown_thing")).headers["location"])
    assert "data-testid='provider-indeed'" in chooser.text  # an unrecognized name shows the chooser


def test_conferencing_provider_name_skips_the_chooser(flow: FlowStack) -> None:
    client = flow.new_client(policy="never")
    browser = Browser(flow)
    start = browser.get(flow.authorize_url(client, provider="zoom_enterprise"))
    to_zoom = browser.get(start.headers["location"])
    assert to_zoom.headers["location"].startswith(zoom_url(flow) + "/oauth/authorize")


@pytest.mark.parametrize("choice", ["webex_enterprise", "ms_teams", "google_meet", "indeed"])
def test_every_conferencing_provider_can_be_connected(flow: FlowStack, choice: str) -> None:
    client = flow.new_client(policy="never", categories="general,recruiting")
    outcome = Browser(flow).run(flow.authorize_url(client, provider=None), choose=choice)
    assert outcome.kind == "code", outcome.text
    (connection,) = [c for c in flow.table_items("CONNECTION#") if c["client_id"] == client.client_id]
    assert connection["provider_name"] == choice


def test_capability_calendars_links_another_calendar_tenant(flow: FlowStack) -> None:
    client = flow.new_client(policy="never")
    browser = Browser(flow)
    chooser = browser.get(
        browser.get(flow.authorize_url(client, provider=None, capability="calendars")).headers["location"]
    )
    assert "data-testid='provider-google_workspace'" in chooser.text
    assert "data-testid='provider-microsoft_365'" in chooser.text
    outcome = browser.drive(chooser, choose="microsoft_365", ou_name="Group")
    assert outcome.kind == "code", outcome.text
    accounts = [a for a in flow.table_items("SERVICEACCOUNT#") if a["client_id"] == client.client_id]
    assert {a["domain"] for a in accounts} == {"example.com", "subsidiary.example"}
    assert len({a["organizational_unit_id"] for a in accounts}) == 1


def test_a_free_zoom_account_gets_a_clear_page_and_access_denied(flow: FlowStack) -> None:
    client = flow.new_client(policy="never")
    free_admin = flow.info["simulators"]["zoom"]["free_admin_email"]
    outcome = Browser(flow).run(flow.authorize_url(client), sign_in_as={zoom_url(flow): free_admin})
    assert outcome.kind == "page"
    assert "free plan" in outcome.text
    assert "paid Zoom plan" in outcome.text
    href = outcome.response.text.split("data-testid=return href='")[1].split("'")[0].replace("&amp;", "&")
    assert href.startswith(client.redirect_uri)
    assert "error=access_denied" in href
    assert "state=st-1" in href
    assert not [c for c in flow.table_items("CONNECTION#") if c["client_id"] == client.client_id]


def test_the_admin_denies_at_zoom(flow: FlowStack) -> None:
    client = flow.new_client(policy="never")
    outcome = Browser(flow).run(flow.authorize_url(client), provider_decision="deny")
    assert outcome.kind == "error"
    assert outcome.params["error"] == "access_denied"
    assert outcome.params["state"] == "st-1"


def test_the_admin_denies_on_the_consent_page(flow: FlowStack) -> None:
    client = flow.new_client(policy="never")
    before = len(flow.connection_secrets())
    outcome = Browser(flow).run(flow.authorize_url(client), consent="deny")
    assert outcome.kind == "error"
    assert outcome.params["error"] == "access_denied"
    assert not [o for o in flow.table_items("OU#") if o["client_id"] == client.client_id]
    assert len(flow.connection_secrets()) == before


def test_consent_needs_the_csrf_token(flow: FlowStack) -> None:
    client = flow.new_client(policy="never")
    browser = Browser(flow)
    consent = browser.run(flow.authorize_url(client), stop_at_consent=True)
    forged = browser.submit_consent(consent.response, csrf="forged")
    assert forged.status_code == 403
    approved = browser.submit_consent(consent.response)
    assert approved.status_code == 302
    assert (
        approved.headers["location"].startswith(client.redirect_uri)
        and "code=" in approved.headers["location"]
    )


def test_consent_from_another_browser_is_refused(flow: FlowStack) -> None:
    client = flow.new_client(policy="never")
    browser = Browser(flow)
    consent = browser.run(flow.authorize_url(client), stop_at_consent=True)
    assert Browser(flow).submit_consent(consent.response).status_code == 403


def test_the_ou_choice_cannot_be_tampered_with(flow: FlowStack) -> None:
    client, other = flow.new_client(policy="never"), flow.new_client(policy="never")
    assert Browser(flow).run(flow.authorize_url(other)).kind == "code"
    (others_ou,) = [o for o in flow.table_items("OU#") if o["client_id"] == other.client_id]
    browser = Browser(flow)
    consent = browser.run(flow.authorize_url(client), stop_at_consent=True)
    tampered = browser.submit_consent(consent.response, ou=others_ou["ou_id"])
    assert tampered.status_code == 400


def test_double_submitted_consent_issues_one_code(flow: FlowStack) -> None:
    client = flow.new_client(policy="never")
    browser = Browser(flow)
    consent = browser.run(flow.authorize_url(client), stop_at_consent=True)
    first = browser.submit_consent(consent.response)
    second = browser.submit_consent(consent.response)
    assert first.status_code == 302
    assert "code=" in first.headers["location"]
    assert second.status_code in (200, 403)
    assert "code=" not in second.headers.get("location", "")
