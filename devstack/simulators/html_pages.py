"""Self-contained HTML pages of the simulated providers: sign-in and consent, errors."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from werkzeug.wrappers import Response


@dataclass(frozen=True)
class SignInOption:
    """One user to sign in as on a simulated sign-in page."""

    value: str
    label: str
    group: str = ""
    selected: bool = False


_PAGE_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#222}"
    "h1{font-size:1.4rem}.box{border:1px solid #ccc;border-radius:8px;padding:1.2rem}"
    "select,input[type=email]{width:100%;padding:.4rem;margin:.4rem 0 1rem;box-sizing:border-box}"
    "button{padding:.5rem 1.2rem;margin-right:.6rem;border-radius:6px;border:1px solid #888}"
    "button[value=approve]{background:#0b5cff;color:#fff;border-color:#0b5cff}"
    ".error{color:#a00}.muted{color:#666;font-size:.9rem}ul{padding-left:1.2rem}"
)


def html_page(title: str, body_html: str, status: int = 200) -> Response:
    """A self-contained HTML page (no third-party assets) with strict security headers."""
    document = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_PAGE_STYLE}</style></head>"
        f"<body><main class=box>{body_html}</main></body></html>"
    )
    response = Response(document, status=status, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def html_error_page(title: str, message: str, status: int = 400) -> Response:
    """An HTML error page; used where a provider must not redirect (bad client or redirect_uri)."""
    body = (
        f'<h1 data-testid="error-title">{html.escape(title)}</h1>'
        f'<p class=error data-testid="error-message">{html.escape(message)}</p>'
    )
    return html_page(title, body, status)


def render_signin_page(
    *,
    title: str,
    app_name: str,
    action_url: str,
    hidden: Mapping[str, str],
    options: Sequence[SignInOption],
    field_name: str = "user",
    scopes: Iterable[str] = (),
    message: str | None = None,
    email_field: str | None = None,
) -> Response:
    """A sign-in and consent page: pick a user, then Approve or Deny.

    The form posts ``hidden`` back to ``action_url`` together with ``<field_name>=<option
    value>`` and ``decision=approve|deny``. The submit buttons carry ``data-testid="approve"``
    and ``data-testid="deny"``; the select carries ``data-testid="signin-user"``. With
    ``email_field`` set, a text input of that name (``data-testid="signin-email"``) lets the
    user type any email instead (for directories too large to list); it wins when filled in.
    """
    hidden_inputs = "".join(
        f'<input type=hidden name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in hidden.items()
    )
    grouped: dict[str, list[SignInOption]] = {}
    for option in options:
        grouped.setdefault(option.group, []).append(option)
    select_parts: list[str] = []
    for group, members in grouped.items():
        rendered = "".join(
            f'<option value="{html.escape(o.value)}"{" selected" if o.selected else ""}>'
            f"{html.escape(o.label)}</option>"
            for o in members
        )
        select_parts.append(
            f'<optgroup label="{html.escape(group)}">{rendered}</optgroup>' if group else rendered
        )
    scope_list = "".join(f"<li>{html.escape(s)}</li>" for s in scopes)
    body = (
        f"<h1>{html.escape(title)}</h1>"
        + (f'<p class=error data-testid="signin-message">{html.escape(message)}</p>' if message else "")
        + f"<p><strong>{html.escape(app_name)}</strong> is requesting access to your account.</p>"
        + (f"<p class=muted>Permissions:</p><ul>{scope_list}</ul>" if scope_list else "")
        + f'<form method=post action="{html.escape(action_url)}">{hidden_inputs}'
        + f'<label for=signin-user>Sign in as</label><select id=signin-user name="{html.escape(field_name)}"'
        + f' data-testid="signin-user">{"".join(select_parts)}</select>'
        + (
            f"<label for=signin-email>or sign in with email</label><input id=signin-email type=email"
            f' name="{html.escape(email_field)}" data-testid="signin-email" autocomplete=off><br><br>'
            if email_field
            else ""
        )
        + '<button type=submit name=decision value=approve data-testid="approve">Approve</button>'
        + '<button type=submit name=decision value=deny data-testid="deny">Deny</button>'
        + "</form><p class=muted>Simulated provider: nothing leaves this machine.</p>"
    )
    return html_page(title, body)
