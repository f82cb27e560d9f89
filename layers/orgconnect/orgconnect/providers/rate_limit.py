"""The client-side rate limiter: paces one provider account's requests per request category so a
long listing runs at, not above, the provider's quota, and reads the provider's rate-limit answers.

Zoom (reference: Zoom's "Rate limits" page) counts per account and per request type (Light,
Medium, Heavy, Resource-intensive), per second and, for some types, per UTC day; the plan sets the
numbers (``ZOOM_RATE_PLANS``). Pacing is a sliding window: at most ``limit`` requests in any
``per * (1 + margin)`` seconds, which is never more than ``limit`` in any of the provider's own
whole-second windows whatever their alignment with our clock; the margin absorbs network jitter.

Answers: ``X-RateLimit-Type: QPS`` with ``X-RateLimit-Limit`` sets the category's quota to what the
provider says (a plan lower than assumed is learnt from its first 429); a 429 holds the category
for its ``Retry-After`` (seconds, HTTP date or Zoom's ISO date-time); a ``Daily-limit`` answer
marks the quota used up until ``Retry-After`` or the next 00:00 UTC, and the next call fails at
once with RateLimitExhausted instead of sleeping for hours. Providers without published quotas
(Webex, Graph, Google) have no table: only their 429 holds apply, through the same path.

One limiter per (provider, account) per process (``shared_limiter``), so the chunks of a sync in
a warm Lambda share the window. Clock and sleep are injectable: tests never wait.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from msgspec import Struct, field

from orgconnect.domain.provider_model import ProviderUnavailable

DAY = 86400
#: The category of calls to a provider without published request types.
DEFAULT_CATEGORY = "default"
QPS, DAILY = "qps", "daily-limit"  # X-RateLimit-Type values, lower-cased
DEFAULT_MARGIN = 0.05  # 5 % longer windows than the provider's: network jitter never bunches calls
DEFAULT_MAX_WAIT = 30.0  # a longer pacing wait or hold fails at once (a worker reschedules)
FALLBACK_HOLD = 1.0  # a 429 without Retry-After holds its category one (per-second) window
MAX_SHARED_LIMITERS = 1024


class Quota(Struct, frozen=True):
    """At most ``limit`` requests per ``per`` seconds."""

    limit: int
    per: float = 1.0


class CategoryLimits(Struct, frozen=True):
    """A request category's quotas: per window (None: not paced) and per UTC day (None: none).
    Categories naming the same ``daily_pool`` share one daily quota."""

    quota: Quota | None
    daily: int | None = None
    daily_pool: str | None = None


RateTable = Mapping[str, CategoryLimits]


def _zoom_plan(
    light: int, medium: int, heavy: int, per_minute: int, daily: tuple[int | None, ...], *, shared_daily: bool
) -> RateTable:
    light_day, medium_day, heavy_day, intensive_day = daily
    pool = "Heavy+Resource-intensive" if shared_daily else None
    return {
        "Light": CategoryLimits(Quota(light), light_day),
        "Medium": CategoryLimits(Quota(medium), medium_day),
        "Heavy": CategoryLimits(Quota(heavy), heavy_day, pool),
        "Resource-intensive": CategoryLimits(Quota(per_minute, 60.0), intensive_day, pool),
    }


#: Zoom's quotas by plan. Business+ covers Business, Business Plus, Education, Enterprise and
#: Partners; Pro and Business+ share one daily quota between Heavy and Resource-intensive.
ZOOM_RATE_PLANS: dict[str, RateTable] = {
    "free": _zoom_plan(4, 2, 1, 10, (6000, 2000, 1000, 30000), shared_daily=False),
    "pro": _zoom_plan(30, 20, 10, 10, (None, None, 30000, 30000), shared_daily=True),
    "business": _zoom_plan(80, 60, 40, 20, (None, None, 60000, 60000), shared_daily=True),
}
ZOOM_PLAN_ALIASES = {
    "business_plus": "business",
    "business+": "business",
    "enterprise": "business",
    "education": "business",
    "partner": "business",
    "basic": "free",
}
#: A paid plan whose tier is unknown paces at Pro: the lowest paid quota, never above the real one.
DEFAULT_ZOOM_PLAN = "pro"


def zoom_rate_table(plan: str | None) -> RateTable:
    """Zoom's quotas for a plan name (case-insensitive; unknown or None: Pro, the conservative one)."""
    name = (plan or DEFAULT_ZOOM_PLAN).strip().lower()
    return ZOOM_RATE_PLANS.get(ZOOM_PLAN_ALIASES.get(name, name), ZOOM_RATE_PLANS[DEFAULT_ZOOM_PLAN])


