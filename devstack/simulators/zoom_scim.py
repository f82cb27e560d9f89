"""Zoom SCIM2 ``/scim2/Users`` (providers.md 1.7) with RFC 7644 list, filter and error shapes.

Zoom documents the filters ``userName eq {email}`` and ``externalId eq {userId}``, 1-based
``startIndex`` (marked required) and ``count``; the account must be on a Business plan with SSO.
Pending users (invitations) are not SCIM resources here. ``PATCH`` only (de)activates, as Zoom
describes it ("activate or deactivate").
"""

from __future__ import annotations

import json
import re
import zlib
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from devstack.simulators.common import SimResponse, json_response
from devstack.simulators.simulator import RouteSpec
from devstack.simulators.zoom_api import EMAIL_RE, CallContext
from devstack.simulators.zoom_limits import QPS_MESSAGE, RateLimitHit, rate_limit_response
from devstack.simulators.zoom_model import ROLE_MEMBER, Category, ZoomUser, iso

if TYPE_CHECKING:
    from devstack.simulators.zoom import ZoomSimulator

SCIM_JSON = "application/scim+json"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ZOOM_USER = "urn:us:zoom:scim:schemas:extension:1.0:ZoomUser"
SCOPES_SCIM = frozenset({"scim2", "scim2:admin"})

USER_TYPE_NAMES = {1: "Basic", 2: "Licensed", 3: "On-Prem", 99: "None"}
USER_TYPE_VALUES = {name.lower(): value for value, name in USER_TYPE_NAMES.items()}
FILTER_RE = re.compile(r'^\s*(userName|externalId)\s+eq\s+(?:"([^"]*)"|(\S+))\s*$', re.IGNORECASE)


def scim_error(status: int, detail: str, scim_type: str | None = None) -> SimResponse:
    """A raisable RFC 7644 section 3.12 error."""
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return SimResponse(json_response(body, status, content_type=SCIM_JSON))


