"""Server-rendered HTML pages of the authorization flow (no third-party assets, no scripts).

Every page and redirect carries the same protective headers: a strict CSP (the one stylesheet
is allowed by its hash), ``Referrer-Policy: no-referrer`` (anchors L4: codes and links must not
leak through Referer), ``X-Frame-Options: DENY`` and ``Cache-Control: no-store``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.shared.cookies import Cookie
from msgspec import Struct

# The one stylesheet, inlined in every page and allowed by its hash in the CSP.
CSS = (Path(__file__).parent / "flow.css").read_text().strip()
_CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def security_headers(*, form_targets: Iterable[str] = ()) -> dict[str, str]:
    """Headers for every page and redirect of the flow.

    ``form-action`` also governs where a form submission may redirect to (Chromium), so the
    consent page lists the integrator's redirect origin.
    """
    form_action = " ".join(["'self'", *sorted({_origin(t) for t in form_targets})])
    csp = (
        f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; img-src 'self' data:; "
        f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    )
    return {
        "Content-Security-Policy": csp,
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        **NO_STORE,
    }


def _document(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<meta name=robots content=noindex><title>{escape(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def page(
    title: str,
    body: str,
    *,
    status: int = 200,
    cookies: list[Cookie] | None = None,
    form_targets: Iterable[str] = (),
) -> Response[Any]:
    """An HTML page with the flow's headers."""
    return Response(
        status_code=status,
        content_type="text/html; charset=utf-8",
        body=_document(title, f"<h1>{escape(title)}</h1>{body}"),
        headers=security_headers(form_targets=form_targets),
        cookies=cookies or [],
    )


def redirect(location: str, *, cookies: list[Cookie] | None = None, status: int = 302) -> Response[Any]:
    """A redirect with the flow's headers (no Referer to the next site)."""
    return Response(
        status_code=status,
        body="",
        headers={"Location": location, **security_headers()},
        cookies=cookies or [],
    )


def error_page(
    title: str,
    message: str,
    *,
    status: int = 400,
    return_url: str | None = None,
) -> Response[Any]:
    """A plain human explanation; with ``return_url``, a button back to the application."""
    body = f"<p class=error role=alert data-testid=error-message>{escape(message)}</p>"
    if return_url:
        body += (
            f"<p><a class='button primary' data-testid=return href='{escape(return_url)}'>"
            "Return to the application</a></p>"
        )
    else:
        body += "<p class=muted>You can close this window and start again from the application.</p>"
    return page(title, body, status=status)


def chooser_page(
    *, client_name: str, capability: str, options: Sequence[tuple[str, str, str]]
) -> Response[Any]:
    """The provider chooser: one link per provider, ``data-testid="provider-<name>"``.

    ``options`` are (name, label, url).
    """
    what = "calendar service" if capability == "calendars" else "conferencing service"
    items = "".join(
        f"<li><a class=choice data-testid='provider-{escape(name)}' href='{escape(url)}'>"
        f"{escape(label)}</a></li>"
        for name, label, url in options
    )
    body = (
        f"<p>{escape(client_name)} asks you to connect your organization's {what}. Choose one:</p>"
        f"<ul class=choices>{items}</ul>"
    )
    return page(f"Choose a {what}", body)


class OuChoice(Struct, frozen=True):
    value: str  # "new" or an ou_ id
    label: str


def consent_page(
    *,
    client_name: str,
    action_url: str,
    csrf: str,
    redirect_uri: str,
    service_account: tuple[str, str],
    account: tuple[str, str, str],
    existing: Sequence[OuChoice],
    new_allowed: bool,
    default_name: str,
) -> Response[Any]:
    """Approve the association (SPEC 3 step 6). ``service_account`` is (provider label, domain);
    ``account`` is (provider label, account name, signed-in user)."""
    choices = []
    checked = True
    for ou in existing:
        choices.append(
            f"<label><input type=radio name=ou value='{escape(ou.value)}' "
            f"data-testid='ou-existing-{escape(ou.value)}'{' checked' if checked else ''}> "
            f"<span>Existing: <strong>{escape(ou.label)}</strong></span></label>"
        )
        checked = False
    if new_allowed:
        choices.append(
            f"<label><input type=radio name=ou value=new data-testid=ou-new{' checked' if checked else ''}>"
            "<span>A new organizational unit named</span></label>"
            "<label class=muted for=ou_name>Name</label>"
            f"<input type=text id=ou_name name=ou_name maxlength=100 value='{escape(default_name)}' "
            "data-testid=ou-name>"
        )
    body = (
        f"<p>{escape(client_name)} will be able to create meetings for every user of this organization "
        "through the account below. Nobody else needs to authorize anything.</p>"
        "<dl>"
        f"<dt>Calendar</dt><dd>{escape(service_account[0])}: {escape(service_account[1])}</dd>"
        f"<dt>{escape(account[0])}</dt><dd>{escape(account[1])}</dd>"
        f"<dt>Signed in as</dt><dd>{escape(account[2])}</dd>"
        "</dl>"
        f"<form method=post action='{escape(action_url)}'>"
        f"<input type=hidden name=csrf value='{escape(csrf)}'>"
        f"<fieldset><legend>Organizational unit</legend>{''.join(choices)}</fieldset>"
        "<div class=actions>"
        "<button type=submit name=decision value=deny data-testid=deny>Deny</button>"
        "<button type=submit name=decision value=approve class=primary data-testid=approve>Approve</button>"
        "</div></form>"
    )
    return page("Approve the connection", body, form_targets=[redirect_uri])


def done_page(client_name: str) -> Response[Any]:
    return page(
        "Already complete",
        f"<p>This authorization for {escape(client_name)} is finished. You can close this window.</p>",
    )
