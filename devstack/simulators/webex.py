"""Webex simulator: Webex integrations OAuth, the People API and meeting scheduling.

Serves the real ``webexapis.com`` paths under one base URL:

- ``GET /v1/authorize`` (sign-in page; PKCE), ``POST /v1/access_token`` (authorization_code and
  refresh_token; the client id and secret travel in the form body, never HTTP Basic);
- ``GET /v1/people`` (``email``, ``displayName``, ``id``, ``max``, RFC 5988 ``Link`` paging),
  ``GET /v1/people/me``, ``GET /v1/people/{personId}``;
- ``POST /v1/meetings`` (a scheduled meeting with its ``webLink``).

The Webex site's users are the demo people who have a Zoom user (the same organization uses
both products): active ones are active, pending ones are invited (``invitePending``), inactive
ones cannot sign in (``loginEnabled: false``). The demo admin is a full administrator. Errors use
Webex's ``{"message", "errors": [{"description"}], "trackingId"}``. See
docs/simulators-calendar-and-others.md for every switch and decision.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from devstack.simulators.common import (
    ControlError,
    Simulator,
    json_response,
)
from devstack.simulators.demo import DemoDirectory
from devstack.simulators.provider_kit import (
    PageTokens,
    RateLimiter,
    apply_switches,
)
from devstack.simulators.webex_api import WebexApi
from devstack.simulators.webex_model import (
    ADMIN_PEOPLE_READ as ADMIN_PEOPLE_READ,
)
from devstack.simulators.webex_model import (
    ADMIN_SCHEDULES_WRITE as ADMIN_SCHEDULES_WRITE,
)
from devstack.simulators.webex_model import (
    FULL_ADMIN_ROLE,
    SCHEDULES_WRITE,
    STATUSES,
    WebexStatus,
    iso,
)
from devstack.simulators.webex_model import (
    PEOPLE_READ as PEOPLE_READ,
)
from devstack.simulators.webex_model import (
    WebexPerson as WebexPerson,
)
from devstack.simulators.webex_model import (
    webex_id as webex_id,
)
from devstack.simulators.webex_oauth import WebexOAuth


class WebexSimulator(Simulator):
    """Webex OAuth + People API + meetings for one organization and site.

    Options (constructor keywords; also changeable with ``PATCH /_sim/options``):

    - ``access_token_ttl_seconds`` (14400) and ``refresh_token_ttl_seconds`` (7776000): the
      lifetimes in providers.md's example (sources conflict; the shorter access token is kept).
    - ``code_ttl_seconds`` (600).
    - ``rate_limit_per_second`` (50): API calls per second per token holder; 0 = off.
    - ``retry_after_seconds`` (4): ``Retry-After`` of an injected 429.
    - ``max_page_size`` (1000): the largest ``max`` the People API accepts (default page 100).
    - ``paging_quirks`` (False): emit the ``Link`` next URL the way Webex sometimes does, with
      ``max=null`` and the original filters dropped (WebexPythonSDK's ``_fix_next_url`` case).
    """

    name = "webex"

    def __init__(
        self,
        demo: DemoDirectory | None = None,
        *,
        seed: int = 7,
        clock: Callable[[], float] | None = None,
        site_name: str = "example",
        access_token_ttl_seconds: float = 14400,
        refresh_token_ttl_seconds: float = 7776000,
        code_ttl_seconds: float = 600,
        rate_limit_per_second: int = 50,
        retry_after_seconds: int = 4,
        max_page_size: int = 1000,
        paging_quirks: bool = False,
        **base_options: Any,
    ) -> None:
        self.site_name = site_name
        self.access_token_ttl_seconds = access_token_ttl_seconds
        self.refresh_token_ttl_seconds = refresh_token_ttl_seconds
        self.code_ttl_seconds = code_ttl_seconds
        self.rate_limit_per_second = rate_limit_per_second
        self.retry_after_seconds = retry_after_seconds
        self.max_page_size = max_page_size
        self.paging_quirks = paging_quirks
        self.org_id = ""
        self.people: dict[str, WebexPerson] = {}
        self.meetings: dict[str, dict[str, Any]] = {}
        self.oauth = WebexOAuth(self)
        self.api = WebexApi(self)
        super().__init__(demo, seed=seed, clock=clock, **base_options)
        for part in (self.oauth, self.api):
            self.add_routes(part.routes())

    @property
    def site_url(self) -> str:
        """The Webex site's host name."""
        return f"{self.site_name}.webex.com"

    # ----- seeding ---------------------------------------------------------------------------

    def seed_state(self, params: Mapping[str, Any]) -> None:
        """Build the organization from the demo people who have a Zoom user."""
        self.org_id = webex_id(
            "ORGANIZATION", str(uuid.UUID(int=random.Random(f"webex:{self.seed}").getrandbits(128)))
        )
        self.people = {}
        created = datetime(2022, 1, 10, 9, 0, tzinfo=UTC).timestamp()
        for index, person in enumerate(self.demo.zoom_users()):
            status: WebexStatus = person.zoom_status or "active"
            self._add(
                person.email,
                person.first_name,
                person.last_name,
                status,
                person.is_admin,
                created + index * 60,
            )
        self.meetings = {}
        self.cursors = PageTokens(self.clock, ttl_seconds=86400)
        self.limiter = RateLimiter(self.clock, self.rate_limit_per_second)

    def _add(
        self, email: str, first: str, last: str, status: WebexStatus, is_admin: bool, created: float
    ) -> WebexPerson:
        raw = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        person = WebexPerson(
            id=webex_id("PEOPLE", raw),
            email=email,
            first_name=first,
            last_name=last,
            org_id=self.org_id,
            created=iso(created),
            status=status,
            roles=[webex_id("ROLE", FULL_ADMIN_ROLE)] if is_admin else [],
        )
        self.people[person.id] = person
        return person

    def find_person(self, key: str) -> WebexPerson | None:
        """A person by id or email (case-insensitive)."""
        if key in self.people:
            return self.people[key]
        lowered = key.lower()
        return next((p for p in self.people.values() if p.email.lower() == lowered), None)

    # ----- control-API hooks -----------------------------------------------------------------

    def control_list_users(self) -> list[dict[str, Any]]:
        """Every person, in the People API shape plus ``email``."""
        return [{**p.to_api(), "email": p.email} for p in self.people.values()]

    def control_add_user(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Add a person: ``{"email", "first_name"?, "last_name"?, "status"?, "is_admin"?}``."""
        email = str(body.get("email", "")).strip()
        if "@" not in email:
            raise ControlError(400, "email is required")
        if self.find_person(email) is not None:
            raise ControlError(409, f"{email} already exists")
        status = STATUSES.get(str(body.get("status", "active")))
        if status is None:
            raise ControlError(400, "status must be active, pending or inactive")
        local = email.split("@", 1)[0]
        person = self._add(
            email,
            str(body.get("first_name") or local.split(".")[0].title()),
            str(body.get("last_name") or (local.split(".")[1].title() if "." in local else "")),
            status,
            bool(body.get("is_admin", False)),
            self.clock.now(),
        )
        return {**person.to_api(), "email": person.email}

    def control_remove_user(self, email: str) -> None:
        """Delete a person; their tokens stop working."""
        person = self.find_person(email)
        if person is None:
            raise ControlError(404, f"no person {email}")
        del self.people[person.id]
        self.tokens.revoke_where(lambda t: t.subject == person.id)

    def control_update_user(self, email: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``{"email": new}`` renames (the id stays), ``first_name``, ``last_name``, ``is_admin``,
        ``status`` (``active`` / ``pending`` / ``inactive``), ``meetings_licensed`` (can host)."""
        person = self.find_person(email)
        if person is None:
            raise ControlError(404, f"no person {email}")
        if "email" in body:
            new_email = str(body["email"]).strip()
            clash = self.find_person(new_email)
            if "@" not in new_email or (clash is not None and clash is not person):
                raise ControlError(409 if clash else 400, f"cannot rename to {new_email}")
            person.email = new_email
        if "first_name" in body:
            person.first_name = str(body["first_name"])
        if "last_name" in body:
            person.last_name = str(body["last_name"])
        if "status" in body:
            status = STATUSES.get(str(body["status"]))
            if status is None:
                raise ControlError(400, "status must be active, pending or inactive")
            person.status = status
        if "is_admin" in body:
            person.roles = [webex_id("ROLE", FULL_ADMIN_ROLE)] if body["is_admin"] else []
        if "meetings_licensed" in body:
            person.meetings_licensed = bool(body["meetings_licensed"])
        return {**person.to_api(), "email": person.email}

    def apply_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Change switches at run time (see the class docstring)."""
        switches: dict[str, type] = {
            "access_token_ttl_seconds": float,
            "refresh_token_ttl_seconds": float,
            "code_ttl_seconds": float,
            "rate_limit_per_second": int,
            "retry_after_seconds": int,
            "max_page_size": int,
            "paging_quirks": bool,
        }
        return apply_switches(self, options, switches)

    def dev_info(self, base_url: str) -> dict[str, Any]:
        """Endpoints, the default integration's credentials, the organization and its admin."""
        base = base_url.rstrip("/")
        admin = next((p for p in self.people.values() if p.is_admin), None)
        return {
            **self.base_dev_info(base),
            "org_id": self.org_id,
            "site_url": self.site_url,
            "admin_email": admin.email if admin else None,
            "authorize_url": f"{base}/v1/authorize",
            "token_url": f"{base}/v1/access_token",
            "api_url": f"{base}/v1",
            "scopes": [PEOPLE_READ, ADMIN_PEOPLE_READ, SCHEDULES_WRITE, ADMIN_SCHEDULES_WRITE],
        }

    # ----- routes and errors -----------------------------------------------------------------

    @staticmethod
    def webex_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
        """Webex's error body, with a ``trackingId`` echoed in the ``TrackingID`` header."""
        tracking = f"ROUTER_{uuid.uuid4()}"
        body = {"message": message, "errors": [{"description": message}], "trackingId": tracking}
        return json_response(body, status, headers={"TrackingID": tracking, **(headers or {})})

    def error_response(self, status: int, message: str, request: Request) -> Response:
        """Injected faults and unknown paths, in Webex's error shape."""
        return self.webex_error(status, message)

    def oauth_error_response(self, error: str, description: str, status: int = 400) -> Response:
        """Token-endpoint errors: the OAuth ``error`` inside Webex's error envelope."""
        if description == "Invalid Token!":  # the core's generic injected invalid_grant
            description = "The refresh token provided is expired, revoked, malformed, or invalid."
        tracking = f"ROUTER_{uuid.uuid4()}"
        body = {
            "error": error,
            "error_description": description,
            "message": description,
            "errors": [{"description": description}],
            "trackingId": tracking,
        }
        return json_response(body, status, headers={"TrackingID": tracking, "Cache-Control": "no-store"})

    def rate_limited_response(self, request: Request, target: str) -> Response:
        """A 429 with ``Retry-After`` in seconds (Webex's documented header)."""
        return self.throttled(self.retry_after_seconds)

    def throttled(self, retry_after: int) -> Response:
        """A 429 with ``Retry-After`` in seconds."""
        return self.webex_error(
            429, "Too many requests. Please try again later.", {"Retry-After": str(retry_after)}
        )
