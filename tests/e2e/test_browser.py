"""A person clicks through the whole flow in headless Chromium against `make dev`'s stack
(issue 4's "done when"), and every page is photographed into docs/screens/ for the README."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENS = ROOT / "docs" / "screens"
# Chromium's background services would try the (closed) network at every start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run `make browsers` (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def shoot(page: Any, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def test_an_administrator_connects_zoom_in_a_real_browser(dev_stack: dict[str, Any], chromium: Any) -> None:
    context = chromium.new_context(viewport={"width": 1024, "height": 720})
    page = context.new_page()
    page.goto(dev_stack["integrator_url"])
    shoot(page, "01-integrator")
    page.click("text=Start with the provider chooser")

    # Admin proof: the demo service account (example.com) belongs to no OU yet.
    page.wait_for_selector("[data-testid=approve]")
    assert page.url.startswith(dev_stack["simulators"]["google"]["base_url"])
    shoot(page, "02-google-admin-proof")
    page.click("[data-testid=approve]")

    page.wait_for_selector("[data-testid=provider-zoom_enterprise]")
    shoot(page, "03-provider-chooser")
    page.click("[data-testid=provider-zoom_enterprise]")

    page.wait_for_selector("[data-testid=approve]")
    assert page.url.startswith(dev_stack["simulators"]["zoom"]["base_url"])
    shoot(page, "04-zoom-authorize")
    page.click("[data-testid=approve]")

    page.wait_for_selector("[data-testid=ou-new]")
    assert page.is_checked("[data-testid=ou-new]")
    page.fill("[data-testid=ou-name]", "Example Corp")
    shoot(page, "05-consent")
    phone = context.new_page()
    phone.set_viewport_size({"width": 375, "height": 812})
    phone.goto(page.url)  # the same browser (cookie): the page reloads and resumes
    shoot(phone, "05-consent-phone")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375  # no horizontal scrolling
    phone.close()
    page.click("[data-testid=approve]")

    page.wait_for_selector("[data-testid=code]")
    assert page.url.startswith(dev_stack["redirect_uri"])
    shoot(page, "06-integrator-code")
    code = page.inner_text("[data-testid=code]")
    context.close()

    api = dev_stack["api_url"]
    tokens = httpx.post(
        f"{api}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": dev_stack["redirect_uri"],
            "client_id": dev_stack["client_id"],
            "client_secret": dev_stack["client_secret"],
        },
    )
    assert tokens.status_code == 200, tokens.text
    assert tokens.json()["organizational_unit"]["name"] == "Example Corp"
    access_token = tokens.json()["access_token"]
    userinfo = httpx.get(f"{api}/v1/userinfo", headers={"Authorization": f"Bearer {access_token}"})
    connections = userinfo.json()["cronofy.data"]["conferencing_connections"]
    assert [c["provider_name"] for c in connections] == ["zoom_enterprise"]


def test_a_used_link_in_another_browser_returns_an_error_to_the_integrator(
    dev_stack: dict[str, Any], chromium: Any
) -> None:
    from devstack.integrator import IntegratorConfig, authorization_url, mint_link_token

    config = IntegratorConfig().fill(dev_stack)
    link = authorization_url(config, mint_link_token(config), "state-7", "zoom_enterprise")
    first = chromium.new_context()
    first.new_page().goto(link)  # consumes the link token
    first.close()

    other = chromium.new_context()
    page = other.new_page()
    page.goto(link)
    page.wait_for_selector("[data-testid=error]")
    assert page.inner_text("[data-testid=error]") == "access_denied"
    assert page.inner_text("[data-testid=state]") == "state-7"
    shoot(page, "07-link-already-used")
    other.close()
