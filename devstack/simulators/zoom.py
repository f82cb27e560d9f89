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
import html
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from werkzeug.wrappers import Request, Response

from devstack.simulators.common import (
    ControlError,
    OAuthApp,
    Simulator,
    html_page,
    json_response,
    mint_secret,
)
from devstack.simulators.demo import DemoDirectory
from devstack.simulators.zoom_api import ZoomApi
from devstack.simulators.zoom_limits import (
    QPS_MESSAGE,
    RateLimiter,
    RateLimitHit,
    RetryAfterFormat,
    rate_limit_response,
)
from devstack.simulators.zoom_model import (
    DEFAULT_SCOPES,
    PLANS,
    REFRESH_TOKEN_TTL_STRICT,
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
    iso,
)
from devstack.simulators.zoom_oauth import ZoomOAuth
from devstack.simulators.zoom_scim import ZoomScim, scim_error
from devstack.simulators.zoom_webhooks import envelope, signed_request, validation_ok

MAX_ZOOM_USERS = 100_000
SEED_EPOCH = 1_672_531_200.0  # 2023-01-01T00:00:00Z: seeded users' created_at (never the clock)
FREE_DOMAIN = "freeplan.example"
MANAGED_DOMAINS = ("example.com", "subsidiary.example")

_SYNTH_FIRST = ("Alex", "Blair", "Casey", "Devon", "Emery", "Finley", "Gray", "Harper", "Indy", "Jules")
_SYNTH_LAST = ("Adams", "Baker", "Clark", "Davis", "Evans", "Foster", "Garcia", "Hughes", "Irwin", "Jones")


