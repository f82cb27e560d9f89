"""Binding a flow to one browser, and the public base URL of the pages.

The flow cookie is ``{request id}.{browser secret}``; the request stores only the keyed digest
of the secret, so the cookie cannot be forged or moved to another request, and a copy of the
table cannot be turned into a cookie. HttpOnly, SameSite=Lax (sent on the providers' top-level
redirects back to us). On https it is ``__Host-orgconnect_flow`` (Secure, Path=/, no Domain: no
subdomain can set or shadow it); on a loopback http origin (the dev stack) browsers refuse
Secure and ``__Host-`` cookies, so there it is ``orgconnect_flow`` on the app's path, not Secure.
"""

from __future__ import annotations

import hmac
import ipaddress
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from aws_lambda_powertools.shared.cookies import Cookie, SameSite
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from msgspec import Struct

from orgconnect.domain.authorization import REQUEST_ID, SECRET_VALUE
from orgconnect.domain.secrets import SecretHasher, new_secret

COOKIE_NAME = "orgconnect_flow"
MAX_COOKIE_HEADER = 8192
HOST_COOKIE_NAME = "__Host-" + COOKIE_NAME
BROWSER_PURPOSE = "flow_browser"
CSRF_PURPOSE = "flow_csrf"


class FlowCookie(Struct, frozen=True):
    request_id: str
    secret: str


def app_base_url(event: APIGatewayProxyEvent, configured: str) -> str:
    """The pages' public base URL: configured, else this request's host (and stage on execute-api)."""
    if configured:
        return configured.rstrip("/")
    host = event.headers.get("host") or event.request_context.domain_name or "localhost"
    scheme = (event.headers.get("x-forwarded-proto") or "https").split(",")[0].strip()
    stage = event.request_context.stage
    if host.endswith(".amazonaws.com") and stage:
        return f"{scheme}://{host}/{stage}"
    return f"{scheme}://{host}"


def _is_local_http(base_url: str) -> bool:
    parts = urlsplit(base_url)
    if parts.scheme != "http":
        return False
    try:
        return parts.hostname == "localhost" or ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:
        return False


class CookieSpec(Struct, frozen=True):
    """How the flow cookie is set for a base URL; clearing it must repeat the same attributes."""

    name: str
    path: str
    secure: bool


def cookie_spec(base_url: str, name: str = COOKIE_NAME) -> CookieSpec:
    """``name``: each browser flow has its own cookie (the OU flow's, Enterprise Connect's)."""
    if _is_local_http(base_url):
        return CookieSpec(name, urlsplit(base_url).path or "/", secure=False)
    return CookieSpec("__Host-" + name, "/", secure=True)


def read_flow_cookie(
    event: APIGatewayProxyEvent, base_url: str, name: str = COOKIE_NAME
) -> FlowCookie | None:
    """This browser's flow cookie, or None if absent or not one we could have set."""
    raw = event.headers.get("cookie")
    if not raw or len(raw) > MAX_COOKIE_HEADER:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed Cookie header is the same as none
        return None
    morsel = jar.get(cookie_spec(base_url, name).name)
    if morsel is None:
        return None
    request_id, dot, secret = morsel.value.partition(".")
    # Checked before the request id becomes a key (real DynamoDB refuses keys over 2048 bytes).
    if not dot or not REQUEST_ID.fullmatch(request_id) or not SECRET_VALUE.fullmatch(secret):
        return None
    return FlowCookie(request_id, secret)


def new_browser_binding(request_id: str, hasher: SecretHasher) -> tuple[FlowCookie, str]:
    """A new cookie for ``request_id`` and the digest to store on the request."""
    cookie = FlowCookie(request_id, new_secret())
    return cookie, hasher.digest(BROWSER_PURPOSE, cookie.secret)


def matches(cookie: FlowCookie | None, request_id: str, browser_digest: str, hasher: SecretHasher) -> bool:
    """This browser holds the cookie of this request (constant-time)."""
    return (
        cookie is not None
        and hmac.compare_digest(cookie.request_id, request_id)
        and hasher.matches(BROWSER_PURPOSE, cookie.secret, browser_digest)
    )


def set_cookie(cookie: FlowCookie, base_url: str, max_age: int, name: str = COOKIE_NAME) -> Cookie:
    spec = cookie_spec(base_url, name)
    return Cookie(
        name=spec.name,
        value=f"{cookie.request_id}.{cookie.secret}",
        path=spec.path,
        secure=spec.secure,
        http_only=True,
        same_site=SameSite.LAX_MODE,
        max_age=max_age,
    )


def clear_cookie(base_url: str, name: str = COOKIE_NAME) -> Cookie:
    """Expire the flow cookie: same name, path, Secure and SameSite as :func:`set_cookie`."""
    spec = cookie_spec(base_url, name)
    return Cookie(
        name=spec.name,
        value="",
        path=spec.path,
        secure=spec.secure,
        http_only=True,
        same_site=SameSite.LAX_MODE,
        max_age=0,
    )


def csrf_token(cookie: FlowCookie, hasher: SecretHasher) -> str:
    """The consent form's CSRF token: derived from the browser secret, so nothing is stored."""
    return hasher.digest(CSRF_PURPOSE, f"{cookie.request_id}.{cookie.secret}")


def csrf_ok(cookie: FlowCookie | None, submitted: str | None, hasher: SecretHasher) -> bool:
    """The submitted CSRF token is this browser's (compare_digest refuses non-ASCII: bytes here)."""
    return (
        cookie is not None
        and bool(submitted)
        and hmac.compare_digest(csrf_token(cookie, hasher).encode(), (submitted or "").encode())
    )
