"""Zoom REST API v2 (providers.md 1.4-1.6): authentication and user reads.

User changes are in ``zoom_user_changes``, meetings in ``zoom_meetings``.

Every call is authenticated (Bearer only; a token in the query string is refused with code 124),
scope-checked, then counted against the account's rate limits for its request type before the
handler runs. Errors are Zoom's ``{"code", "message"}`` bodies.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from devstack.simulators.common import IssuedToken, OAuthApp, SimResponse, bearer_token
from devstack.simulators.simulator import RouteSpec
from devstack.simulators.zoom_limits import RateLimitHit, rate_limit_response
from devstack.simulators.zoom_model import (
    NEXT_PAGE_TOKEN_TTL,
    STATUSES,
    Category,
    PageCursor,
    UserStatus,
    ZoomAccount,
    ZoomUser,
    validation_failed,
    zoom_error,
    zoom_json,
)

if TYPE_CHECKING:
    from devstack.simulators.zoom import ZoomSimulator

MAX_PAGE_SIZE = 300
DEFAULT_PAGE_SIZE = 30
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")

# Any one of these scopes (classic or granular) allows the call (providers.md 1.1).
SCOPES_LIST_USERS = frozenset({"user:read:admin", "user:read:list_users:admin"})
SCOPES_READ_USER = frozenset({"user:read:admin", "user:read:user:admin"})


@dataclass
class CallContext:
    """Who is calling: the account, the token's user (the owner for S2S) and the token."""

    account: ZoomAccount
    user: ZoomUser
    token: IssuedToken
    app: OAuthApp | None


class ZoomApi:
    """The handlers of ``/v2``."""

    def __init__(self, sim: ZoomSimulator) -> None:
        self.sim = sim

    def routes(self) -> list[RouteSpec]:
        """The ``/v2/users`` read routes."""
        return [
            ("/v2/users", self.list_users, "GET", "api"),
            ("/v2/users/email", self.check_email, "GET", "api"),
            ("/v2/users/<user_id>", self.get_user, "GET", "api"),
        ]

    # ----- authentication, scopes, rate limits ------------------------------------------------

    def authenticate(self, request: Request, category: Category, scopes: frozenset[str]) -> CallContext:
        """Check the bearer token, its scopes and the account's quota; raise a Zoom error if not."""
        if "access_token" in request.args:
            raise zoom_error(
                401,
                124,
                "Invalid access token, this access token is not supported as query parameter string.",
            )
        value = bearer_token(request)
        record = self.sim.tokens.valid(value, "access") if value else None
        if record is None:
            raise zoom_error(401, 124, "Invalid access token.")
        account = self.sim.directory.accounts.get(str(record.extra.get("account_id")))
        user = self.sim.directory.users.get(record.subject)
        if account is None or user is None or user.account_id != account.id or user.status != "active":
            raise zoom_error(401, 124, "Invalid access token.")
        if self.sim.switches.enforce_scopes and not scopes & set(record.scope.split()):
            raise zoom_error(
                400, 4711, f"Invalid access token, does not contain scopes:[{', '.join(sorted(scopes))}]."
            )
        if self.sim.switches.rate_limits:
            hit = self.sim.limiter.hit(account, category)
            if hit is not None:
                self.raise_rate_limited(hit)
        return CallContext(account, user, record, self.sim.apps.get(record.client_id))

    def raise_rate_limited(self, hit: RateLimitHit) -> None:
        """Answer with Zoom's 429 for ``hit``."""
        raise SimResponse(rate_limit_response(hit, self.sim.clock.now(), self.sim.switches.retry_after))

    def user_or_404(self, ctx: CallContext, user_id: str) -> ZoomUser:
        """``me``, a Zoom id or an email of the caller's account; else 404 code 1001."""
        if user_id == "me":
            return ctx.user
        user = self.sim.directory.find(ctx.account.id, user_id)
        if user is None:
            raise zoom_error(404, 1001, f"User does not exist: {user_id}.")
        return user

    # ----- users ----------------------------------------------------------------------------

    def list_users(self, request: Request) -> Response:
        """``GET /v2/users`` (Medium): status filter, page_size <= 300, next_page_token / page_number."""
        ctx = self.authenticate(request, "Medium", SCOPES_LIST_USERS)
        args = request.args
        status = args.get("status", "active")
        if status not in STATUSES:
            raise validation_failed("status")
        user_status: UserStatus = status
        page_size = _int_arg(args.get("page_size"), DEFAULT_PAGE_SIZE, "page_size", minimum=1)
        page_size = min(page_size, MAX_PAGE_SIZE)
        role_id = args.get("role_id") or None
        token = args.get("next_page_token") or None
        now = self.sim.clock.now()
        if token is not None:
            cursor = self.sim.page_cursors.get(token)
            if (
                cursor is None
                or now >= cursor.expires_at
                or cursor.account_id != ctx.account.id
                or cursor.status != user_status
                or cursor.role_id != role_id
            ):
                raise zoom_error(400, 300, "The next page token is invalid or expired.")
            offset = cursor.offset
        else:
            page_number = _int_arg(args.get("page_number"), 1, "page_number", minimum=1)
            offset = (page_number - 1) * page_size
        if role_id is None:
            total = self.sim.directory.count(ctx.account.id, user_status)
            users = self.sim.directory.page(ctx.account.id, user_status, offset, page_size)
        else:
            # Role filtering scans the account (rare; the listing stays O(page) without it).
            matching = [
                u
                for u in self.sim.directory.page(ctx.account.id, user_status, 0, 10**9)
                if u.role_id == role_id
            ]
            total = len(matching)
            users = matching[offset : offset + page_size]
        next_offset = offset + len(users)
        next_token = ""
        if users and next_offset < total:
            next_token = self.sim.new_page_cursor(
                PageCursor(ctx.account.id, user_status, role_id, next_offset, now + NEXT_PAGE_TOKEN_TTL)
            )
        include = frozenset(x.strip() for x in args.get("include_fields", "").split(",") if x.strip())
        return zoom_json(
            {
                "page_count": math.ceil(total / page_size),
                "page_number": offset // page_size + 1,
                "page_size": page_size,
                "total_records": total,
                "next_page_token": next_token,
                "users": [u.list_item(include_fields=include) for u in users],
            }
        )

    def get_user(self, request: Request, user_id: str) -> Response:
        """``GET /v2/users/{userId}`` (Light): by id, email or ``me``."""
        ctx = self.authenticate(request, "Light", SCOPES_READ_USER)
        user = self.user_or_404(ctx, user_id)
        return zoom_json(user.detail(ctx.account, request_base(request)))

    def check_email(self, request: Request) -> Response:
        """``GET /v2/users/email?email=...`` (Light): whether the email is already a Zoom user."""
        self.authenticate(request, "Light", SCOPES_READ_USER)
        email = request.args.get("email", "")
        if not EMAIL_RE.match(email):
            raise validation_failed("email")
        return zoom_json({"existed_email": self.sim.directory.by_email(email) is not None})


def request_base(request: Request) -> str:
    """The base URL the request came in on (for absolute links)."""
    return str(request.host_url).rstrip("/")


def json_object(request: Request) -> dict[str, Any]:
    """The JSON object body, else Zoom's 400 code 300."""
    try:
        data = json.loads(request.get_data(cache=True) or b"null")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise zoom_error(400, 300, "Request Body should be a valid JSON object.")
    return data


def _int_arg(raw: str | None, default: int, name: str, *, minimum: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise validation_failed(name) from None
    if value < minimum:
        raise validation_failed(name)
    return value
