"""Zoom REST API v2 (providers.md 1.4-1.6): users and meetings.

Every call is authenticated (Bearer only; a token in the query string is refused with code 124),
scope-checked, then counted against the account's rate limits for its request type before the
handler runs. Errors are Zoom's ``{"code", "message"}`` bodies.
"""

from __future__ import annotations

import base64
import json
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from devstack.simulators.common import IssuedToken, OAuthApp, SimResponse, bearer_token, mint_secret
from devstack.simulators.zoom_limits import RateLimitHit, rate_limit_response
from devstack.simulators.zoom_model import (
    CREATE_ACTIONS,
    DAILY_CREATE_LIMITS,
    DAY,
    EMAIL_CHANGES_PER_DAY,
    MEETINGS_PER_USER_PER_DAY,
    NEXT_PAGE_TOKEN_TTL,
    ROLE_MEMBER,
    ROLE_OWNER,
    STATUSES,
    USER_TYPES,
    Category,
    PageCursor,
    UserStatus,
    ZoomAccount,
    ZoomMeeting,
    ZoomUser,
    next_utc_midnight,
    parse_iso,
    utc_day,
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
SCOPES_CREATE_USER = frozenset({"user:write:admin", "user:write:user:admin"})
SCOPES_UPDATE_USER = frozenset({"user:write:admin", "user:update:user:admin"})
SCOPES_USER_STATUS = frozenset({"user:write:admin", "user:update:user:admin", "user:update:status:admin"})
SCOPES_USER_EMAIL = frozenset({"user:write:admin", "user:update:user:admin", "user:update:email:admin"})
SCOPES_DELETE_USER = frozenset({"user:write:admin", "user:delete:user:admin"})
SCOPES_CREATE_MEETING = frozenset({"meeting:write:admin", "meeting:write:meeting:admin"})
SCOPES_READ_MEETING = frozenset({"meeting:read:admin", "meeting:read:meeting:admin"})

UPDATABLE_TEXT_FIELDS = (
    "first_name",
    "last_name",
    "dept",
    "job_title",
    "timezone",
    "language",
    "phone_number",
)


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
        return zoom_json(user.detail(ctx.account, _base(request)))

    def check_email(self, request: Request) -> Response:
        """``GET /v2/users/email?email=...`` (Light): whether the email is already a Zoom user."""
        self.authenticate(request, "Light", SCOPES_READ_USER)
        email = request.args.get("email", "")
        if not EMAIL_RE.match(email):
            raise validation_failed("email")
        return zoom_json({"existed_email": self.sim.directory.by_email(email) is not None})

    def create_user(self, request: Request) -> Response:
        """``POST /v2/users`` (Light): ``create`` makes a pending user; 409 code 1005 on a clash."""
        ctx = self.authenticate(request, "Light", SCOPES_CREATE_USER)
        body = _json_object(request)
        action = body.get("action")
        if action not in CREATE_ACTIONS:
            raise validation_failed("action")
        info = body.get("user_info")
        if not isinstance(info, dict):
            raise validation_failed("user_info")
        email = info.get("email")
        user_type = info.get("type")
        bad = []
        if not isinstance(email, str) or not EMAIL_RE.match(email) or len(email) > 128:
            bad.append("user_info.email")
        if not isinstance(user_type, int) or isinstance(user_type, bool) or user_type not in USER_TYPES:
            bad.append("user_info.type")
        for name in ("first_name", "last_name"):
            value = info.get(name)
            if value is not None and (not isinstance(value, str) or len(value) > 64):
                bad.append(f"user_info.{name}")
        if bad:
            raise validation_failed(*bad)
        assert isinstance(email, str)
        assert isinstance(user_type, int)
        account = ctx.account
        if not account.is_paid and not self.sim.switches.free_plan_can_create_users:
            # "Prerequisite: A Pro or higher plan." (code 200 = paid subscription required)
            raise zoom_error(400, 200, "No privilege.")
        if not account.is_paid and user_type != 1:
            raise zoom_error(400, 200, "You can't add paid users.")
        if action == "create":
            self._count_daily_create(account)
        existing = self.sim.directory.by_email(email)
        if existing is not None:
            status = self.sim.switches.duplicate_user_status
            if existing.account_id == account.id:
                raise zoom_error(status, 1005, f"User already in the account: {email}")
            raise zoom_error(status, 1009, f"The user {email} already holds an active account.")
        domain = email.rsplit("@", 1)[1].lower()
        if action == "autoCreate" and domain not in account.managed_domains:
            raise zoom_error(400, 1116, f"Email address {email} doesn't match limited domains.")
        if action == "custCreate" and not account.cust_create_enabled:
            raise zoom_error(400, 200, "No privilege.")
        if action == "ssoCreate" and not account.sso_enabled:
            raise zoom_error(400, 2002, "Only available for Enabled Pre-provisioning SSO Partners")
        user = self.sim.create_user(
            account,
            email=email,
            first_name=str(info.get("first_name") or ""),
            last_name=str(info.get("last_name") or ""),
            user_type=user_type,
            status="pending" if action == "create" else "active",
        )
        self.sim.emit_user_event("user.created", user, operator=ctx.user, extra={"creation_type": action})
        return zoom_json(
            user.summary(), 201, headers={"Content-Location": f"{_base(request)}/v2/users/{user.id}"}
        )

    def _count_daily_create(self, account: ZoomAccount) -> None:
        now = self.sim.clock.now()
        day = utc_day(now)
        limit = DAILY_CREATE_LIMITS[account.plan]
        counted_day, used = account.creates_today
        used = used if counted_day == day else 0
        if used >= limit:
            self.raise_rate_limited(
                RateLimitHit(
                    "Light",
                    "Daily-limit",
                    limit,
                    next_utc_midnight(now),
                    f"You have reached the maximum daily limit ({limit}) of Create User API requests.",
                )
            )
        account.creates_today = (day, used + 1)

    def update_user(self, request: Request, user_id: str) -> Response:
        """``PATCH /v2/users/{userId}`` (Light): 204; refused while the user is pending."""
        ctx = self.authenticate(request, "Light", SCOPES_UPDATE_USER)
        user = self.user_or_404(ctx, user_id)
        body = _json_object(request)
        if user.status == "pending":
            raise zoom_error(400, 1000, "You can not update users that are still in pending state.")
        if user.status == "inactive":
            raise zoom_error(400, 1000, "You can not update users that are deactivated.")
        changes: dict[str, Any] = {}
        bad: list[str] = []
        for name in UPDATABLE_TEXT_FIELDS:
            if name in body:
                value = body[name]
                limit = 64 if name in ("first_name", "last_name") else 128
                if not isinstance(value, str) or len(value) > limit:
                    bad.append(name)
                else:
                    changes[name] = value
        if "type" in body:
            if (
                not isinstance(body["type"], int)
                or isinstance(body["type"], bool)
                or body["type"] not in USER_TYPES
            ):
                bad.append("type")
            elif not ctx.account.is_paid and body["type"] != 1:
                raise zoom_error(400, 200, "You can't add paid users.")
            else:
                changes["type"] = body["type"]
        if "pmi" in body:
            pmi = body["pmi"]
            if not isinstance(pmi, int) or isinstance(pmi, bool) or not 10**9 <= pmi < 10**10:
                bad.append("pmi")
            else:
                changes["pmi"] = pmi
        if bad:
            raise validation_failed(*bad)
        old = {"id": user.id}
        for name, value in changes.items():
            old[name] = getattr(user, name)
            setattr(user, name, value)
        if changes:
            self.sim.emit_user_event(
                "user.updated",
                user,
                operator=ctx.user,
                object_override={"id": user.id, **changes},
                old_object=old,
            )
        return zoom_json(None, 204)

    def update_email(self, request: Request, user_id: str) -> Response:
        """``PUT /v2/users/{userId}/email`` (Light): managed domains only; 3 changes a day."""
        ctx = self.authenticate(request, "Light", SCOPES_USER_EMAIL)
        user = self.user_or_404(ctx, user_id)
        body = _json_object(request)
        email = body.get("email")
        if not isinstance(email, str) or not EMAIL_RE.match(email):
            raise validation_failed("email")
        if user.status == "pending":
            raise zoom_error(400, 1000, "Pending user can not change email.")
        domain = email.rsplit("@", 1)[1].lower()
        if domain not in ctx.account.managed_domains:
            # seed 004: email changes need Managed Domains.
            raise zoom_error(400, 1116, f"Email address {email} doesn't match limited domains.")
        existing = self.sim.directory.by_email(email)
        if existing is not None and existing.id != user.id:
            raise zoom_error(409, 1005, f"Email {email} has already been used.")
        now = self.sim.clock.now()
        user.email_changes = [t for t in user.email_changes if now - t < DAY]
        if len(user.email_changes) >= EMAIL_CHANGES_PER_DAY:
            self.raise_rate_limited(
                RateLimitHit(
                    "Light",
                    "Daily-limit",
                    EMAIL_CHANGES_PER_DAY,
                    user.email_changes[0] + DAY,
                    f"You have exceeded the daily rate limit ({EMAIL_CHANGES_PER_DAY}) of email change "
                    "requests permitted for this particular user.",
                )
            )
        user.email_changes.append(now)
        old_email = user.email
        self.sim.directory.rename(user, email)
        self.sim.emit_user_event(
            "user.updated",
            user,
            operator=ctx.user,
            object_override={"id": user.id, "email": email},
            old_object={"id": user.id, "email": old_email},
        )
        return zoom_json(None, 204)

    def update_status(self, request: Request, user_id: str) -> Response:
        """``PUT /v2/users/{userId}/status`` (Light): ``{"action": "activate"|"deactivate"}``, 204."""
        ctx = self.authenticate(request, "Light", SCOPES_USER_STATUS)
        user = self.user_or_404(ctx, user_id)
        action = _json_object(request).get("action")
        if action not in ("activate", "deactivate"):
            raise validation_failed("action")
        if user.role_id != ROLE_MEMBER:
            raise zoom_error(400, 200, "Zoom Room and Admin users can not be activated or deactivated.")
        if user.status == "pending":
            raise zoom_error(400, 1000, "Pending user can not be activated or deactivated.")
        self.sim.change_status(user, "active" if action == "activate" else "inactive", operator=ctx.user)
        return zoom_json(None, 204)

    def delete_user(self, request: Request, user_id: str) -> Response:
        """``DELETE /v2/users/{userId}?action=disassociate|delete`` (Light): 204."""
        ctx = self.authenticate(request, "Light", SCOPES_DELETE_USER)
        user = self.user_or_404(ctx, user_id)
        action = request.args.get("action", "disassociate")
        if action not in ("disassociate", "delete"):
            raise validation_failed("action")
        if user.role_id == ROLE_OWNER:
            raise zoom_error(400, 1117, "Can not disassociate Admin user")
        domain = user.email.rsplit("@", 1)[1].lower()
        if (
            action == "disassociate"
            and self.sim.switches.strict_managed_domains
            and domain in ctx.account.managed_domains
        ):
            raise zoom_error(400, 1107, "Can not disassociate the user with managed domain")
        self.sim.delete_user(
            user, "user.deleted" if action == "delete" else "user.disassociated", operator=ctx.user
        )
        return zoom_json(None, 204)

    # ----- meetings ---------------------------------------------------------------------------

    def create_meeting(self, request: Request, user_id: str) -> Response:
        """``POST /v2/users/{userId}/meetings`` (Medium): 201; 100 creates per user per UTC day."""
        ctx = self.authenticate(request, "Medium", SCOPES_CREATE_MEETING)
        user = self.user_or_404(ctx, user_id)
        raw = request.get_data(cache=True)
        body = _json_object(request) if raw.strip() else {}
        if user.status != "active":
            raise zoom_error(400, 1000, f"User {user_id} is not active and can not host meetings.")
        fields = _meeting_fields(body, default_timezone=user.timezone, now=self.sim.clock.now())
        now = self.sim.clock.now()
        day = utc_day(now)
        counted_day, used = user.meetings_today
        used = used if counted_day == day else 0
        if used >= MEETINGS_PER_USER_PER_DAY:
            self.raise_rate_limited(
                RateLimitHit(
                    "Medium",
                    "Daily-limit",
                    MEETINGS_PER_USER_PER_DAY,
                    next_utc_midnight(now),
                    "You have exceeded the daily rate limit (100) of Meeting Create/Update API requests "
                    "permitted for this particular user. You may resume these requests at GMT 00:00:00.",
                )
            )
        user.meetings_today = (day, used + 1)
        rng = self.sim.rng
        meeting = ZoomMeeting(
            id=rng.randrange(80_000_000_000, 99_999_999_999),
            uuid=base64.b64encode(rng.getrandbits(128).to_bytes(16, "big")).decode(),
            host_id=user.id,
            host_email=user.email,
            password=fields.pop("password", None) or mint_secret(6)[:8],
            created_at=now,
            **fields,
        )
        self.sim.meetings[meeting.id] = meeting
        base = _base(request)
        return zoom_json(
            meeting.as_json(base), 201, headers={"Content-Location": f"{base}/v2/meetings/{meeting.id}"}
        )

    def get_meeting(self, request: Request, meeting_id: int) -> Response:
        """``GET /v2/meetings/{meetingId}`` (Light)."""
        ctx = self.authenticate(request, "Light", SCOPES_READ_MEETING)
        meeting = self.sim.meetings.get(meeting_id)
        host = self.sim.directory.users.get(meeting.host_id) if meeting else None
        if meeting is None or host is None or host.account_id != ctx.account.id:
            raise zoom_error(404, 3001, f"Meeting does not exist: {meeting_id}.")
        return zoom_json(meeting.as_json(_base(request)))


def _base(request: Request) -> str:
    return str(request.host_url).rstrip("/")


def _json_object(request: Request) -> dict[str, Any]:
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


def _meeting_fields(body: dict[str, Any], *, default_timezone: str, now: float) -> dict[str, Any]:
    """Validate a create-meeting body into ``ZoomMeeting`` keyword arguments."""
    bad: list[str] = []

    def text(name: str, default: str, limit: int) -> str:
        value = body.get(name, default)
        if not isinstance(value, str) or len(value) > limit:
            bad.append(name)
            return default
        return value

    topic = text("topic", "Zoom meeting", 200)
    agenda = text("agenda", "", 2000)
    timezone = text("timezone", default_timezone, 64) or default_timezone
    meeting_type = body.get("type", 2)
    if meeting_type not in (1, 2, 3, 8, 10) or isinstance(meeting_type, bool):
        bad.append("type")
    start_time = now
    if "start_time" in body:
        parsed = parse_iso(body["start_time"]) if isinstance(body["start_time"], str) else None
        if parsed is None:
            bad.append("start_time")
        else:
            start_time = parsed
    duration_raw = body.get("duration", 60)
    duration = 60
    # Zoom accepts "30" as well as 30 (seen in the wild).
    if (
        isinstance(duration_raw, bool)
        or not isinstance(duration_raw, int | str)
        or not str(duration_raw).isdigit()
    ):
        bad.append("duration")
    else:
        duration = int(duration_raw)
    password = body.get("password")
    if password is not None and (
        not isinstance(password, str)
        or not 1 <= len(password) <= 10
        or not re.fullmatch(r"[A-Za-z0-9@_*-]+", password)
    ):
        bad.append("password")
    settings = body.get("settings", {})
    if not isinstance(settings, dict):
        bad.append("settings")
    if bad:
        raise validation_failed(*bad)
    fields: dict[str, Any] = {
        "topic": topic,
        "agenda": agenda,
        "timezone": timezone,
        "type": int(meeting_type),
        "start_time": start_time,
        "duration": duration,
        "settings": dict(settings),
    }
    if password is not None:
        fields["password"] = password
    return fields
