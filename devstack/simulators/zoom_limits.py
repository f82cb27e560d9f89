"""Zoom rate limiting (providers.md 1.6): per account, per request type, per second and per day.

Quotas are shared by every app and token of an account ("Rate limits are applied at the account
level"), and counted per request type, not per endpoint. Windows follow the simulator's clock:
the per-second window is the current whole second, the daily window the current UTC day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from werkzeug.wrappers import Response

from devstack.simulators.common import SimClock, json_response
from devstack.simulators.zoom_model import RATE_LIMITS, Category, ZoomAccount, iso, next_utc_midnight, utc_day

LimitType = Literal["QPS", "Daily-limit"]
RetryAfterFormat = Literal["date", "seconds"]

QPS_MESSAGE = "You have reached the maximum per-second rate limit for this API. Try again later."
DAILY_MESSAGE = "You have reached the maximum daily rate limit for this API. Try again later."


@dataclass(frozen=True)
class RateLimitHit:
    """Why a call was refused: which quota, its size, and when it frees up (epoch seconds)."""

    category: Category
    limit_type: LimitType
    limit: int
    retry_at: float
    message: str


class RateLimiter:
    """Counts calls per (account, request type) in the current second and UTC day."""

    def __init__(self, clock: SimClock) -> None:
        self._clock = clock
        self._second: dict[tuple[str, Category], tuple[int, int]] = {}
        self._daily: dict[tuple[str, Category], tuple[int, int]] = {}

    def reset(self) -> None:
        """Forget every count."""
        self._second.clear()
        self._daily.clear()

    def hit(self, account: ZoomAccount, category: Category) -> RateLimitHit | None:
        """Count one call; returns the quota it broke (and does not count it), else None."""
        now = self._clock.now()
        per_second, per_day = RATE_LIMITS[account.plan][category]
        key = (account.id, category)
        second = math.floor(now)
        window, used = self._second.get(key, (second, 0))
        if window != second:
            window, used = second, 0
        if used >= per_second:
            return RateLimitHit(category, "QPS", per_second, float(second + 1), QPS_MESSAGE)
        day = utc_day(now)
        daily_window, daily_used = self._daily.get(key, (day, 0))
        if daily_window != day:
            daily_window, daily_used = day, 0
        if per_day is not None and daily_used >= per_day:
            return RateLimitHit(category, "Daily-limit", per_day, next_utc_midnight(now), DAILY_MESSAGE)
        self._second[key] = (window, used + 1)
        self._daily[key] = (daily_window, daily_used + 1)
        return None


def rate_limit_response(hit: RateLimitHit, now: float, retry_after: RetryAfterFormat) -> Response:
    """Zoom's 429: ``{"code": 429, "message"}`` with the documented ``X-RateLimit-*`` headers.

    ``Retry-After`` is an ISO date-time as in Zoom's documented example (``retry_after="date"``),
    or whole seconds (``"seconds"``) for clients that only understand RFC 9110 delta-seconds.
    """
    retry_value = iso(hit.retry_at) if retry_after == "date" else str(max(1, math.ceil(hit.retry_at - now)))
    headers = {
        "Retry-After": retry_value,
        "X-RateLimit-Category": hit.category,
        "X-RateLimit-Type": hit.limit_type,
        "X-RateLimit-Limit": str(hit.limit),
        "X-RateLimit-Remaining": "0",
    }
    return json_response({"code": 429, "message": hit.message}, 429, headers=headers)
