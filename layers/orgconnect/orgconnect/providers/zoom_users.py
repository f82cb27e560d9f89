"""Zoom user writes for provisioning (providers.md 1.4): ``POST /v2/users``, ``GET /v2/users/{id}``,
``PATCH /v2/users/{id}``, ``PUT …/email``, ``PUT …/status``, ``DELETE …/token`` and
``DELETE /v2/users/{id}?action=…``, through the connection's ZoomApi (its retry policy: network
errors, 5xx and 429 with ``Retry-After``; the attempts are the policy's ``io_retries`` + 1).

A create answered 409 with code 1005 (seed 004's "duplicate record returns id") raises
UserAlreadyExists; the caller looks the user up by email and adopts it. An email change is sent
once, never retried: Zoom allows 3 a day per user and counts every attempt.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from msgspec.structs import replace

from orgconnect.domain.conferencing import UserStatus
from orgconnect.domain.provider_model import ProviderAnswerMalformed, ProviderRefused
from orgconnect.domain.provisioning import AttributeValue, ZoomUser
from orgconnect.domain.provisioning_policy import CreateAction, RemoveAction, ZoomUserType
from orgconnect.providers.api import ProviderApi
from orgconnect.providers.conferencing import text

USER_EXISTS_CODES = frozenset({"1005", "1009"})  # "User already in the account" / "already holds an account"
USER_NOT_FOUND_CODES = frozenset({"1001", "1010"})
STATUSES = {"active": UserStatus.ACTIVE, "pending": UserStatus.PENDING, "inactive": UserStatus.INACTIVE}
#: The mapping's keys and the Zoom user fields they read and write (PATCH /users/{id}).
ZOOM_FIELDS = {
    "first_name": "first_name",
    "last_name": "last_name",
    "phone": "phone_number",
    "title": "job_title",
    "department": "dept",
    "organization": "company",
    "locale": "language",
    "type": "type",
}


class UserAlreadyExists(ProviderRefused):
    """``POST /users`` answered 409 (code 1005): the email is already a user of the account."""


def _path(user_id: str) -> str:
    return f"/v2/users/{quote(user_id.strip(), safe='@')}"


class ZoomUsers:
    """The Zoom user writes of one connection (its ZoomApi holds the access token)."""

    def __init__(self, api: ProviderApi, *, io_retries: int | None = None) -> None:
        self.api = api
        if io_retries is not None:
            from orgconnect.providers.retry import DEFAULT_POLICY

            api.retry_policy = replace(api.retry_policy or DEFAULT_POLICY, attempts=io_retries + 1)

    def create(
        self,
        email: str,
        *,
        action: CreateAction,
        user_type: ZoomUserType,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> ZoomUser:
        """``POST /v2/users``: the new user (``create`` leaves it pending until the user accepts)."""
        info: dict[str, Any] = {"email": email, "type": user_type.zoom_type}
        if first_name:
            info["first_name"] = first_name[:64]
        if last_name:
            info["last_name"] = last_name[:64]
        try:
            answer = self.api.post("/v2/users", {"action": str(action), "user_info": info})
        except ProviderRefused as refused:
            if refused.status in (409, 412) or refused.error in USER_EXISTS_CODES:
                raise UserAlreadyExists(
                    refused.description, error=refused.error, status=refused.status
                ) from None
            raise
        if not isinstance(answer, dict) or not text(answer, "id"):
            raise ProviderAnswerMalformed("Zoom POST /v2/users: the answer has no user id")
        status = UserStatus.PENDING if action is CreateAction.CREATE else UserStatus.ACTIVE
        return ZoomUser(text(answer, "id"), text(answer, "email") or email, status)

    def get(self, user_id_or_email: str) -> ZoomUser | None:
        """``GET /v2/users/{id or email}`` with its attributes; None when Zoom does not know it."""
        try:
            item = self.api.get(_path(user_id_or_email))
        except ProviderRefused as refused:
            if refused.status in (400, 404) and refused.error in USER_NOT_FOUND_CODES:
                return None
            raise
        if not isinstance(item, dict) or not text(item, "id") or "@" not in text(item, "email"):
            raise ProviderAnswerMalformed("Zoom GET /v2/users/{id}: no id or email")
        return user_from(item)

    def update(self, user_id: str, changes: Mapping[str, AttributeValue]) -> None:
        """``PATCH /v2/users/{id}`` with the mapped fields in ``changes`` (email and status aside)."""
        body = {ZOOM_FIELDS[k]: v for k, v in changes.items() if k in ZOOM_FIELDS}
        if body:
            self.api.patch(_path(user_id), body)

    def change_email(self, user_id: str, email: str) -> None:
        """``PUT /v2/users/{id}/email``, one attempt only (Zoom's limit counts every attempt)."""
        from orgconnect.providers.retry import DEFAULT_POLICY

        saved = self.api.retry_policy
        self.api.retry_policy = replace(saved or DEFAULT_POLICY, attempts=1)
        try:
            self.api.call("PUT", f"{_path(user_id)}/email", json={"email": email}, idempotent=False)
        finally:
            self.api.retry_policy = saved

    def set_status(self, user_id: str, action: str) -> None:
        """``PUT /v2/users/{id}/status`` with ``activate`` or ``deactivate``."""
        self.api.call("PUT", f"{_path(user_id)}/status", json={"action": action})

    def logout(self, user_id: str) -> None:
        """``DELETE /v2/users/{id}/token``: end the user's sessions (seed 004's immediate logout)."""
        self.api.delete(f"{_path(user_id)}/token")

    def remove(self, user_id: str, how: RemoveAction) -> None:
        """``DELETE /v2/users/{id}?action=disassociate|delete`` (deactivate is ``set_status``)."""
        if how is RemoveAction.DEACTIVATE:
            raise ValueError("deactivate is set_status(user_id, 'deactivate')")
        self.api.delete(_path(user_id), params={"action": str(how)})


def user_from(item: Mapping[str, Any]) -> ZoomUser:
    """A Zoom user item as a ZoomUser; a pending user's data is minimal, so no attributes."""
    status = STATUSES.get(text(item, "status"), UserStatus.INACTIVE)
    attributes: dict[str, AttributeValue] | None = None
    if status is not UserStatus.PENDING:
        attributes = {key: text(item, field) for key, field in ZOOM_FIELDS.items() if key != "type"}
        kind = item.get("type")
        if isinstance(kind, int) and not isinstance(kind, bool):
            attributes["type"] = kind
    return ZoomUser(text(item, "id"), text(item, "email").lower(), status, attributes)