@dataclass
class ZoomSwitches:
    """Behaviour switches (constructor keywords, or ``PATCH /_sim/options`` at run time).

    Defaults are the stricter reading of providers.md; each switch names the alternative.
    """

    #: Enforce per-plan, per-type quotas (turn off for large benchmark seeds).
    rate_limits: bool = True
    #: ``Retry-After`` as an ISO date-time (Zoom's documented example) or as seconds.
    retry_after: RetryAfterFormat = "date"
    #: HTTP status of "user already exists" on ``POST /users``: 409 (providers.md) or 412 (seed 004).
    duplicate_user_status: int = 409
    #: A member approving an admin-level app: an error page (no redirect) or ``error=access_denied``.
    non_admin_authorize: Literal["error_page", "access_denied"] = "error_page"
    #: Historical S2S behaviour (2022): a new token invalidates the previous ones.
    s2s_single_token: bool = False
    #: Refresh-token lifetime: 90 days (the shorter source) by default; 15 years is the other.
    refresh_token_ttl_seconds: float = REFRESH_TOKEN_TTL_STRICT
    #: Refuse API calls whose token lacks the endpoint's scope (400, code 4711).
    enforce_scopes: bool = True
    #: The older SCIM2 limit of 1 request/second per account (default: the Light/Medium labels).
    scim_one_per_second: bool = False
    #: Largest SCIM ``count`` honoured (Zoom's maximum is undocumented).
    scim_max_count: int = 100
    #: Let Free accounts use ``POST /users`` (default: "Prerequisite: A Pro or higher plan").
    free_plan_can_create_users: bool = False
    #: Refuse ``action=disassociate`` for users of a managed domain (code 1107).
    strict_managed_domains: bool = False

    def update(self, options: Mapping[str, Any]) -> None:
        """Apply ``options``, validating names and values (``ControlError(400)`` otherwise)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ControlError(400, f"unknown zoom options: {unknown}")
        for name, value in options.items():
            current = getattr(self, name)
            if name == "retry_after" and value not in ("date", "seconds"):
                raise ControlError(400, "retry_after must be 'date' or 'seconds'")
            if name == "non_admin_authorize" and value not in ("error_page", "access_denied"):
                raise ControlError(400, "non_admin_authorize must be 'error_page' or 'access_denied'")
            if name == "duplicate_user_status" and value not in (409, 412):
                raise ControlError(400, "duplicate_user_status must be 409 or 412")
            if isinstance(current, bool) and not isinstance(value, bool):
                raise ControlError(400, f"{name} must be true or false")
            if name in ("refresh_token_ttl_seconds", "scim_max_count") and (
                isinstance(value, bool) or not isinstance(value, int | float) or value <= 0
            ):
                raise ControlError(400, f"{name} must be a positive number")
            setattr(self, name, int(value) if name == "scim_max_count" else value)


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
        self.api = ZoomApi(self)
        self.scim = ZoomScim(self)
        super().__init__(
            demo,
            seed=seed,
            clock=clock,
            redirect_uris=redirect_uris,
            timeout_delay_seconds=timeout_delay_seconds,
            webhook_timeout_seconds=webhook_timeout_seconds,
            request_log_size=request_log_size,
            seed_params=_seed_params(plan=plan, zoom_users=zoom_users),
        )
        self.default_app.name = "orgconnect (admin-managed OAuth app)"
        self.default_app.meta["admin_level"] = True
        self._add_zoom_routes()

    # ----- seeding ----------------------------------------------------------------------------

    def validate_seed_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Check ``plan`` (business|pro) and ``zoom_users`` (0..100,000)."""
        return _seed_params(**params)

    def seed_state(self, params: Mapping[str, Any]) -> None:
        """Build both accounts, their users and their Server-to-Server apps."""
        checked = _seed_params(**params)
        plan: Plan = checked["plan"]
        zoom_users: int | None = checked["zoom_users"]
        self.directory = ZoomDirectory()
        self.meetings = {}
        self.page_cursors = {}
        self.limiter = RateLimiter(self.clock)
        self.scim.reset()
        rng = self.rng
        paid = ZoomAccount(
            id=self.derived_id("paid-account"),
            name="Example Corp",
            plan=plan,
            account_number=rng.randrange(10**8, 10**9),
            managed_domains=MANAGED_DOMAINS,
            sso_enabled=plan == "business",
            cust_create_enabled=True,
        )
        free = ZoomAccount(
            id=self.derived_id("free-account"),
            name="Freeplan Studio",
            plan="free",
            account_number=rng.randrange(10**8, 10**9),
        )
        self.directory.accounts = {paid.id: paid, free.id: free}
        self.paid_account_id, self.free_account_id = paid.id, free.id
        admin_email = self.demo.admin.email
        people = self.demo.zoom_users()
        for index, person in enumerate(people):
            assert person.zoom_status is not None
            user = self.create_user(
                paid,
                email=person.email,
                first_name=person.first_name,
                last_name=person.last_name,
                user_type=2,
                status=person.zoom_status,
                role_id=ROLE_OWNER if person.email == admin_email else ROLE_MEMBER,
                created_at=SEED_EPOCH + index * 3600,
            )
            if user.role_id == ROLE_OWNER:
                paid.owner_id = user.id
        for index in range(max(0, (zoom_users or 0) - len(people))):
            first = _SYNTH_FIRST[index % len(_SYNTH_FIRST)]
            last = _SYNTH_LAST[(index // len(_SYNTH_FIRST)) % len(_SYNTH_LAST)]
            # Mostly active, 1 in 20 pending, 1 in 50 inactive (like the demo directory).
            status: UserStatus = (
                "pending" if index % 20 == 7 else "inactive" if index % 50 == 13 else "active"
            )
            self.create_user(
                paid,
                email=f"{first}.{last}.{index:06d}@example.com".lower(),
                first_name=first,
                last_name=last,
                user_type=2,
                status=status,
                created_at=SEED_EPOCH + 86400 + index,
            )
        owner = self.create_user(
            free,
            email=f"fiona.free@{FREE_DOMAIN}",
            first_name="Fiona",
            last_name="Free",
            user_type=1,
            status="active",
            role_id=ROLE_OWNER,
            created_at=SEED_EPOCH,
        )
        free.owner_id = owner.id
        self.create_user(
            free,
            email=f"sam.solo@{FREE_DOMAIN}",
            first_name="Sam",
            last_name="Solo",
            user_type=1,
            status="active",
            created_at=SEED_EPOCH + 60,
        )
        self.s2s_app = self.register_app(
            self.derived_id("s2s-client-id"),
            self.derived_secret("s2s-client-secret"),
            [],
            name="Demo Server-to-Server app",
            kind="server_to_server",
            meta={"account_id": paid.id},
        )
        self.free_s2s_app = self.register_app(
            self.derived_id("free-s2s-client-id"),
            self.derived_secret("free-s2s-client-secret"),
            [],
            name="Free account Server-to-Server app",
            kind="server_to_server",
            meta={"account_id": free.id},
        )

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
            self.emit_user_event("user.deactivated", user, operator=operator)
        elif status == "active":
            event = "user.invitation_accepted" if previous == "pending" else "user.activated"
            self.emit_user_event(event, user, operator=operator)

    def delete_user(self, user: ZoomUser, event: str, *, operator: ZoomUser | None) -> None:
        """Remove a user from its account and send ``event`` (user.deleted / user.disassociated)."""
        self.emit_user_event(event, user, operator=operator)
        self.directory.remove(user)

    def emit_user_event(
        self,
        event: str,
        user: ZoomUser,
        *,
        operator: ZoomUser | None,
        extra: Mapping[str, Any] | None = None,
        object_override: Mapping[str, Any] | None = None,
        old_object: Mapping[str, Any] | None = None,
    ) -> None:
        """Queue a signed user event for the configured webhook URL (none: nothing happens)."""
        if self.webhooks.url is None:
            return
        body, headers = self._user_event_request(event, user, operator, extra, object_override, old_object)
        self.queue_webhook(event, body, headers)

    def _user_event_request(
        self,
        event: str,
        user: ZoomUser,
        operator: ZoomUser | None,
        extra: Mapping[str, Any] | None = None,
        object_override: Mapping[str, Any] | None = None,
        old_object: Mapping[str, Any] | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        now = self.clock.now()
        account = self.directory.accounts.get(user.account_id)
        if operator is None and account is not None:
            operator = self.directory.users.get(account.owner_id)
        payload: dict[str, Any] = {
            "account_id": user.account_id,
            "operator": operator.email if operator else "",
            "operator_id": operator.id if operator else "",
            "object": dict(object_override) if object_override else user.summary(),
        }
        if old_object is not None:
            payload["old_object"] = dict(old_object)
            payload["time_stamp"] = int(now * 1000)
        payload.update(extra or {})
        return signed_request(self.webhooks.secret_token, envelope(event, payload, now), now)

    def deauthorize(self, client_id: str | None = None, user_email: str | None = None) -> dict[str, Any]:
        """Uninstall an OAuth app for the account of ``user_email``: revoke its tokens, send
        ``app_deauthorized``. Defaults: orgconnect's app and the paid account's owner."""
        with self.transaction():
            client_id = client_id or self.default_app.client_id
            owner = self.directory.users[self.paid_account().owner_id]
            user = self.directory.by_email(user_email) if user_email else owner
            if user is None:
                raise ControlError(404, f"no Zoom user {user_email}")
            revoked = self.tokens.revoke_where(
                lambda t: t.client_id == client_id and t.extra.get("account_id") == user.account_id
            )
            now = self.clock.now()
            payload = {
                "account_id": user.account_id,
                "user_id": user.id,
                "signature": mint_secret(32),
                "deauthorization_time": iso(now)[:-1] + ".000Z",
                "client_id": client_id,
                "user_data_retention": "false",
            }
            body, headers = signed_request(
                self.webhooks.secret_token, envelope("app_deauthorized", payload, now), now
            )
            url = self.webhooks.url
        result: dict[str, Any] = {"revoked_tokens": revoked}
        if url is not None:
            result.update(self.deliver_webhook("app_deauthorized", url, body, headers))
        return result

    def send_url_validation(self) -> dict[str, Any]:
        """Send an ``endpoint.url_validation`` challenge and check the receiver's answer."""
        with self.lock:
            url, secret = self.webhooks.url, self.webhooks.secret_token
            now = self.clock.now()
        if url is None:
            raise ControlError(409, "no webhook URL configured")
        plain = mint_secret(16)
        body, headers = signed_request(
            secret, envelope("endpoint.url_validation", {"plainToken": plain}, now), now
        )
        result = self.deliver_webhook("endpoint.url_validation", url, body, headers)
        result["validated"] = result["status"] == 200 and validation_ok(
            secret, plain, result["response_json"]
        )
        self.log_event(
            {"kind": "webhook_validation", "time": now, "target": "webhook", "validated": result["validated"]}
        )
        return result

    # ----- Simulator hooks -------------------------------------------------------------------

    def send_webhook_event(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /_sim/webhooks/send``: ``endpoint.url_validation``, ``app_deauthorized``
        (``client_id``, ``user_email``) or a ``user.*`` event for ``email`` as it is now."""
        event = str(body["event"])
        if event == "endpoint.url_validation":
            return self.send_url_validation()
        if event == "app_deauthorized":
            return self.deauthorize(body.get("client_id"), body.get("user_email"))
        if not event.startswith("user."):
            raise ControlError(400, f"unsupported event {event!r}")
        with self.transaction():
            user = self.directory.by_email(str(body.get("email", "")))
            if user is None:
                raise ControlError(404, "email of an existing Zoom user is required for user events")
            request_body, headers = self._user_event_request(event, user, None)
            url = self.webhooks.url
        assert url is not None
        return self.deliver_webhook(event, url, request_body, headers)

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
        self.emit_user_event("user.created", user, operator=None, extra={"creation_type": "create"})
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
            self.emit_user_event(
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

    # ----- routes ----------------------------------------------------------------------------

    def _add_zoom_routes(self) -> None:
        oauth, api, scim = self.oauth, self.api, self.scim
        route = self.add_route
        route("/oauth/authorize", oauth.authorize_page, methods=["GET"], target="authorize")
        route("/oauth/authorize", oauth.authorize_decision, methods=["POST"], target="authorize")
        route("/oauth/token", oauth.token, methods=["POST"], target="token")
        route("/oauth/revoke", oauth.revoke, methods=["POST"], target="revoke")
        route("/v2/users", api.list_users, methods=["GET"], target="api")
        route("/v2/users", api.create_user, methods=["POST"], target="api")
        route("/v2/users/email", api.check_email, methods=["GET"], target="api")
        route("/v2/users/<user_id>", api.get_user, methods=["GET"], target="api")
        route("/v2/users/<user_id>", api.update_user, methods=["PATCH"], target="api")
        route("/v2/users/<user_id>", api.delete_user, methods=["DELETE"], target="api")
        route("/v2/users/<user_id>/status", api.update_status, methods=["PUT"], target="api")
        route("/v2/users/<user_id>/email", api.update_email, methods=["PUT"], target="api")
        route("/v2/users/<user_id>/meetings", api.create_meeting, methods=["POST"], target="api")
        route("/v2/meetings/<int:meeting_id>", api.get_meeting, methods=["GET"], target="api")
        route("/scim2/Users", scim.list_users, methods=["GET"], target="scim")
        route("/scim2/Users", scim.create_user, methods=["POST"], target="scim")
        route("/scim2/Users/<user_id>", scim.get_user, methods=["GET"], target="scim")
        route("/scim2/Users/<user_id>", scim.replace_user, methods=["PUT"], target="scim")
        route("/scim2/Users/<user_id>", scim.patch_user, methods=["PATCH"], target="scim")
        route("/scim2/Users/<user_id>", scim.delete_user, methods=["DELETE"], target="scim")
        route("/j/<int:meeting_id>", self._join_page, methods=["GET"], target="web")

    def _join_page(self, request: Request, meeting_id: int) -> Response:
        """A stand-in for Zoom's join page, so demo links lead somewhere."""
        meeting = self.meetings.get(meeting_id)
        if meeting is None:
            return html_page("Meeting not found", "<h1>This meeting ID is not valid.</h1>", 404)
        body = (
            f'<h1 data-testid="meeting-topic">{html.escape(meeting.topic)}</h1>'
            f"<p>Meeting ID {meeting.id} hosted by {html.escape(meeting.host_email)}, "
            f"{iso(meeting.start_time)} ({meeting.duration} min, {html.escape(meeting.timezone)}).</p>"
            '<p data-testid="meeting-join">Simulated Zoom: joining happens nowhere.</p>'
        )
        return html_page(f"Zoom meeting {meeting.id}", body)


def _seed_params(**params: Any) -> dict[str, Any]:
    """Validate the Zoom seeding parameters (``plan``, ``zoom_users``)."""
    unknown = sorted(set(params) - {"plan", "zoom_users"})
    if unknown:
        raise ControlError(400, f"unknown zoom seed parameters: {unknown}")
    plan = params.get("plan", "business")
    if plan not in PLANS or plan == "free":
        raise ControlError(400, "plan must be 'business' or 'pro' (the Free account is always seeded)")
    zoom_users = params.get("zoom_users")
    if zoom_users is not None and (
        isinstance(zoom_users, bool)
        or not isinstance(zoom_users, int)
        or not 0 <= zoom_users <= MAX_ZOOM_USERS
    ):
        raise ControlError(400, f"zoom_users must be an integer from 0 to {MAX_ZOOM_USERS}")
    return {"plan": plan, "zoom_users": zoom_users}
