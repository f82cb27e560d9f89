"""The API client's retry policy, built on tenacity.

Retried: network errors, 5xx and 429, with full-jitter exponential backoff, except that a
``Retry-After`` the provider sends (seconds, an HTTP date, or Zoom's ISO date-time) is waited
instead. A ``Retry-After`` longer than ``max_retry_after`` is not waited at all: the call fails
at once with ProviderUnavailable carrying it, so a worker can reschedule rather than hold a Lambda.
A 429 for a daily quota (``X-RateLimit-Type: Daily-limit``) is never retried either: the API
client raises RateLimitExhausted at once. Never retried: any other 4xx. Requests that are not
idempotent (POST, the refresh grant) are retried after a network error only when it certainly
happened before the request was sent.

This module imports tenacity and httpx; the API client loads it on its first request.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import httpx
from msgspec import Struct
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

if TYPE_CHECKING:
    from orgconnect.providers.rate_limit import RateLimitAnswer

#: Network errors raised before any byte of the request left: safe to retry any request.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class RetryPolicy(Struct, frozen=True):
    """How hard the API client tries. Attempts include the first one."""

    attempts: int = 4
    backoff_initial: float = 0.5  # seconds; full jitter up to initial * 2**(attempt - 1)
    backoff_max: float = 8.0
    max_retry_after: float = 30.0  # a longer Retry-After fails at once (reschedule instead)
    max_elapsed: float = 60.0  # stop retrying once this much time has passed since the first try


DEFAULT_POLICY = RetryPolicy()


class TransientAnswer(Exception):
    """A 5xx or 429 answer, raised inside the retry loop so tenacity can decide on it."""

    def __init__(
        self,
        response: httpx.Response,
        retry_after: float | None,
        *,
        rate_limit: RateLimitAnswer | None = None,
    ) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.retry_after = retry_after
        #: What a 429's rate-limit headers said (None: not a 429, or not an API call).
        self.rate_limit = rate_limit


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP date (RFC 9110
    section 10.2.3), or an ISO 8601 date-time as in Zoom's documented 429. None if absent or
    unreadable; a date in the past gives 0."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        moment = _parse_date(text)
        if moment is None:
            return None
        seconds = moment.timestamp() - now
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


def _parse_date(text: str) -> datetime | None:
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class PreferRetryAfter:
    """A tenacity wait strategy: the provider's ``Retry-After`` when it sent one (capped),
    else the fallback strategy (full-jitter exponential backoff)."""

    def __init__(self, fallback: Callable[[RetryCallState], float], *, cap: float) -> None:
        self.fallback = fallback
        self.cap = cap

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None and outcome.failed else None
        if isinstance(error, TransientAnswer) and error.retry_after is not None:
            return min(error.retry_after, self.cap)
        return self.fallback(retry_state)


def worth_retrying(error: BaseException, *, idempotent: bool, policy: RetryPolicy) -> bool:
    """Whether another attempt may succeed and is safe."""
    if isinstance(error, TransientAnswer):
        if error.rate_limit is not None and error.rate_limit.daily:
            return False  # hours away: the caller reschedules
        return error.retry_after is None or error.retry_after <= policy.max_retry_after
    if isinstance(error, NOT_SENT):
        return True
    return idempotent and isinstance(error, httpx.TransportError)


def retrying(
    policy: RetryPolicy, *, idempotent: bool, sleep: Callable[[float], Any] = time.sleep
) -> Retrying:
    """A tenacity ``Retrying`` for one request; ``sleep`` is injectable so tests never wait."""
    return Retrying(
        retry=retry_if_exception(lambda error: worth_retrying(error, idempotent=idempotent, policy=policy)),
        stop=stop_after_attempt(policy.attempts) | stop_after_delay(policy.max_elapsed),
        wait=PreferRetryAfter(
            wait_random_exponential(multiplier=policy.backoff_initial, max=policy.backoff_max),
            cap=policy.max_retry_after,
        ),
        sleep=sleep,
        reraise=True,
    )