#: GET of these collections lists many resources at once: Zoom's Medium type.
ZOOM_LISTS = frozenset(
    {"users", "meetings", "webinars", "groups", "members", "recordings", "Users", "Groups"}
)
ZOOM_HEAVY_PREFIXES = ("/v2/report/", "/v2/metrics/")  # "Report APIs and most Dashboard APIs"


def zoom_category(method: str, path: str) -> str:
    """Zoom's request type of a call: Heavy for reports and dashboards, Medium to list a
    collection or create a meeting, Light for one resource (read, create, update, delete)."""
    if path.startswith(ZOOM_HEAVY_PREFIXES):
        return "Heavy"
    last = path.rstrip("/").rpartition("/")[2]
    if (method == "GET" and last in ZOOM_LISTS) or (method == "POST" and last == "meetings"):
        return "Medium"
    return "Light"


def provider_rate_table(provider: str, plan: str | None) -> RateTable | None:
    """A provider's published quotas for a plan (None: none published)."""
    return zoom_rate_table(plan) if provider == "zoom" else None


def provider_category(provider: str, method: str, path: str) -> str:
    """The request category of a call to ``provider`` (``DEFAULT_CATEGORY`` without types)."""
    return zoom_category(method, path) if provider == "zoom" else DEFAULT_CATEGORY


class RateLimitExhausted(ProviderUnavailable):
    """A quota is used up for longer than a call may wait (a daily limit, a long ``Retry-After``):
    the call was not made, or not retried. ``retry_after``: seconds until the quota frees up."""

    def __init__(
        self, description: str, *, category: str, limit_type: str | None, retry_after: float | None
    ) -> None:
        super().__init__(description, status=429, retry_after=retry_after)
        self.category = category
        self.limit_type = limit_type


class RateLimitAnswer(Struct, frozen=True):
    """What an answer's rate-limit headers say (lower-case ``X-RateLimit-Type``)."""

    category: str
    limit_type: str | None
    limit: int | None
    remaining: int | None
    retry_after: float | None
    #: The account's quota of the category (not a limit of one endpoint or one user).
    shared: bool = True

    @property
    def daily(self) -> bool:
        """A daily quota is meant (waiting for it would take hours)."""
        return self.limit_type == DAILY


class RateStats(Struct):
    """What one API client's requests met: requests sent (retries included), 429s seen, and
    seconds spent pacing; by category too. A sync reports these as "API calls" and "429s seen"."""

    requests: int = 0
    rate_limited: int = 0
    paced_seconds: float = 0.0
    requests_by_category: Counter[str] = field(default_factory=Counter)
    rate_limited_by_category: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "requests": self.requests,
            "rate_limited": self.rate_limited,
            "paced_seconds": round(self.paced_seconds, 3),
            "requests_by_category": dict(self.requests_by_category),
            "rate_limited_by_category": dict(self.rate_limited_by_category),
        }


