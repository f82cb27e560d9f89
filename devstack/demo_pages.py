"""The demo integrator's HTML: plain server-rendered pages, every value escaped, no script.

The pages work offline (no external asset), fit a 375 px screen, carry the session's CSRF token
in every form, and show tokens and codes of delegated access only as a short prefix.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

from werkzeug.wrappers import Response

from devstack.demo_sessions import DelegatedRequest, DemoSession, OrganizationLink, token_prefix

_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:44rem;margin:1.5rem auto;padding:0 1rem;"
    "line-height:1.5}code{background:#f3f3f3;padding:.1rem .3rem;word-break:break-all}"
    "a.button,button{display:inline-block;background:#1a5fb4;color:#fff;padding:.6rem 1rem;"
    "border:0;border-radius:.3rem;text-decoration:none;font:inherit;cursor:pointer}"
    "button.small{padding:.3rem .7rem;background:#3d3846}"
    "section{border-top:1px solid #ddd;margin-top:1.5rem}"
    ".card{border:1px solid #ccc;border-radius:.4rem;padding:.5rem .8rem;margin:.8rem 0;"
    "overflow-wrap:anywhere}.ok{color:#26a269}.bad{color:#c01c28}.muted{color:#666}"
    "label{display:block;overflow-wrap:anywhere}input[type=email]{width:100%;box-sizing:border-box;"
    "padding:.4rem;font:inherit}fieldset{border:1px solid #ddd;margin:.5rem 0}"
    ".actions{display:flex;gap:.5rem;flex-wrap:wrap;margin-top:.4rem}"
    ".notice{background:#fdf3d8;padding:.5rem .8rem;border-radius:.3rem}"
    "dl{margin:.3rem 0}dt{font-weight:600}dd{margin:0 0 .3rem 0}"
)
# Names of the dev.json `demo` groups, as a newcomer reads them.
DEMO_GROUPS = {
    "zoom_active": "has an active Zoom user",
    "zoom_pending": "Zoom user invited, not activated",
    "zoom_inactive": "Zoom user deactivated",
    "no_zoom": "no Zoom user",
    "other_tenant": "in the second calendar tenant (found once it is linked to the OU)",
    "ms_teams_unlicensed": "in the second calendar tenant, without a Teams licence",
    "google_meet_suspended": "suspended in Google Workspace (Google Meet inactive)",
}
EMAILS_PER_GROUP = 2


def e(value: object) -> str:
    """Escape any value for HTML text and attribute values."""
    return html.escape(str(value), quote=True)


def page(title: str, body: str, status: int = 200, *, refresh: bool = False) -> Response:
    """A complete HTML document with the demo's security headers."""
    meta = "<meta http-equiv=refresh content=2>" if refresh else ""
    document = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width,initial-scale=1'>{meta}"
        f"<title>{e(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{e(title)}</h1>{body}</body></html>"
    )
    return Response(
        document,
        status,
        content_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": _CSP,
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


def form(session: DemoSession, action: str, inner: str, testid: str) -> str:
    """A POST form carrying the session's CSRF token."""
    return (
        f"<form method=post action='{e(action)}' data-testid='{e(testid)}'>"
        f"<input type=hidden name=csrf_token value='{e(session.csrf_token)}'>{inner}</form>"
    )


def home(session: DemoSession, demo: Mapping[str, list[str]], *, delegated_ready: bool) -> Response:
    """The demo: connect the organization, see it, request delegated access, see the results."""
    notice = f"<p class=notice data-testid=notice>{e(session.notice)}</p>" if session.notice else ""
    session.notice = None
    body = (
        notice + "<p>This page plays the part of your application. It holds the demo client's secret and "
        "the demo service account's token, and talks to orgconnect from its server.</p>"
        "<section><h2>1. Connect the organization</h2>"
        "<p>Mints a fresh single-use link token and sends you through the OU flow.</p>"
        "<p><a class=button data-testid=start href='/start'>Connect Zoom to the organization</a></p>"
        "<p><a href='/start?provider=none'>Start with the provider chooser</a></p></section>"
        + _organization(session)
        + _request_form(session, demo, delegated_ready)
        + _results(session)
    )
    return page("Demo integrator", body, refresh=session.waiting)


def _organization(session: DemoSession) -> str:
    link = session.organization
    if link is None:
        return ""
    return (
        "<section data-testid=organization><h2>Your organization</h2>"
        f"<p class=muted>OU token <code data-testid=ou-token>{e(token_prefix(link.access_token))}</code> "
        "(redeemed by this page's server; only a prefix is shown)</p>"
        + (f"<p class=bad data-testid=ou-problem>{e(link.problem)}</p>" if link.problem else "")
        + (_organization_details(link) if link.organization else "")
        + form(session, "/organization/reload", "<button class=small>Reload</button>", "reload-ou")
        + "</section>"
    )


def _organization_details(link: OrganizationLink) -> str:
    ou = link.organization or {}
    accounts = "".join(
        f"<li>{e(a.get('provider_name', ''))} <code>{e(a.get('domain', ''))}</code></li>"
        for a in _dicts(ou.get("service_accounts"))
    )
    connections = "".join(
        f"<li class=card data-testid=connection data-provider='{e(c.get('provider_name', ''))}'>"
        f"<strong>{e(c.get('provider_name', ''))}</strong> {e(c.get('account_name', ''))}<br>"
        f"<span data-testid=connection-status class={'ok' if c.get('status') == 'connected' else 'bad'}>"
        f"{e(c.get('status', ''))}</span> <code class=muted>{e(c.get('connection_id', ''))}</code></li>"
        for c in _dicts(ou.get("conferencing_connections"))
    )
    return (
        f"<dl><dt>Name</dt><dd data-testid=ou-name>{e(ou.get('name', ''))}</dd>"
        f"<dt>Id</dt><dd><code data-testid=ou-sub>{e(ou.get('sub', ''))}</code></dd>"
        f"<dt>Calendar service accounts</dt><dd><ul>{accounts or '<li>none</li>'}</ul></dd></dl>"
        f"<h3>Conferencing connections</h3><ul style='padding:0;list-style:none'>"
        f"{connections or '<li>none</li>'}</ul>"
    )


def _request_form(session: DemoSession, demo: Mapping[str, list[str]], ready: bool) -> str:
    if not ready:
        return (
            "<section><h2>2. Delegated access</h2><p>The dev stack has no service account token "
            "(started without simulators).</p></section>"
        )
    # The per-provider groups (webex_active…) repeat these people: each email is offered once.
    shown: set[str] = set()
    picks: dict[str, list[str]] = {}
    for name in DEMO_GROUPS:
        fresh = [email for email in demo.get(name, []) if email not in shown][:EMAILS_PER_GROUP]
        shown.update(fresh)
        picks[name] = fresh
    groups = "".join(
        f"<fieldset><legend>{e(DEMO_GROUPS[name])}</legend>"
        + "".join(
            f"<label><input type=checkbox name=email value='{e(email)}' "
            f"data-testid='pick-{e(email)}'> {e(email)}</label>"
            for email in emails
        )
        + "</fieldset>"
        for name, emails in picks.items()
        if emails
    )
    inner = (
        f"{groups}<label>Another email (any address; an unknown one gets an error callback)"
        "<input type=email name=email data-testid=other-email maxlength=254 "
        "placeholder='someone@example.com'></label>"
        "<p><button data-testid=request-access>Request access</button></p>"
    )
    return (
        "<section><h2>2. Request delegated access</h2>"
        "<p>With the service account's token, this server asks orgconnect for access to calendar "
        "accounts by email (<code>POST /v1/service_account_authorizations</code>: one email, or a "
        "batch). orgconnect answers each one at this page's callback URL.</p>"
        + form(session, "/delegated/request", inner, "request-form")
        + "</section>"
    )


def _results(session: DemoSession) -> str:
    if not session.requests:
        return ""
    cards = "".join(_request_card(session, r) for r in reversed(session.requests.values()))
    return (
        "<section><h2>3. Callbacks received</h2><p>Each code is redeemed at "
        "<code>POST /oauth/token</code> with <code>redirect_uri</code> = its callback URL, then "
        "<code>GET /v1/userinfo</code> shows the account's profiles.</p>"
        f"{cards}</section>"
    )


def _request_card(session: DemoSession, request: DelegatedRequest) -> str:
    head = f"<strong>{e(request.email)}</strong><br>"
    callback = request.callback
    if callback is None:
        status = "<span class=muted data-testid=waiting>waiting for the callback…</span>"
    elif "code" in callback:
        status = (
            f"<span class=ok>callback with a code</span> "
            f"<code data-testid=callback-code>{e(token_prefix(str(callback['code'])))}</code>"
        )
    else:
        status = (
            f"<span class=bad>error callback</span> <code data-testid=callback-error>"
            f"{e(callback.get('error', ''))}</code> <code data-testid=callback-error-key>"
            f"{e(callback.get('error_key', ''))}</code><br><span class=muted>"
            f"{e(callback.get('error_description', ''))}</span>"
        )
    parts = [head, status]
    if request.redeeming:
        parts.append("<br><span class=muted>redeeming the code…</span>")
    if request.problem:
        parts.append(f"<p class=bad data-testid=problem>{e(request.problem)}</p>")
    if request.account:
        parts.append(_account(request))
    if request.access_token:
        parts.append(_account_actions(session, request))
    return f"<div class=card data-testid=account data-email='{e(request.email)}'>{''.join(parts)}</div>"


def _account(request: DelegatedRequest) -> str:
    account = request.account or {}
    data = (request.userinfo or {}).get("cronofy.data")
    data = data if isinstance(data, dict) else {}
    calendars = "".join(
        f"<li data-testid=profile data-provider='{e(p.get('provider_name', ''))}'>"
        f"{e(p.get('provider_name', ''))} <code>{e(p.get('profile_name', ''))}</code></li>"
        for p in _dicts(data.get("profiles"))
    )
    conferencing = "".join(_conferencing_profile(p) for p in _dicts(data.get("conferencing_profiles")))
    return (
        f"<dl><dt>Account</dt><dd><code data-testid=account-id>{e(account.get('account_id', ''))}</code>"
        f" token <code>{e(token_prefix(request.access_token))}</code></dd>"
        f"<dt>Calendar profiles</dt><dd><ul>{calendars or '<li>none</li>'}</ul></dd>"
        f"<dt>Conferencing profiles</dt><dd><ul>"
        f"{conferencing or '<li data-testid=no-conferencing-profile>none</li>'}</ul></dd></dl>"
    )


def _conferencing_profile(profile: Mapping[str, Any]) -> str:
    connected = profile.get("profile_connected") is True
    relink = profile.get("profile_relink_url")
    return (
        f"<li data-testid=conferencing-profile data-provider='{e(profile.get('provider_name', ''))}'"
        f" data-connected='{'true' if connected else 'false'}'>"
        f"{e(profile.get('provider_name', ''))} <code>{e(profile.get('profile_name', ''))}</code> "
        f"<span class={'ok' if connected else 'bad'}>{'connected' if connected else 'not connected'}</span>"
        + (f" <a href='{e(relink)}' rel=noreferrer>relink</a>" if _web_url(relink) else "")
        + "</li>"
    )


def _account_actions(session: DemoSession, request: DelegatedRequest) -> str:
    key = e(request.key)
    actions = form(
        session,
        f"/delegated/{key}/userinfo",
        "<button class=small>Reload profiles</button>",
        "reload-profiles",
    )
    if not _connected_conferencing(request):
        note = "<p class=muted>No connected conferencing profile: no meeting link.</p>"
        return f"<div class=actions>{actions}</div>{note}"
    actions += form(
        session,
        f"/delegated/{key}/meeting",
        "<button data-testid=create-meeting>Create a meeting link</button>",
        "meeting-form",
    )
    meeting, shown = request.meeting, ""
    if meeting:
        url = str(meeting.get("join_url", ""))
        link = f"<a data-testid=join-url href='{e(url)}' rel=noreferrer>{e(url)}</a>"
        shown = (
            f"<p>Meeting <code>{e(meeting.get('meeting_id', ''))}</code>: "
            f"{link if _web_url(url) else f'<code>{e(url)}</code>'}</p>"
        )
    return f"<div class=actions>{actions}</div>{shown}"


def _connected_conferencing(request: DelegatedRequest) -> bool:
    data = (request.userinfo or {}).get("cronofy.data")
    profiles = _dicts(data.get("conferencing_profiles")) if isinstance(data, dict) else []
    return any(p.get("profile_connected") is True for p in profiles)


def callback_page(params: Mapping[str, str], session: DemoSession | None, redeemable: bool) -> Response:
    """The OU flow's redirect URI: the code or error it got; a button to redeem a code we asked for."""
    rows = "".join(
        f"<dt>{e(k)}</dt><dd><code data-testid='{e(k)}'>{e(v)}</code></dd>" for k, v in params.items() if v
    )
    if params.get("code"):
        title = "Authorization complete"
        hint = "<p>Your backend now redeems this code at <code>POST /oauth/token</code>.</p>"
        if redeemable and session is not None:
            hint += form(
                session,
                "/organization/redeem",
                "<button data-testid=redeem-ou>Redeem it and show the organization</button>",
                "redeem-form",
            )
        else:
            hint += "<p class=muted>This browser did not start this flow here: the page keeps out of it.</p>"
    elif params.get("error"):
        title, hint = "Authorization did not complete", ""
    else:
        title = "Nothing received"
        hint = "<p>This is the redirect URI; it expects a <code>code</code> or an <code>error</code>.</p>"
    return page(title, f"<dl>{rows}</dl>{hint}<p><a href='/'>Back to the demo</a></p>")


def refused(message: str, status: int) -> Response:
    """A short page for a refused request (CSRF, unknown thing)."""
    return page("Request refused", f"<p>{e(message)}</p><p><a href='/'>Back to the demo</a></p>", status)


def _web_url(value: object) -> bool:
    """Only http(s) URLs become links (a provider's value never runs as javascript:)."""
    return isinstance(value, str) and value.lower().startswith(("https://", "http://"))


def _dicts(value: object) -> Iterable[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