def scim_json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A SCIM JSON response."""
    return json_response(data, status, headers=headers, content_type=SCIM_JSON)


class ZoomScim:
    """The handlers of ``/scim2``."""

    def __init__(self, sim: ZoomSimulator) -> None:
        self.sim = sim
        self._second: dict[str, tuple[int, int]] = {}

    def routes(self) -> list[RouteSpec]:
        """The ``/scim2/Users`` routes."""
        return [
            ("/scim2/Users", self.list_users, "GET", "scim"),
            ("/scim2/Users", self.create_user, "POST", "scim"),
            ("/scim2/Users/<user_id>", self.get_user, "GET", "scim"),
            ("/scim2/Users/<user_id>", self.replace_user, "PUT", "scim"),
            ("/scim2/Users/<user_id>", self.patch_user, "PATCH", "scim"),
            ("/scim2/Users/<user_id>", self.delete_user, "DELETE", "scim"),
        ]

    def reset(self) -> None:
        """Forget the legacy per-second SCIM counters."""
        self._second.clear()

    def _auth(self, request: Request, category: Category) -> CallContext:
        accept = request.headers.get("Accept", "")
        if accept and not any(t in accept for t in (SCIM_JSON, "*/*", "application/*")):
            raise scim_error(406, "Set the Accept header to application/scim+json.")
        ctx = self.sim.api.authenticate(request, category, SCOPES_SCIM)
        if ctx.account.plan != "business" or not ctx.account.sso_enabled:
            raise scim_error(400, "Account has not enabled Single Sign-On.")
        if self.sim.switches.scim_one_per_second:
            # The older Zoom description: 1 request/second per account for every SCIM2 endpoint.
            second = int(self.sim.clock.now())
            window, used = self._second.get(ctx.account.id, (second, 0))
            used = used if window == second else 0
            if used >= 1:
                hit = RateLimitHit(category, "QPS", 1, float(second + 1), QPS_MESSAGE)
                raise SimResponse(
                    rate_limit_response(hit, self.sim.clock.now(), self.sim.switches.retry_after)
                )
            self._second[ctx.account.id] = (second, used + 1)
        return ctx

    def _user(self, ctx: CallContext, user_id: str) -> ZoomUser:
        user = self.sim.directory.users.get(user_id)
        if user is None or user.account_id != ctx.account.id or user.status == "pending":
            raise scim_error(404, f"User {user_id} not found.")
        return user

    def resource(self, user: ZoomUser, base_url: str) -> dict[str, Any]:
        """A user as a SCIM resource (shape of Zoom's Postman example)."""
        return {
            "schemas": [CORE_USER, ENTERPRISE_USER, ZOOM_USER],
            "id": user.id,
            "externalId": user.external_id or user.id,
            "meta": {
                "resourceType": "User",
                "created": iso(user.created_at),
                "location": f"{base_url}/scim2/Users/{user.id}",
                "version": f'W/"{_version(user)}"',
            },
            "userName": user.email,
            "name": {"givenName": user.first_name, "familyName": user.last_name},
            "displayName": user.display_name,
            "emails": [{"type": "work", "value": user.email, "primary": True}],
            "active": user.status == "active",
            "userType": USER_TYPE_NAMES.get(user.type, "Basic"),
            ENTERPRISE_USER: {"department": user.dept},
            ZOOM_USER: {"loginType": {"workEmail": True, "sso": True}},
        }

    # ----- handlers -------------------------------------------------------------------------

    def list_users(self, request: Request) -> Response:
        """``GET /scim2/Users?startIndex=&count=&filter=`` (Medium)."""
        ctx = self._auth(request, "Medium")
        raw_start = request.args.get("startIndex")
        if raw_start is None:
            raise scim_error(400, "startIndex is required.", "invalidValue")
        try:
            start = max(1, int(raw_start))
            count = int(request.args.get("count", self.sim.switches.scim_max_count))
        except ValueError:
            raise scim_error(400, "startIndex and count must be integers.", "invalidValue") from None
        count = min(max(count, 0), self.sim.switches.scim_max_count)
        filter_text = request.args.get("filter")
        directory = self.sim.directory
        account_id = ctx.account.id
        if filter_text:
            match = FILTER_RE.match(filter_text)
            if match is None:
                raise scim_error(400, f"Unsupported filter: {filter_text}", "invalidFilter")
            attribute, value = match.group(1).lower(), match.group(2) or match.group(3) or ""
            if attribute == "username":
                found = directory.find(account_id, value) if "@" in value else None
                matches = [found] if found is not None and found.status != "pending" else []
            else:
                matches = [
                    u
                    for u in directory.account_users(account_id)
                    if u.status != "pending" and value in (u.external_id, u.id)
                ][:1]
            total = len(matches)
            page = matches[start - 1 : start - 1 + count]
        else:
            active = directory.count(account_id, "active")
            total = active + directory.count(account_id, "inactive")
            offset = start - 1
            page = directory.page(account_id, "active", offset, count)
            if len(page) < count:
                page += directory.page(account_id, "inactive", max(0, offset - active), count - len(page))
        base = str(request.host_url).rstrip("/")
        return scim_json(
            {
                "schemas": [LIST_SCHEMA],
                "totalResults": total,
                "startIndex": start,
                "itemsPerPage": len(page),
                "Resources": [self.resource(u, base) for u in page],
            }
        )

    def get_user(self, request: Request, user_id: str) -> Response:
        """``GET /scim2/Users/{id}`` (Light)."""
        ctx = self._auth(request, "Light")
        return scim_json(self.resource(self._user(ctx, user_id), str(request.host_url).rstrip("/")))

    def create_user(self, request: Request) -> Response:
        """``POST /scim2/Users`` (Light): an active, SSO-provisioned user; 409 on a clash."""
        ctx = self._auth(request, "Light")
        body = _scim_body(request)
        email = body.get("userName")
        if not isinstance(email, str) or not EMAIL_RE.match(email):
            raise scim_error(400, "userName must be an email address.", "invalidValue")
        if self.sim.directory.by_email(email) is not None:
            raise scim_error(409, f"User already in the account: {email}", "uniqueness")
        given, family = _names(body)
        user_type = _user_type(body.get("userType", "Basic"))
        user = self.sim.create_user(
            ctx.account,
            email=email,
            first_name=given,
            last_name=family,
            user_type=user_type,
            status="active" if body.get("active", True) is not False else "inactive",
        )
        user.external_id = body.get("externalId") if isinstance(body.get("externalId"), str) else None
        user.dept = _department(body) or ""
        self.sim.events.emit_user_event(
            "user.created", user, operator=ctx.user, extra={"creation_type": "ssoCreate"}
        )
        base = str(request.host_url).rstrip("/")
        return scim_json(
            self.resource(user, base), 201, headers={"Location": f"{base}/scim2/Users/{user.id}"}
        )

    def replace_user(self, request: Request, user_id: str) -> Response:
        """``PUT /scim2/Users/{id}`` (Light): replace names, type, department, externalId, active."""
        ctx = self._auth(request, "Light")
        user = self._user(ctx, user_id)
        body = _scim_body(request)
        if (
            body.get("userName") not in (None, user.email)
            and str(body.get("userName")).lower() != user.email.lower()
        ):
            raise scim_error(400, "userName can not be changed.", "mutability")
        given, family = _names(body)
        old = {"id": user.id, "first_name": user.first_name, "last_name": user.last_name}
        user.first_name, user.last_name = given, family
        user.type = _user_type(body.get("userType", USER_TYPE_NAMES.get(user.type, "Basic")))
        user.dept = _department(body) or ""
        if isinstance(body.get("externalId"), str):
            user.external_id = body["externalId"]
        self.sim.events.emit_user_event(
            "user.updated",
            user,
            operator=ctx.user,
            object_override={"id": user.id, "first_name": given, "last_name": family},
            old_object=old,
        )
        if "active" in body:
            self._set_active(ctx, user, body["active"])
        return scim_json(self.resource(user, str(request.host_url).rstrip("/")))

    def patch_user(self, request: Request, user_id: str) -> Response:
        """``PATCH /scim2/Users/{id}`` (Light): a PatchOp that sets ``active``; 204."""
        ctx = self._auth(request, "Light")
        user = self._user(ctx, user_id)
        body = _scim_body(request)
        operations = body.get("Operations")
        if PATCH_SCHEMA not in body.get("schemas", []) or not isinstance(operations, list) or not operations:
            raise scim_error(400, "Body must be a PatchOp with Operations.", "invalidSyntax")
        for operation in operations:
            if not isinstance(operation, dict) or str(operation.get("op", "")).lower() != "replace":
                raise scim_error(400, "Only replace operations are supported.", "invalidSyntax")
            path, value = operation.get("path"), operation.get("value")
            if path is None and isinstance(value, dict) and set(value) == {"active"}:
                value = value["active"]
            elif path != "active":
                raise scim_error(400, "Only the active attribute can be patched.", "invalidPath")
            self._set_active(ctx, user, value)
        return json_response(None, 204)

    def delete_user(self, request: Request, user_id: str) -> Response:
        """``DELETE /scim2/Users/{id}`` (Light): 204."""
        ctx = self._auth(request, "Light")
        user = self._user(ctx, user_id)
        if user.role_id != ROLE_MEMBER:
            raise scim_error(400, "Admin users can not be deleted.", "mutability")
        self.sim.delete_user(user, "user.deleted", operator=ctx.user)
        return json_response(None, 204)

    def _set_active(self, ctx: CallContext, user: ZoomUser, value: Any) -> None:
        if not isinstance(value, bool):
            raise scim_error(400, "active must be a boolean.", "invalidValue")
        if user.role_id != ROLE_MEMBER and not value:
            raise scim_error(400, "Admin users can not be deactivated.", "mutability")
        self.sim.change_status(user, "active" if value else "inactive", operator=ctx.user)


def _scim_body(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(request.get_data(cache=True) or b"null")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise scim_error(400, "Request body must be a JSON object.", "invalidSyntax")
    return data


def _names(body: dict[str, Any]) -> tuple[str, str]:
    name = body.get("name") or {}
    if not isinstance(name, dict):
        raise scim_error(400, "name must be an object.", "invalidValue")
    given, family = name.get("givenName", ""), name.get("familyName", "")
    if not isinstance(given, str) or not isinstance(family, str) or len(given) > 64 or len(family) > 64:
        raise scim_error(400, "name.givenName and name.familyName must be strings (max 64).", "invalidValue")
    return given, family


def _user_type(value: Any) -> int:
    if not isinstance(value, str) or value.lower() not in USER_TYPE_VALUES:
        raise scim_error(400, f"Unknown userType {value!r}.", "invalidValue")
    return USER_TYPE_VALUES[value.lower()]


def _department(body: dict[str, Any]) -> str | None:
    extension = body.get(ENTERPRISE_USER)
    if isinstance(extension, dict) and isinstance(extension.get("department"), str):
        return str(extension["department"])
    return None


def _version(user: ZoomUser) -> int:
    """A stable ETag-ish number that changes when the user's visible attributes change."""
    return zlib.crc32(repr((user.email, user.status, user.first_name, user.last_name, user.type)).encode())
