"""Zoom REST API v2 user changes: create, update, email, status, delete (providers.md 1.4-1.5).

Each call is authenticated by ``ZoomApi.authenticate`` (Bearer, scopes, rate limits); changes send
the matching webhook events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from devstack.simulators.simulator import RouteSpec
from devstack.simulators.zoom_api import EMAIL_RE, json_object, request_base
from devstack.simulators.zoom_limits import RateLimitHit
from devstack.simulators.zoom_model import (
    CREATE_ACTIONS,
    DAILY_CREATE_LIMITS,
    DAY,
    EMAIL_CHANGES_PER_DAY,
    ROLE_MEMBER,
    ROLE_OWNER,
    USER_TYPES,
    ZoomAccount,
    next_utc_midnight,
    utc_day,
    validation_failed,
    zoom_error,
    zoom_json,
)

if TYPE_CHECKING:
    from devstack.simulators.zoom import ZoomSimulator

SCOPES_CREATE_USER = frozenset({"user:write:admin", "user:write:user:admin"})
SCOPES_UPDATE_USER = frozenset({"user:write:admin", "user:update:user:admin"})
SCOPES_USER_STATUS = frozenset({"user:write:admin", "user:update:user:admin", "user:update:status:admin"})
SCOPES_USER_EMAIL = frozenset({"user:write:admin", "user:update:user:admin", "user:update:email:admin"})
SCOPES_DELETE_USER = frozenset({"user:write:admin", "user:delete:user:admin"})

UPDATABLE_TEXT_FIELDS = (
    "first_name",
    "last_name",
    "dept",
    "job_title",
    "timezone",
    "language",
    "phone_number",
)


class ZoomUserChanges:
    """The ``/v2/users`` write handlers."""

    def __init__(self, sim: ZoomSimulator) -> None:
        self.sim = sim

    def routes(self) -> list[RouteSpec]:
        """The ``/v2/users`` write routes."""
        return [
            ("/v2/users", self.create_user, "POST", "api"),
            ("/v2/users/<user_id>", self.update_user, "PATCH", "api"),
            ("/v2/users/<user_id>", self.delete_user, "DELETE", "api"),
            ("/v2/users/<user_id>/status", self.update_status, "PUT", "api"),
            ("/v2/users/<user_id>/email", self.update_email, "PUT", "api"),
            ("/v2/users/<user_id>/token", self.revoke_sso_token, "DELETE", "api"),
        ]

    def create_user(self, request: Request) -> Response:
        """``POST /v2/users`` (Light): ``create`` makes a pending user; 409 code 1005 on a clash."""
        ctx = self.sim.api.authenticate(request, "Light", SCOPES_CREATE_USER)
        body = json_object(request)
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
        self.sim.events.emit_user_event(
            "user.created", user, operator=ctx.user, extra={"creation_type": action}
        )
        return zoom_json(
            user.summary(), 201, headers={"Content-Location": f"{request_base(request)}/v2/users/{user.id}"}
        )

    def _count_daily_create(self, account: ZoomAccount) -> None:
        now = self.sim.clock.now()
        day = utc_day(now)
        limit = DAILY_CREATE_LIMITS[account.plan]
        counted_day, used = account.creates_today
        used = used if counted_day == day else 0
        if used >= limit:
            self.sim.api.raise_rate_limited(
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
        ctx = self.sim.api.authenticate(request, "Light", SCOPES_UPDATE_USER)
        user = self.sim.api.user_or_404(ctx, user_id)
        body = json_object(request)
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
            self.sim.events.emit_user_event(
                "user.updated",
                user,
                operator=ctx.user,
                object_override={"id": user.id, **changes},
                old_object=old,
            )
        return zoom_json(None, 204)

    def update_email(self, request: Request, user_id: str) -> Response:
        """``PUT /v2/users/{userId}/email`` (Light): managed domains only; 3 changes a day."""
        ctx = self.sim.api.authenticate(request, "Light", SCOPES_USER_EMAIL)
        user = self.sim.api.user_or_404(ctx, user_id)
        body = json_object(request)
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
            self.sim.api.raise_rate_limited(
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
        self.sim.events.emit_user_event(
            "user.updated",
            user,
            operator=ctx.user,
            object_override={"id": user.id, "email": email},
            old_object={"id": user.id, "email": old_email},
        )
        return zoom_json(None, 204)

    def update_status(self, request: Request, user_id: str) -> Response:
        """``PUT /v2/users/{userId}/status`` (Light): ``{"action": "activate"|"deactivate"}``, 204."""
        ctx = self.sim.api.authenticate(request, "Light", SCOPES_USER_STATUS)
        user = self.sim.api.user_or_404(ctx, user_id)
        action = json_object(request).get("action")
        if action not in ("activate", "deactivate"):
            raise validation_failed("action")
        if user.role_id != ROLE_MEMBER:
            raise zoom_error(400, 200, "Zoom Room and Admin users can not be activated or deactivated.")
        if user.status == "pending":
            raise zoom_error(400, 1000, "Pending user can not be activated or deactivated.")
        self.sim.change_status(user, "active" if action == "activate" else "inactive", operator=ctx.user)
        return zoom_json(None, 204)

    def revoke_sso_token(self, request: Request, user_id: str) -> Response:
        """``DELETE /v2/users/{userId}/token`` (Light): end the user's sessions (seed 004's logout), 204."""
        ctx = self.sim.api.authenticate(request, "Light", SCOPES_UPDATE_USER)
        self.sim.api.user_or_404(ctx, user_id)
        return zoom_json(None, 204)

    def delete_user(self, request: Request, user_id: str) -> Response:
        """``DELETE /v2/users/{userId}?action=disassociate|delete`` (Light): 204."""
        ctx = self.sim.api.authenticate(request, "Light", SCOPES_DELETE_USER)
        user = self.sim.api.user_or_404(ctx, user_id)
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
