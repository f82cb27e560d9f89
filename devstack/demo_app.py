"""The demo integrator's routes: the demo page, its forms, and the delegated-access callback receiver.

Forms are POSTs with the session's CSRF token (and refused when the browser says the request
came from another site); every POST answers with a redirect to the page (post/redirect/get).
The callback receiver takes orgconnect's JSON POSTs at ``/delegated/callback/{key}``: the key is
unguessable and names one request, whose ``state`` must come back unchanged. A code is redeemed
once, in the background, so the callback is answered at once.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
from werkzeug.wrappers import Request, Response

from devstack.demo_api import DELEGATED_SCOPE, ApiProblem, DemoApi
from devstack.demo_pages import callback_page, home, refused
from devstack.demo_sessions import (
    SESSION_COOKIE,
    DelegatedRequest,
    DemoSession,
    OrganizationLink,
    SessionStore,
)

if TYPE_CHECKING:
    from devstack.integrator import IntegratorConfig

log = logging.getLogger("devstack.integrator")

MAX_CALLBACK_BYTES = 16 * 1024
MAX_EMAILS = 50  # the API's batch limit
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}$")
_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_DELEGATED = re.compile(r"^/delegated/([A-Za-z0-9_-]{16,64})/(userinfo|meeting)$")


class DemoPage:
    """State and handlers of the demo page; :meth:`route` answers one request or None."""

    def __init__(self, config: IntegratorConfig, *, http: httpx.Client | None = None) -> None:
        self.config = config
        self.api = DemoApi(config, http)
        self.sessions = SessionStore()
        self.background = ThreadPoolExecutor(max_workers=4, thread_name_prefix="demo-redeem")

    # Sessions -----------------------------------------------------------------------------

    def session_of(self, request: Request) -> DemoSession | None:
        """The browser's session, if its cookie names one."""
        return self.sessions.get(request.cookies.get(SESSION_COOKIE))

    def ensure_session(self, request: Request) -> tuple[DemoSession, bool]:
        """The browser's session, or a new one (True: set the cookie)."""
        session = self.session_of(request)
        return (session, False) if session else (self.sessions.create(), True)

    @staticmethod
    def with_cookie(response: Response, session: DemoSession) -> Response:
        """Set the session cookie (HttpOnly; Lax so the OU flow's redirect back carries it)."""
        response.set_cookie(SESSION_COOKIE, session.session_id, httponly=True, samesite="Lax", path="/")
        return response

    # Routing ------------------------------------------------------------------------------

    def route(self, request: Request) -> Response | None:
        """Answer the demo's own paths; None for the others."""
        path, method = request.path, request.method
        if path == "/" and method in ("GET", "HEAD"):
            session, new = self.ensure_session(request)
            ready = bool(self.config.service_account_token)
            with self.sessions.lock:  # another tab of this session may be adding requests
                response = home(session, self.config.demo, delegated_ready=ready)
            return self.with_cookie(response, session) if new else response
        if path.startswith("/delegated/callback/"):
            return self.receive_callback(request, path.removeprefix("/delegated/callback/"))
        if method == "POST" and (path in self._forms() or _DELEGATED.match(path)):
            return self.submit(request)
        return None

    def _forms(self) -> dict[str, Callable[[DemoSession, Request], None]]:
        return {
            "/organization/redeem": self.redeem_organization,
            "/organization/reload": self.reload_organization,
            "/delegated/request": self.request_access,
        }

    def submit(self, request: Request) -> Response:
        """A form POST: same-origin and with this session's CSRF token, or refused (403)."""
        session = self.session_of(request)
        if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            return refused("This form must be sent from the demo page itself.", 403)
        if session is None or not session.csrf_ok(request.form.get("csrf_token")):
            return refused(
                "The form was out of date or not from this page; reload the demo and try again.", 403
            )
        match = _DELEGATED.match(request.path)
        if match:
            target = session.requests.get(match.group(1))
            if target is None or target.access_token is None:
                return refused("No account with a token here.", 404)
            if match.group(2) == "userinfo":
                self._load_userinfo(target)
            else:
                self._create_meeting(target)
        else:
            self._forms()[request.path](session, request)
        return Response(status=303, headers={"Location": "/", "Cache-Control": "no-store"})

    # The OU flow --------------------------------------------------------------------------

    def start_flow(self, request: Request, url_for_state: Callable[[str], str]) -> Response:
        """Remember a fresh OAuth state in the session, then send the browser to orgconnect."""
        session, new = self.ensure_session(request)
        state = secrets.token_urlsafe(16)
        with self.sessions.lock:
            session.oauth_states = [*session.oauth_states[-9:], state]
        response = Response(
            status=302,
            headers={
                "Location": url_for_state(state),
                "Cache-Control": "no-store",
                "Referrer-Policy": "no-referrer",
            },
        )
        return self.with_cookie(response, session) if new else response

    def flow_callback(self, request: Request) -> Response:
        """The redirect URI: show what came; keep a code whose state this browser started."""
        params = {k: request.args.get(k, "") for k in ("code", "state", "error", "error_description")}
        session = self.session_of(request)
        redeemable = False
        with self.sessions.lock:
            if session is not None and params["state"] in session.oauth_states:
                session.oauth_states.remove(params["state"])  # a state is used once
                if params["code"]:
                    session.pending_code = (params["code"], params["state"])
                    redeemable = True
        return callback_page(params, session, redeemable)

    def redeem_organization(self, session: DemoSession, _: Request) -> None:
        """POST /oauth/token with the OU code, then GET /v1/organizational_unit."""
        with self.sessions.lock:
            pending, session.pending_code = session.pending_code, None
        if pending is None:
            session.notice = "There is no code to redeem: connect the organization first."
            return
        try:
            token = self.api.redeem_code(pending[0], self.config.redirect_uri)
        except ApiProblem as problem:
            session.notice = f"The code did not redeem: {problem}"
            return
        session.organization = OrganizationLink(str(token["access_token"]), str(token["refresh_token"]))
        self.reload_organization(session, None)

    def reload_organization(self, session: DemoSession, _: Request | None) -> None:
        """GET /v1/organizational_unit again."""
        link = session.organization
        if link is None:
            session.notice = "No organization is connected yet."
            return
        try:
            link.organization, link.problem = self.api.organization(link.access_token), None
        except ApiProblem as problem:
            link.problem = str(problem)

    # Delegated access ---------------------------------------------------------------------

    def request_access(self, session: DemoSession, request: Request) -> None:
        """POST /v1/service_account_authorizations for the chosen emails, one callback_url each."""
        emails = list(dict.fromkeys(v.strip() for v in request.form.getlist("email") if v.strip()))
        if not emails:
            session.notice = "Choose at least one email."
            return
        if len(emails) > MAX_EMAILS or not all(_EMAIL.match(e) for e in emails):
            session.notice = f"Give 1 to {MAX_EMAILS} email addresses."
            return
        # The integrator's own address, not the request's Host header.
        base = "{0.scheme}://{0.netloc}".format(urlsplit(self.config.redirect_uri))
        pending = []
        for email in emails:
            key = secrets.token_urlsafe(18)
            pending.append(
                DelegatedRequest(
                    key=key,
                    email=email,
                    state=secrets.token_urlsafe(12),
                    callback_url=f"{base}/delegated/callback/{key}",
                )
            )
        # Known before the request: a callback may come back before the API has answered.
        for item in pending:
            if not self.sessions.add_request(session, item):
                session.notice = "This session has too many requests; start a new one in a private window."
                return
        try:
            self.api.request_access(
                [
                    {
                        "email": r.email,
                        "scope": DELEGATED_SCOPE,
                        "callback_url": r.callback_url,
                        "state": r.state,
                    }
                    for r in pending
                ]
            )
        except ApiProblem as problem:
            with self.sessions.lock:
                for item in pending:
                    session.requests.pop(item.key, None)
            session.notice = f"The request was refused: {problem}"

    def receive_callback(self, request: Request, key: str) -> Response:
        """orgconnect's POST with ``{"authorization": {...}}``: record it, redeem a code once."""
        if request.method != "POST":
            return Response("POST only", 405, headers={"Allow": "POST"})
        target = self.sessions.find_request(key) if _KEY.match(key) else None
        if target is None:
            return Response("unknown callback", 404)
        if request.mimetype != "application/json" or (request.content_length or 0) > MAX_CALLBACK_BYTES:
            return Response("expected a JSON body", 415)
        try:
            body = json.loads(request.get_data(cache=False)[:MAX_CALLBACK_BYTES])
        except ValueError:
            return Response("not JSON", 400)
        authorization = body.get("authorization") if isinstance(body, dict) else None
        if not isinstance(authorization, dict) or authorization.get("state") != target.state:
            return Response("not an authorization for this request", 400)
        with self.sessions.lock:
            if target.callback is not None:
                return Response(status=204)  # a repeated delivery: the first one counts
            target.callback = {k: str(v) for k, v in authorization.items() if isinstance(v, str)}
            target.redeeming = "code" in target.callback
        if target.redeeming:
            self.background.submit(self._redeem_account, target)
        return Response(status=204)

    def _redeem_account(self, target: DelegatedRequest) -> None:
        try:
            token = self.api.redeem_code(str((target.callback or {})["code"]), target.callback_url)
            target.access_token = str(token["access_token"])
            target.account = {k: v for k, v in token.items() if k not in ("access_token", "refresh_token")}
            self._load_userinfo(target)
        except ApiProblem as problem:
            target.problem = f"The code did not redeem: {problem}"
        except Exception:
            log.exception("redeeming a delegated-access code failed")
            target.problem = "The code could not be redeemed (see the dev stack's console)."
        finally:
            target.redeeming = False

    def _load_userinfo(self, target: DelegatedRequest) -> None:
        try:
            target.userinfo, target.problem = self.api.userinfo(str(target.access_token)), None
        except ApiProblem as problem:
            target.problem = str(problem)

    def _create_meeting(self, target: DelegatedRequest) -> None:
        try:
            target.meeting = self.api.create_meeting(
                str(target.access_token), f"Demo meeting for {target.email}"
            )
            target.problem = None
        except ApiProblem as problem:
            target.problem = str(problem)
