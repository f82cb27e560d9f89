"""A scripted browser for the OU authorization flow: it follows redirects, signs in at the
simulators, picks a provider on the chooser and answers the consent page, keeping its own
cookies like a real browser. Tests, `make bench` and integrators' own suites use it to run the
flow without Chromium (the browser tests use the real thing)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from devstack.simulators.signin import parse_signin_form


@dataclass
class Outcome:
    """Where a run stopped: at the integrator (code or error), or on a page."""

    kind: str  # "code" | "error" | "page"
    params: dict[str, str]
    response: httpx.Response

    @property
    def text(self) -> str:
        return re.sub(r"(?s)<style>.*?</style>", "", self.response.text)


class ScriptedBrowser:
    """One browser: its own cookie jar. ``redirect_uri`` is where the integrator takes over;
    ``on_request`` is called after every request (``make bench`` counts AWS calls with it)."""

    def __init__(
        self, *, redirect_uri: str, app_url: str, on_request: Callable[[httpx.Response], None] | None = None
    ) -> None:
        self.redirect_uri = redirect_uri
        self.app_url = app_url
        self.http = httpx.Client(timeout=30)
        self.visited: list[httpx.Response] = []
        self._on_request = on_request

    def _seen(self, response: httpx.Response) -> httpx.Response:
        self.visited.append(response)
        if self._on_request is not None:
            self._on_request(response)
        return response

    def get(self, url: str) -> httpx.Response:
        return self._seen(self.http.get(url))

    def run(self, url: str, **choices: Any) -> Outcome:
        return self.drive(self.get(url), **choices)

    def drive(
        self,
        response: httpx.Response,
        *,
        sign_in_as: dict[str, str] | None = None,
        provider_decision: str = "approve",
        consent: str = "approve",
        ou: str | None = None,
        ou_name: str | None = None,
        choose: str | None = None,
        stop_at_consent: bool = False,
        max_steps: int = 30,
    ) -> Outcome:
        """Follow the flow until the integrator's redirect_uri (or an unhandled page)."""
        redirect_uri = self.redirect_uri
        for _ in range(max_steps):
            if response.status_code in (301, 302, 303):
                location = response.headers["location"]
                if location.startswith(redirect_uri):
                    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
                    return Outcome("code" if "code" in params else "error", params, response)
                response = self.get(location)
                continue
            if response.status_code != 200:
                return Outcome("page", {}, response)
            text = response.text
            if "data-testid='provider-" in text and choose:
                match = re.search(rf"data-testid='provider-{re.escape(choose)}' href='([^']+)'", text)
                assert match, f"provider {choose} not offered"
                response = self.get(match.group(1).replace("&amp;", "&"))
                continue
            if "name=csrf" in text:
                if stop_at_consent:
                    return Outcome("page", {}, response)
                response = self.submit_consent(response, decision=consent, ou=ou, ou_name=ou_name)
                continue
            if 'data-testid="approve"' in text or "data-testid='approve'" in text:
                response = self._sign_in(response, provider_decision, sign_in_as)
                continue
            return Outcome("page", {}, response)
        raise AssertionError("the flow did not end")

    def submit_consent(
        self,
        page: httpx.Response,
        *,
        decision: str = "approve",
        ou: str | None = None,
        ou_name: str | None = None,
        csrf: str | None = None,
    ) -> httpx.Response:
        found = re.search(r"name=csrf value='([^']+)'", page.text)
        assert found
        checked = re.search(r"name=ou value='?([^' >]+)'?[^>]*checked", page.text)
        data = {
            "csrf": csrf if csrf is not None else found.group(1),
            "decision": decision,
            "ou": ou or (checked.group(1) if checked else "new"),
        }
        if ou_name is not None:
            data["ou_name"] = ou_name
        return self._seen(self.http.post(f"{self.app_url}/organizational_unit_oauth/consent", data=data))

    def _sign_in(
        self, page: httpx.Response, decision: str, sign_in_as: dict[str, str] | None
    ) -> httpx.Response:
        form = parse_signin_form(page.text)
        data = dict(form.hidden)
        choice = form.selected
        host = urlsplit(str(page.url)).netloc
        wanted = next(
            (email for base, email in (sign_in_as or {}).items() if urlsplit(base).netloc == host), None
        )
        if wanted:
            choice = next(
                value for value, label in form.options if wanted in (value, label) or wanted in label
            )
        if form.select_name and choice is not None:
            data[form.select_name] = choice
        data["decision"] = decision
        return self._seen(self.http.post(urljoin(str(page.url), form.action), data=data))