class _Lane(Struct):
    """One category's pacing state: the send times of its last ``limit`` requests."""

    limits: CategoryLimits
    sent: deque[float] = field(default_factory=deque)
    hold_until: float = 0.0


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name, "").strip()
    return int(value) if value.isdigit() else None


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class RateLimiter:
    """Paces one provider account's requests per category (see the module docstring).

    ``clock`` gives epoch seconds (daily quotas reset at 00:00 UTC of it); ``sleep`` waits. Both
    are injectable. ``label`` names the provider in error descriptions."""

    def __init__(
        self,
        table: RateTable | None = None,
        *,
        label: str = "the provider",
        margin: float = DEFAULT_MARGIN,
        max_wait: float = DEFAULT_MAX_WAIT,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Any] = time.sleep,
    ) -> None:
        self.label = label
        self.margin = margin
        self.max_wait = max_wait
        self._table = dict(table or {})
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._lanes: dict[str, _Lane] = {}
        self._daily_used: dict[str, tuple[int, int]] = {}  # pool -> (UTC day, requests that day)
        self._exhausted_until: dict[str, float] = {}  # pool -> epoch seconds

    def use_table(self, table: RateTable) -> None:
        """Set the quotas (a plan learnt later); pacing history is kept."""
        with self._lock:
            self._table = dict(table)
            for category, lane in self._lanes.items():
                lane.limits = self._table.get(category, CategoryLimits(None))

    def limits(self, category: str) -> CategoryLimits:
        """The quotas currently applied to ``category``."""
        with self._lock:
            return self._lane(category).limits

    def _lane(self, category: str) -> _Lane:
        lane = self._lanes.get(category)
        if lane is None:
            lane = self._lanes[category] = _Lane(self._table.get(category, CategoryLimits(None)))
        return lane

    @staticmethod
    def _pool(category: str, limits: CategoryLimits) -> str:
        return limits.daily_pool or category

    # -- before a request --------------------------------------------------------------------

    def acquire(self, category: str, *, served_hold: str | None = None) -> float:
        """Wait for a slot of ``category`` and take it; returns the seconds waited. ``served_hold``:
        the category whose 429 hold the caller has just waited out itself (the retry after its
        ``Retry-After``): that hold is over. Raises RateLimitExhausted, without waiting, when the
        slot is further than ``max_wait`` away or the daily quota is used up."""
        with self._lock:
            now = self._clock()
            if served_hold is not None:
                self._lane(served_hold).hold_until = 0.0
            lane = self._lane(category)
            pool = self._pool(category, lane.limits)
            self._check_daily(category, pool, lane.limits, now)
            slot = max(now, lane.hold_until)
            quota = lane.limits.quota
            if quota is not None:
                if lane.sent.maxlen != quota.limit:
                    lane.sent = deque(lane.sent, maxlen=quota.limit)
                if lane.sent:
                    slot = max(slot, lane.sent[-1])  # keep one lane's requests in order
                if len(lane.sent) == quota.limit:
                    slot = max(slot, lane.sent[0] + quota.per * (1 + self.margin))
            wait = slot - now
            if wait > self.max_wait:
                raise RateLimitExhausted(
                    f"{self.label}: the {category} quota frees up in {math.ceil(wait)} s, "
                    f"longer than a call waits",
                    category=category,
                    limit_type=None,
                    retry_after=wait,
                )
            if quota is not None:
                lane.sent.append(slot)
            day, used = self._daily_used.get(pool, (int(now // DAY), 0))
            self._daily_used[pool] = (day, used + 1) if day == int(now // DAY) else (int(now // DAY), 1)
        if wait > 0:
            self._sleep(wait)
        return max(wait, 0.0)

    def _check_daily(self, category: str, pool: str, limits: CategoryLimits, now: float) -> None:
        until = self._exhausted_until.get(pool)
        if until is not None and now >= until:
            del self._exhausted_until[pool]
            until = None
        if until is None and limits.daily is not None:
            day, used = self._daily_used.get(pool, (int(now // DAY), 0))
            if day == int(now // DAY) and used >= limits.daily:
                until = (day + 1) * DAY
        if until is not None:
            raise RateLimitExhausted(
                f"{self.label}: the daily {category} quota is used up until {_utc(until)}",
                category=category,
                limit_type=DAILY,
                retry_after=until - now,
            )

    # -- after an answer ---------------------------------------------------------------------

    def observe(
        self, category: str, status: int, headers: Mapping[str, str], *, retry_after: float | None
    ) -> RateLimitAnswer | None:
        """Read an answer's ``X-RateLimit-*`` headers (lower-case names) and, for a 429, its
        ``Retry-After`` (seconds, already parsed). Returns what a 429 says (None for other answers)."""
        limit_type = headers.get("x-ratelimit-type", "").strip().lower() or None
        limit = _int_header(headers, "x-ratelimit-limit")
        remaining = _int_header(headers, "x-ratelimit-remaining")
        # The provider names the quota it counted the call against; our guess may differ.
        counted = headers.get("x-ratelimit-category", "").strip() or category
        with self._lock:
            now = self._clock()
            lane = self._lane(counted)
            pool = self._pool(counted, lane.limits)
            paced = lane.limits.quota
            if limit_type == QPS and limit and paced is not None and paced.limit != limit:
                quota = Quota(limit, paced.per)
                lane.limits = CategoryLimits(quota, lane.limits.daily, lane.limits.daily_pool)
            # Zoom also has daily limits of one endpoint or one user (100 meeting creates a user):
            # only the category's own daily quota stops the account's other calls.
            shared = limit_type == DAILY and limit is not None and limit == lane.limits.daily
            if shared and (status == 429 or remaining == 0):
                reset = now + retry_after if retry_after is not None else float((int(now // DAY) + 1) * DAY)
                self._exhausted_until[pool] = reset
            elif status == 429 and limit_type != DAILY:
                lane.hold_until = max(
                    lane.hold_until, now + (retry_after if retry_after is not None else FALLBACK_HOLD)
                )
        if status != 429:
            return None
        return RateLimitAnswer(counted, limit_type, limit, remaining, retry_after, shared)

    def exhausted(self, answer: RateLimitAnswer) -> RateLimitExhausted:
        """The error for a 429 that is not retried (a daily quota, or too long a wait)."""
        what = f"daily {answer.category} quota" if answer.daily else f"{answer.category} quota"
        if not answer.shared:
            what = f"daily limit of this call ({answer.category})"
        size = f" of {answer.limit} requests" if answer.limit else ""
        when = f" until {_utc(self._clock() + answer.retry_after)}" if answer.retry_after is not None else ""
        return RateLimitExhausted(
            f"{self.label}: the {what}{size} is used up{when}",
            category=answer.category,
            limit_type=answer.limit_type,
            retry_after=answer.retry_after,
        )


_shared: dict[tuple[str, str], RateLimiter] = {}
_shared_lock = threading.Lock()


def shared_limiter(
    provider: str,
    account_id: str,
    table: RateTable | None,
    *,
    label: str,
    default: RateTable | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Any] = time.sleep,
) -> RateLimiter:
    """The process's limiter of one provider account, set to ``table`` when given (a known
    plan); created on first use with ``table`` or else ``default``, ``clock`` and ``sleep``."""
    key = (provider, account_id)
    with _shared_lock:
        limiter = _shared.get(key)
        if limiter is None:
            if len(_shared) >= MAX_SHARED_LIMITERS:
                _shared.pop(next(iter(_shared)))  # the oldest account: its window is long past
            chosen = table if table is not None else default
            limiter = _shared[key] = RateLimiter(chosen, label=label, clock=clock, sleep=sleep)
            return limiter
    if table is not None:
        limiter.use_table(table)
    return limiter


def forget_shared_limiters() -> None:
    """Drop every shared limiter (tests)."""
    with _shared_lock:
        _shared.clear()
