"""Helpers for the Microsoft, Google, Webex and Indeed simulator tests.

Most tests talk to a simulator in-process through ``httpx.WSGITransport`` (a real HTTP client,
no socket); the tests that need a real server (absolute paging links, timeouts) use
``serve_wsgi``. The sign-in helper drives the simulators' HTML pages the way a browser does: it
reads the form (action, hidden inputs, the user choices) and posts it back.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from devstack.simulators.common import pkce_challenge
from devstack.simulators.signin import parse_signin_form

CLOCK_START = 1_700_000_000.0  # 2023-11-14T22:13:20Z


def frozen_clock() -> Callable[[], float]:
    """A clock that only moves when the test advances the simulator's clock."""
    return lambda: CLOCK_START


def basic(client_id: str, client_secret: str) -> dict[str, str]:
    """An HTTP Basic Authorization header."""
    token = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def bearer(token: str) -> dict[str, str]:
    """A Bearer Authorization header."""
    return {"Authorization": f"Bearer {token}"}


def pkce_pair(method: str = "S256") -> tuple[str, str]:
    """A fresh ``(code_verifier, code_challenge)``."""
    verifier = secrets.token_urlsafe(48)
    return verifier, pkce_challenge(verifier, method)


def wsgi_client(app: Any, base_url: str) -> httpx.Client:
    """An httpx client that calls ``app`` in-process (no socket, no redirects followed)."""
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url=base_url, follow_redirects=False)


def redirect_params(response: httpx.Response) -> dict[str, str]:
    """The query parameters of a 302's Location (first value of each)."""
    assert response.status_code == 302, f"expected a redirect, got {response.status_code}: {response.text}"
    query = parse_qs(urlsplit(response.headers["Location"]).query, keep_blank_values=True)
    return {key: values[0] for key, values in query.items()}


def sign_in(
    http: httpx.Client,
    path: str,
    params: Mapping[str, str],
    *,
    user: str | None = None,
    decision: str = "approve",
) -> httpx.Response:
    """GET a sign-in page, pick ``user`` (an option value or a substring of its label; default:
    the preselected one) and press Approve or Deny. Returns the response to the POST."""
    page = http.get(path, params=dict(params))
    assert page.status_code == 200, f"sign-in page answered {page.status_code}: {page.text}"
    form = parse_signin_form(page.text)
    assert {"approve", "deny"} <= form.testids, "the page must carry the approve/deny test ids"
    choice = form.selected
    if user is not None:
        choice = next(
            (value for value, label in form.options if user in (value, label) or user in label), None
        )
        assert choice is not None, f"{user!r} is not offered on the sign-in page"
    data = dict(form.hidden)
    if form.select_name and choice is not None:
        data[form.select_name] = choice
    data["decision"] = decision
    return http.post(urljoin(str(page.url), form.action), data=data)
