"""Zoom behaviour switches: where the sources disagree, the stricter reading is the default."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

from devstack.simulators.http_helpers import ControlError
from devstack.simulators.zoom_limits import RetryAfterFormat
from devstack.simulators.zoom_model import REFRESH_TOKEN_TTL_STRICT


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
