"""What the demo integrator remembers, per browser session, in memory (its "database").

A session holds the OAuth states it started, the OU code waiting to be redeemed, the OU token
it redeemed, and every delegated-access request with its callback, account token and profiles.
Tokens stay here, server side: the pages show a short prefix only.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

SESSION_COOKIE = "demo_session"
MAX_SESSIONS = 200  # a local demo; the oldest session goes when a new one would exceed this
MAX_REQUESTS_PER_SESSION = 200


def token_prefix(token: str | None) -> str:
    """What a page may show of a secret: its first 6 characters."""
    return f"{token[:6]}…" if token else ""


@dataclass
class DelegatedRequest:
    """One email asked for through POST /v1/service_account_authorizations, and what came back."""

    key: str  # the last segment of its callback_url: unguessable, routes the callback here
    email: str
    state: str
    callback_url: str
    callback: dict[str, Any] | None = None  # the "authorization" object that was POSTed
    redeeming: bool = False
    account: dict[str, Any] | None = None  # the token response without its tokens
    access_token: str | None = None
    userinfo: dict[str, Any] | None = None
    meeting: dict[str, Any] | None = None
    problem: str | None = None  # what went wrong on our side (redemption, userinfo, meeting)

    @property
    def waiting(self) -> bool:
        """True until the callback has come and, for a code, its redemption has ended."""
        return self.callback is None or self.redeeming


@dataclass
class OrganizationLink:
    """The OU token the demo redeemed and the last GET /v1/organizational_unit answer."""

    access_token: str
    refresh_token: str
    organization: dict[str, Any] | None = None
    problem: str | None = None


@dataclass
class DemoSession:
    """One browser's view of the demo."""

    session_id: str
    csrf_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    oauth_states: list[str] = field(default_factory=list)  # the last 10 started, oldest first
    pending_code: tuple[str, str] | None = None  # (code, state) of the OU flow, until redeemed
    organization: OrganizationLink | None = None
    requests: dict[str, DelegatedRequest] = field(default_factory=dict)
    notice: str | None = None  # one message for the next page (a refused request, ...)

    def csrf_ok(self, presented: str | None) -> bool:
        """The form's token is this session's (constant-time comparison)."""
        return bool(presented) and hmac.compare_digest(self.csrf_token, str(presented))

    @property
    def waiting(self) -> bool:
        """Some delegated-access request has not ended yet (the page refreshes itself)."""
        return any(r.waiting for r in self.requests.values())


class SessionStore:
    """Sessions by cookie value, and delegated-access requests by callback key; thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._sessions: OrderedDict[str, DemoSession] = OrderedDict()
        self._by_key: dict[str, str] = {}

    def get(self, session_id: str | None) -> DemoSession | None:
        """The session with this cookie value, if it exists."""
        with self.lock:
            return self._sessions.get(session_id or "")

    def create(self) -> DemoSession:
        """A new session (the oldest is forgotten beyond MAX_SESSIONS)."""
        session = DemoSession(session_id=secrets.token_urlsafe(32))
        with self.lock:
            self._sessions[session.session_id] = session
            while len(self._sessions) > MAX_SESSIONS:
                _, old = self._sessions.popitem(last=False)
                for key in old.requests:
                    self._by_key.pop(key, None)
        return session

    def add_request(self, session: DemoSession, request: DelegatedRequest) -> bool:
        """Remember a request; False when the session has too many."""
        with self.lock:
            if len(session.requests) >= MAX_REQUESTS_PER_SESSION:
                return False
            session.requests[request.key] = request
            self._by_key[request.key] = session.session_id
            return True

    def find_request(self, key: str) -> DelegatedRequest | None:
        """The request whose callback_url ends with this key."""
        with self.lock:
            session = self._sessions.get(self._by_key.get(key, ""))
            return session.requests.get(key) if session else None
