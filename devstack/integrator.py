"""The demo integrator: a tiny stand-in for an integrator's own web app, for `make dev`.

- ``GET /`` is the demo page (devstack/demo_app.py): the organization, delegated access for the
  demo emails, the callbacks received, each account's profiles and a meeting link.
- ``GET /start`` does what an integrator's backend does: mints a fresh OU link token with the
  client secret (server to server), then sends the browser to orgconnect's authorization URL.
- ``GET /callback`` is the registered redirect URI: it shows the ``code`` or the ``error`` it got,
  and offers to redeem a code of a flow this browser started (its ``state``).

:func:`obtain_service_account_token` is what an integrator does once per customer with Enterprise
Connect: the administrator consents at the calendar provider (a scripted browser here), and the
code redeems for the service account's token (the dev stack writes it to dev.json).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlencode

import httpx
from werkzeug.wrappers import Request, Response

from devstack.demo_app import DemoPage
from devstack.demo_pages import refused


@dataclass
class IntegratorConfig:
    """Filled in once the API is up (the integrator is started before the client exists)."""

    api_url: str = ""
    app_url: str = ""
    client_id: str = ""
    client_secret: str = ""
    service_account_id: str = ""
    redirect_uri: str = ""
    # Enterprise Connect's result (dev.json), for delegated access; refreshed by the demo page.
    service_account_token: str = ""
    service_account_refresh_token: str = ""
    # dev.json's `demo` emails by group (zoom_active, zoom_pending, ...).
    demo: dict[str, list[str]] = field(default_factory=dict)

    def fill(self, values: Mapping[str, Any]) -> IntegratorConfig:
        """Take this config's fields from a dev.json-shaped mapping (other keys are ignored)."""
        for name in (f.name for f in fields(self)):
            if name == "demo" and isinstance(values.get(name), dict):
                self.demo = {
                    str(k): [str(e) for e in v] for k, v in values[name].items() if isinstance(v, list)
                }
            elif name != "demo" and values.get(name) is not None:
                setattr(self, name, str(values[name]))
        return self


def authorization_url(
    config: IntegratorConfig, link_token: str, state: str, provider: str | None = None
) -> str:
    """orgconnect's OU authorization URL for this demo client (SPEC section 3)."""
    query = [
        ("response_type", "code"),
        ("client_id", config.client_id),
        ("redirect_uri", config.redirect_uri),
        ("state", state),
        ("scope", "organizational_unit_use_integrations"),
        ("capabilities[]", "conferencing"),
        ("ou_link_token", link_token),
    ]
    if provider:
        query.append(("conferencing_provider_name", provider))
    return f"{config.app_url}/organizational_unit_oauth?{urlencode(query)}"


SERVICE_ACCOUNT_SCOPE = "service_account/accounts/manage service_account/resources/manage"


def enterprise_connect_url(
    config: IntegratorConfig, state: str, provider: str | None = None, delegated_scope: str = "read_write"
) -> str:
    """orgconnect's Enterprise Connect authorization URL for this demo client (SPEC 4)."""
    query = [
        ("response_type", "code"),
        ("client_id", config.client_id),
        ("redirect_uri", config.redirect_uri),
        ("scope", SERVICE_ACCOUNT_SCOPE),
        ("delegated_scope", delegated_scope),
        ("state", state),
    ]
    if provider:
        query.append(("provider_name", provider))
    return f"{config.app_url}/enterprise_connect/oauth/authorize?{urlencode(query)}"


def obtain_service_account_token(
    config: IntegratorConfig, *, provider: str = "google_workspace", sign_in_as: dict[str, str] | None = None
) -> dict[str, Any]:
    """Enterprise Connect end to end: the admin consents (scripted browser), the code is redeemed.

    Returns the token response (``access_token``, ``refresh_token``, ``service_account_id``, ...)."""
    from devstack.browser import ScriptedBrowser

    state = secrets.token_urlsafe(12)
    browser = ScriptedBrowser(redirect_uri=config.redirect_uri, app_url=config.app_url)
    outcome = browser.run(enterprise_connect_url(config, state, provider), sign_in_as=sign_in_as)
    if outcome.kind != "code" or outcome.params.get("state") != state:
        raise RuntimeError(f"Enterprise Connect did not return a code: {outcome.kind} {outcome.params}")
    response = httpx.post(
        f"{config.api_url}/oauth/token",
        json={
            "client_id": config.client_id,
            "client_secret": config.client_secret,
            "grant_type": "authorization_code",
            "code": outcome.params["code"],
            "redirect_uri": config.redirect_uri,
        },
        timeout=30,
    )
    response.raise_for_status()
    return dict(response.json())


def mint_link_token(config: IntegratorConfig, client: httpx.Client | None = None) -> str:
    """POST /v1/organizational_unit_authorization_link_tokens, as an integrator backend does."""
    http = client or httpx.Client(timeout=10)
    response = http.post(
        f"{config.api_url}/v1/organizational_unit_authorization_link_tokens",
        headers={"Authorization": f"Bearer {config.client_secret}"},
        json={"service_account_id": config.service_account_id},
    )
    response.raise_for_status()
    return str(response.json()["organizational_unit_authorization_link_token"]["ou_link_token"])


def create_integrator_app(
    config: IntegratorConfig, *, http: httpx.Client | None = None
) -> Callable[..., Any]:
    """The demo integrator as a WSGI app (``http``: the client for orgconnect's API; None: its own)."""
    demo = DemoPage(config, http=http)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        response = demo.route(request)
        if response is None and request.path == "/start":
            provider = request.args.get("provider", "zoom_enterprise")
            token = mint_link_token(config, demo.api.http)
            response = demo.start_flow(
                request,
                lambda state: authorization_url(
                    config, token, state, None if provider == "none" else provider
                ),
            )
        elif response is None and request.path == "/callback":
            response = demo.flow_callback(request)
        elif response is None and request.path == "/health":
            response = Response(json.dumps({"ok": True}), content_type="application/json")
        elif response is None:
            response = refused("Nothing here.", 404)
        return response(environ, start_response)

    return app
