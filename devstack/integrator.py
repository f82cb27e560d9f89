"""The demo integrator: a tiny stand-in for an integrator's own web app, for `make dev`.

- ``GET /`` explains the demo and links to ``/start``.
- ``GET /start`` does what an integrator's backend does: mints a fresh OU link token with the
  client secret (server to server), then sends the browser to orgconnect's authorization URL.
- ``GET /callback`` is the registered redirect URI: it shows the ``code`` or the ``error`` it got.

:func:`obtain_service_account_token` is what an integrator does once per customer with Enterprise
Connect: the administrator consents at the calendar provider (a scripted browser here), and the
code redeems for the service account's token (the dev stack writes it to dev.json).
"""

from __future__ import annotations

import html
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlencode

import httpx
from werkzeug.wrappers import Request, Response

_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5}code{background:#f3f3f3;padding:.1rem .3rem;word-break:break-all}"
    "a.button{display:inline-block;background:#1a5fb4;color:#fff;padding:.6rem 1rem;"
    "border-radius:.3rem;text-decoration:none}"
)


@dataclass
class IntegratorConfig:
    """Filled in once the API is up (the integrator is started before the client exists)."""

    api_url: str = ""
    app_url: str = ""
    client_id: str = ""
    client_secret: str = ""
    service_account_id: str = ""
    redirect_uri: str = ""

    def fill(self, values: Mapping[str, Any]) -> IntegratorConfig:
        """Take this config's fields from a dev.json-shaped mapping (other keys are ignored)."""
        for name in (f.name for f in fields(self)):
            if name in values:
                setattr(self, name, str(values[name]))
        return self


def _page(title: str, body: str, status: int = 200) -> Response:
    document = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return Response(
        document,
        status,
        content_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": _CSP,
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
            "Cache-Control": "no-store",
        },
    )


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


def create_integrator_app(config: IntegratorConfig) -> Callable[..., Any]:
    """The demo integrator as a WSGI app."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        if request.path == "/":
            response = _page(
                "Demo integrator",
                (
                    "<p>This page plays the part of your application. It holds the demo client's "
                    "secret and mints a fresh single-use link token each time you start.</p>"
                    "<p><a class=button data-testid=start href='/start'>"
                    "Connect Zoom to the organization</a></p>"
                    "<p><a href='/start?provider=none'>Start with the provider chooser</a></p>"
                ),
            )
        elif request.path == "/start":
            token = mint_link_token(config)
            provider = request.args.get("provider", "zoom_enterprise")
            url = authorization_url(
                config, token, secrets.token_urlsafe(12), None if provider == "none" else provider
            )
            response = Response(
                status=302,
                headers={"Location": url, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
            )
        elif request.path == "/callback":
            response = _callback(request)
        elif request.path == "/health":
            response = Response(json.dumps({"ok": True}), content_type="application/json")
        else:
            response = _page("Not found", "<p>Nothing here.</p>", 404)
        return response(environ, start_response)

    return app


def _callback(request: Request) -> Response:
    fields = {k: request.args.get(k, "") for k in ("code", "state", "error", "error_description")}
    rows = "".join(
        f"<dt>{html.escape(k)}</dt><dd><code data-testid='{html.escape(k)}'>{html.escape(v)}</code></dd>"
        for k, v in fields.items()
        if v
    )
    if fields["code"]:
        title = "Authorization complete"
        hint = "<p>Your backend now redeems this code at <code>POST /oauth/token</code>.</p>"
    elif fields["error"]:
        title = "Authorization did not complete"
        hint = ""
    else:
        title = "Nothing received"
        hint = "<p>This is the redirect URI; it expects a <code>code</code> or an <code>error</code>.</p>"
    return _page(title, f"<dl>{rows}</dl>{hint}<p><a href='/'>Start again</a></p>")
