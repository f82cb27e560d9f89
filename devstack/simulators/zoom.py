"""The Zoom simulator: OAuth, REST v2, SCIM2, rate limits and webhooks on one base URL.

Follows ``reference/providers.md`` section 1. Where the sources disagree, the stricter behaviour
is the default and the other one is a switch (``ZoomSwitches``); where they are silent, the
choice is written down in ``docs/simulators.md``.

Seeded state (deterministic for a seed):

- a paid account (Business plan by default, ``plan="pro"`` as an option) holding the demo
  directory's Zoom users (the demo admin is its owner), plus synthetic users up to
  ``zoom_users`` in total (for benchmarks, up to 100,000);
- a Free-plan account with its own owner and one member, to exercise paid-plan refusals;
- a Server-to-Server app for each account, and the default OAuth app registered for orgconnect.

Paths (Zoom serves them on zoom.us and api.zoom.us; here on one base URL): ``/oauth/authorize``,
``/oauth/token``, ``/oauth/revoke``, ``/v2/...``, ``/scim2/...``, plus ``/j/{id}`` join pages.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import Any, Literal

from werkzeug.wrappers import Request, Response

from devstack.simulators.common import (
    ControlError,
    OAuthApp,
    Simulator,
    json_response,
    mint_secret,
)
from devstack.simulators.demo import DemoDirectory
from devstack.simulators.zoom_api import ZoomApi
from devstack.simulators.zoom_events import ZoomEvents
from devstack.simulators.zoom_limits import (
    QPS_MESSAGE,
    RateLimiter,
    RateLimitHit,
    rate_limit_response,
)
from devstack.simulators.zoom_meetings import ZoomMeetings
from devstack.simulators.zoom_model import (
    DEFAULT_SCOPES,
    ROLE_ADMIN,
    ROLE_MEMBER,
    ROLE_OWNER,
    STATUSES,
    USER_TYPES,
    PageCursor,
    Plan,
    UserStatus,
    ZoomAccount,
    ZoomDirectory,
    ZoomMeeting,
    ZoomUser,
)
from devstack.simulators.zoom_oauth import ZoomOAuth
from devstack.simulators.zoom_scim import ZoomScim, scim_error
from devstack.simulators.zoom_seeding import MAX_ZOOM_USERS as MAX_ZOOM_USERS
from devstack.simulators.zoom_seeding import checked_seed_params, seed_zoom_accounts
from devstack.simulators.zoom_switches import ZoomSwitches as ZoomSwitches
from devstack.simulators.zoom_user_changes import ZoomUserChanges


class ZoomSimulator(Simulator):
    """A faithful local Zoom (see the module docstring and ``docs/simulators.md``).

    ``ZoomSimulator(demo=None, *, seed=7, clock=None, plan="business", zoom_users=None,
    redirect_uris=None, timeout_delay_seconds=5.0, webhook_timeout_seconds=3.0,
    **switches)`` where ``switches`` are ``ZoomSwitches`` fields.
    """

    name = "zoom"
    limiter: RateLimiter

    def __init__(
        self,
        demo: DemoDirectory | None = None,
        *,
        seed: int = 7,
        clock: Callable[[], float] | None = None,
        plan: Plan = "business",
        zoom_users: int | None = None,
        redirect_uris: Sequence[str] | None = None,
        timeout_delay_seconds: float = 5.0,
        webhook_timeout_seconds: float = 3.0,
        request_log_size: int = 10_000,
        **switches: Any,
    ) -> None:
        self.switches = ZoomSwitches()
        self.switches.update(switches)
        self.directory = ZoomDirectory()
        self.meetings: dict[int, ZoomMeeting] = {}
        self.page_cursors: dict[str, PageCursor] = {}
        self.paid_account_id = ""
        self.free_account_id = ""
        self.s2s_app: OAuthApp | None = None
        self.free_s2s_app: OAuthApp | None = None
        self.oauth = ZoomOAuth(self)
        self.events = ZoomEvents(self)
        self.api = ZoomApi(self)
        self.scim = ZoomScim(self)
        self.meetings_api = ZoomMeetings(self)
        self.user_changes = ZoomUserChanges(self)
        super().__init__(
            demo,
            seed=seed,
            clock=clock,
            redirect_uris=redirect_uris,
            timeout_delay_seconds=timeout_delay_seconds,
            webhook_timeout_seconds=webhook_timeout_seconds,
            request_log_size=request_log_size,
            seed_params=checked_seed_params(plan=plan, zoom_users=zoom_users),
        )
        self.default_app.name = "orgconnect (admin-managed OAuth app)"
        self.default_app.meta["admin_level"] = True
        for part in (self.oauth, self.api, self.user_changes, self.scim, self.meetings_api):
            self.add_routes(part.routes())

    # ----- seeding ----------------------------------------------------------------------------

    def validate_seed_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Check ``plan`` (business|pro) and ``zoom_users`` (0..100,000)."""
        return checked_seed_params(**params)

    def seed_state(self, params: Mapping[str, Any]) -> None:
        """Build both accounts, their users and their Server-to-Server apps."""
        checked = checked_seed_params(**params)
        plan: Plan = checked["plan"]
        zoom_users: int | None = checked["zoom_users"]
        self.directory = ZoomDirectory()
        self.meetings = {}
        self.page_cursors = {}
        self.limiter = RateLimiter(self.clock)
        self.scim.reset()
        seed_zoom_accounts(self, plan, zoom_users)

    def create_user(
        self,
        account: ZoomAccount,
        *,
        email: str,
        first_name: str,
        last_name: str,
        user_type: int,
        status: UserStatus,
        role_id: str = ROLE_MEMBER,
        created_at: float | None = None,
    ) -> ZoomUser:
        """Add a user to ``account`` with a deterministic id and PMI (no checks, no events)."""
        rng = self.rng
        user_id = base64.urlsafe_b64encode(rng.getrandbits(128).to_bytes(16, "big"))[:22].decode()
        created = self.clock.now() if created_at is None else created_at
        user = ZoomUser(
            id=user_id,
            account_id=account.id,
            email=email,
            first_name=first_name,
            last_name=last_name,
            type=user_type,
            status=status,
            role_id=role_id,
            created_at=created,
            pmi=rng.randrange(10**9, 10**10),
            last_login_time=created + 7200 if status == "active" else None,
        )
        return self.directory.add(user)

    # ----- accessors ---------------------------------------------------------------------------

    def paid_account(self) -> ZoomAccount:
        """The demo (paid) account."""
        return self.directory.accounts[self.paid_account_id]

    def free_account(self) -> ZoomAccount:
        """The Free-plan account."""
        return self.directory.accounts[self.free_account_id]

    def app_scopes(self, app: OAuthApp) -> list[str]:
        """The app's scopes; an app registered without scopes gets every scope the simulator knows."""
        return list(app.scopes) or list(DEFAULT_SCOPES)

    def new_page_cursor(self, cursor: PageCursor) -> str:
        """Remember a listing position and return its ``next_page_token``."""
        if len(self.page_cursors) > 10_000:
            now = self.clock.now()
            self.page_cursors = {k: c for k, c in self.page_cursors.items() if c.expires_at > now}
        token = mint_secret(24).replace("-", "").replace("_", "")
        self.page_cursors[token] = cursor
        return token

    # ----- state changes shared by REST, SCIM and the control API --------------------------

    def change_status(self, user: ZoomUser, status: UserStatus, *, operator: ZoomUser | None) -> None:
        """Move a user to ``status`` and send the matching webhook event."""
        previous = user.status
        if previous == status:
            return
        self.directory.set_status(user, status)
        if status == "inactive":
            self.events.emit_user_event("user.deactivated", user, operator=operator)
        elif status == "active":
            event = "user.invitation_accepted" if previous == "pending" else "user.activated"
            self.events.emit_user_event(event, user, operator=operator)

    def delete_user(self, user: ZoomUser, event: str, *, operator: ZoomUser | None) -> None:
        """Remove a user from its account and send ``event`` (user.deleted / user.disassociated)."""
        self.events.emit_user_event(event, user, operator=operator)
        self.directory.remove(user)

    # ----- Simulator hooks -------------------------------------------------------------------

    def send_webhook_event(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /_sim/webhooks/send``: ``endpoint.url_validation``, ``app_deauthorized``
        (``client_id``, ``user_email``) or a ``user.*`` event for ``email`` as it is now."""
        return self.events.send(body)

    def control_list_users(self) -> list[dict[str, Any]]:
        """Every user of both accounts, with its account and plan."""
        return [self._control_view(u) for u in self.directory.users.values()]

    def _control_view(self, user: ZoomUser) -> dict[str, Any]:
        account = self.directory.accounts[user.account_id]
        return {
            **user.summary(),
            "status": user.status,
            "role_id": user.role_id,
            "account_id": account.id,
            "account_plan": account.plan,
        }

    def control_add_user(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """``{"email", "first_name"?, "last_name"?, "status"? (active), "type"?, "role"?
        (member|admin), "account"? ("paid"|"free"|account id)}``; sends ``user.created``."""
        email = body.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise ControlError(400, "email is required")
        if self.directory.by_email(email) is not None:
            raise ControlError(409, f"{email} is already a Zoom user")
        account = self._control_account(body.get("account", "paid"))
        status = body.get("status", "active")
        if status not in STATUSES:
            raise ControlError(400, f"status must be one of {STATUSES}")
        user_type = body.get("type", 2 if account.is_paid else 1)
        if user_type not in USER_TYPES:
            raise ControlError(400, f"type must be one of {USER_TYPES}")
        role = body.get("role", "member")
        if role not in ("member", "admin"):
            raise ControlError(400, "role must be member or admin")
        user = self.create_user(
            account,
            email=email,
            first_name=str(body.get("first_name", "")),
            last_name=str(body.get("last_name", "")),
            user_type=int(user_type),
            status=status,
            role_id=ROLE_ADMIN if role == "admin" else ROLE_MEMBER,
        )
        self.events.emit_user_event("user.created", user, operator=None, extra={"creation_type": "create"})
        return self._control_view(user)

    def _control_account(self, ref: Any) -> ZoomAccount:
        if ref == "paid":
            return self.paid_account()
        if ref == "free":
            return self.free_account()
        account = self.directory.accounts.get(str(ref))
        if account is None:
            raise ControlError(400, "account must be 'paid', 'free' or an account id")
        return account

    def control_remove_user(self, email: str) -> None:
        """Remove a user (not an account owner); sends ``user.deleted``."""
        user = self.directory.by_email(email)
        if user is None:
            raise ControlError(404, f"no Zoom user {email}")
        if user.role_id == ROLE_OWNER:
            raise ControlError(409, "the account owner can not be removed")
        self.delete_user(user, "user.deleted", operator=None)

    def control_update_user(self, email: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``{"email"?: new, "status"?: active|inactive|pending, "first_name"?, "last_name"?,
        "type"?}``; sends user.updated / user.activated / user.deactivated /
        user.invitation_accepted."""
        user = self.directory.by_email(email)
        if user is None:
            raise ControlError(404, f"no Zoom user {email}")
        unknown = sorted(set(body) - {"email", "status", "first_name", "last_name", "type"})
        if unknown:
            raise ControlError(400, f"unknown fields {unknown}")
        status = body.get("status")
        if status is not None and status not in STATUSES:
            raise ControlError(400, f"status must be one of {STATUSES}")
        new_email = body.get("email")
        if new_email is not None:
            if not isinstance(new_email, str) or "@" not in new_email:
                raise ControlError(400, "email must be an email address")
            clash = self.directory.by_email(new_email)
            if clash is not None and clash.id != user.id:
                raise ControlError(409, f"{new_email} is already a Zoom user")
        if "type" in body and body["type"] not in USER_TYPES:
            raise ControlError(400, f"type must be one of {USER_TYPES}")
        changes: dict[str, Any] = {}
        old: dict[str, Any] = {"id": user.id}
        if new_email is not None and new_email != user.email:
            old["email"], changes["email"] = user.email, new_email
            self.directory.rename(user, new_email)
        for name in ("first_name", "last_name", "type"):
            if name in body and body[name] != getattr(user, name):
                old[name], changes[name] = getattr(user, name), body[name]
                setattr(user, name, body[name])
        if changes:
            self.events.emit_user_event(
                "user.updated",
                user,
                operator=None,
                object_override={"id": user.id, **changes},
                old_object=old,
            )
        if status is not None:
            if user.role_id == ROLE_OWNER and status != "active":
                raise ControlError(409, "the account owner must stay active")
            self.change_status(user, status, operator=None)
        return self._control_view(user)

    def apply_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Change ``ZoomSwitches`` at run time; returns them all."""
        with self.lock:
            self.switches.update(options)
            return asdict(self.switches)

    def dev_info(self, base_url: str) -> dict[str, Any]:
        """``simulators.zoom`` for dev.json: OAuth app, S2S app, accounts, URLs, webhook secret."""
        base = base_url.rstrip("/")
        with self.lock:
            paid, free = self.paid_account(), self.free_account()
            owner = self.directory.users[paid.owner_id]
            free_owner = self.directory.users[free.owner_id]
            assert self.s2s_app is not None
            assert self.free_s2s_app is not None
            info = self.base_dev_info(base)
            info.update(
                {
                    "oauth_base_url": base,
                    "api_base_url": f"{base}/v2",
                    "scim_base_url": f"{base}/scim2",
                    "authorize_url": f"{base}/oauth/authorize",
                    "token_url": f"{base}/oauth/token",
                    "revoke_url": f"{base}/oauth/revoke",
                    "account_id": paid.id,
                    "client_id": self.s2s_app.client_id,
                    "client_secret": self.s2s_app.client_secret,
                    "plan": paid.plan,
                    "admin_email": owner.email,
                    "free_account_id": free.id,
                    "free_client_id": self.free_s2s_app.client_id,
                    "free_client_secret": self.free_s2s_app.client_secret,
                    "free_admin_email": free_owner.email,
                    "webhook_secret_token": self.webhooks.secret_token,
                    "user_counts": {s: self.directory.count(paid.id, s) for s in STATUSES},
                }
            )
            return info

    def error_response(self, status: int, message: str, request: Request) -> Response:
        """Zoom's ``{"code", "message"}`` (SCIM error shape under ``/scim2``)."""
        if request.path.startswith("/scim2"):
            return scim_error(status, message).response
        return json_response({"code": status, "message": message}, status)

    def oauth_error_response(self, error: str, description: str, status: int = 400) -> Response:
        """Zoom's token-endpoint error: ``{"reason": ..., "error": ...}``."""
        return json_response(
            {"reason": description, "error": error},
            status,
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    def rate_limited_response(self, request: Request, target: str) -> Response:
        """An injected 429, shaped like a per-second quota hit on the route's request type."""
        medium = (request.method == "GET" and request.path.rstrip("/") in ("/v2/users", "/scim2/Users")) or (
            request.method == "POST" and request.path.endswith("/meetings")
        )
        now = self.clock.now()
        category: Literal["Light", "Medium"] = "Medium" if medium else "Light"
        limit = 60 if medium else 80
        hit = RateLimitHit(category, "QPS", limit, float(math.floor(now) + 1), QPS_MESSAGE)
        return rate_limit_response(hit, now, self.switches.retry_after)
