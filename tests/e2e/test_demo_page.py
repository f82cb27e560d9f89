"""A newcomer's tour of the demo integrator page in headless Chromium, against `make dev`'s stack:
connect the organization, see it, ask for delegated access for demo emails (a batch with an
unknown one), see the callbacks, the accounts' profiles, create a meeting link; photographed into
docs/screens/."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_browser import chromium, shoot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
__all__ = ["chromium"]  # the Chromium fixture is the browser test's

UNKNOWN_EMAIL = "nobody.here@example.com"
WAIT_MS = 45_000  # the page reloads itself every 2 s while callbacks are outstanding


def connect_the_organization(page: Any, dev_stack: dict[str, Any]) -> None:
    """Through the OU flow from the demo page; the stack may have linked this OU before."""
    page.goto(dev_stack["integrator_url"])
    with page.expect_navigation():
        page.click("[data-testid=start]")
    for _ in range(4):  # admin proof (only while unlinked), Zoom's authorization, the consent
        page.wait_for_selector("[data-testid=approve], [data-testid=redeem-ou]")
        if page.url.startswith(dev_stack["redirect_uri"]):
            break
        with page.expect_navigation():  # the next wait must not see this page's button
            page.click("[data-testid=approve]")
    assert page.url.startswith(dev_stack["redirect_uri"]), page.url
    page.click("[data-testid=redeem-ou]")
    page.wait_for_selector("[data-testid=organization]")


def card(page: Any, email: str) -> Any:
    return page.locator(f"[data-testid=account][data-email='{email}']")


def test_a_newcomer_sees_the_payoff_on_the_demo_page(dev_stack: dict[str, Any], chromium: Any) -> None:
    context = chromium.new_context(viewport={"width": 1024, "height": 900})
    page = context.new_page()
    connect_the_organization(page, dev_stack)

    # The OU and its connections, read with the OU token this page's server redeemed.
    assert page.inner_text("[data-testid=ou-sub]").startswith("ou_")
    assert page.inner_text("[data-testid=ou-name]")
    zoom = page.locator("[data-testid=connection][data-provider=zoom_enterprise]")
    assert zoom.count() == 1
    assert zoom.locator("[data-testid=connection-status]").inner_text() == "connected"
    assert page.inner_text("[data-testid=ou-token]").endswith("…")
    shoot(page, "08-demo-organization")

    # A batch: a demo user who has Zoom, one whose Zoom user is only invited, an unknown address.
    email, pending_email = dev_stack["demo"]["zoom_active"][1], dev_stack["demo"]["zoom_pending"][0]
    page.check(f"[data-testid='pick-{email}']")
    page.check(f"[data-testid='pick-{pending_email}']")
    page.fill("[data-testid=other-email]", UNKNOWN_EMAIL)
    page.click("[data-testid=request-access]")

    known, pending, unknown = card(page, email), card(page, pending_email), card(page, UNKNOWN_EMAIL)
    known.locator("[data-testid=account-id]").wait_for(timeout=WAIT_MS)
    pending.locator("[data-testid=account-id]").wait_for(timeout=WAIT_MS)
    unknown.locator("[data-testid=callback-error]").wait_for(timeout=WAIT_MS)

    assert known.locator("[data-testid=callback-code]").inner_text().endswith("…")
    assert known.locator("[data-testid=account-id]").inner_text().startswith("acc_")
    calendar = known.locator("[data-testid=profile]")
    assert calendar.count() == 1
    assert calendar.get_attribute("data-provider") == "google_workspace"
    assert email in calendar.inner_text()
    assert known.locator("[data-testid=problem]").count() == 0
    # Matching: the active Zoom user's profile is connected; the invited one's is not.
    zoom_profile = known.locator("[data-testid=conferencing-profile][data-provider=zoom]")
    assert zoom_profile.get_attribute("data-connected") == "true"
    assert email in zoom_profile.inner_text()
    invited = pending.locator("[data-testid=conferencing-profile][data-provider=zoom]")
    assert invited.get_attribute("data-connected") == "false"
    assert pending.locator("[data-testid=create-meeting]").count() == 0

    assert unknown.locator("[data-testid=callback-error]").inner_text() == "not_found"
    assert unknown.locator("[data-testid=callback-error-key]").inner_text() == "account_not_found"
    assert unknown.locator("[data-testid=account-id]").count() == 0

    # One click: POST /v1/conferencing with the account token; the Zoom simulator knows the meeting.
    known.locator("[data-testid=create-meeting]").click()
    join = card(page, email).locator("[data-testid=join-url]")
    join.wait_for()
    join_url = join.get_attribute("href")
    assert join_url and join_url.startswith(dev_stack["simulators"]["zoom"]["base_url"] + "/j/")
    assert card(page, email).locator("[data-testid=problem]").count() == 0
    shoot(page, "09-demo-delegated-access")
    meeting = context.new_page()
    meeting.goto(join_url)
    assert meeting.inner_text("[data-testid=meeting-topic]") == f"Demo meeting for {email}"
    assert email in meeting.inner_text("body")  # hosted by the matched Zoom user
    meeting.close()

    # No token in full on the page: the service account's, for one.
    assert dev_stack["service_account_token"] not in page.content()

    phone = context.new_page()
    phone.set_viewport_size({"width": 375, "height": 812})
    phone.goto(dev_stack["integrator_url"])  # the same browser session
    card(phone, email).locator("[data-testid=account-id]").wait_for()
    shoot(phone, "09-demo-delegated-access-phone")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375  # no horizontal scrolling
    context.close()
