"""The client-side rate limiter on a fake clock (its sleep moves the clock; nothing really waits):
pacing at, not above, a per-second and a per-minute quota whatever the alignment of the
provider's windows, Zoom's plans and request types, daily quotas, and the longest wait."""

from __future__ import annotations

import math

import pytest

from orgconnect.providers.rate_limit import (
    DEFAULT_CATEGORY,
    CategoryLimits,
    Quota,
    RateLimiter,
    RateLimitExhausted,
    provider_category,
    provider_rate_table,
    zoom_category,
    zoom_rate_table,
)
from tests.sleeping_clock import SleepingClock

START = 1_700_000_000.25  # a quarter past a whole second: windows need not align with ours


def limiter(table: dict[str, CategoryLimits], clock: SleepingClock, **options: float) -> RateLimiter:
    return RateLimiter(table, label="Zoom", clock=clock, sleep=clock.sleep, **options)


def most_in_any_window(times: list[float], width: float, offsets: int = 20) -> int:
    """The most send times in one provider window [k + o, k + o + width) over many alignments o."""
    most = 0
    for step in range(offsets):
        offset = width * step / offsets
        counts: dict[int, int] = {}
        for t in times:
            window = math.floor((t - offset) / width)
            counts[window] = counts.get(window, 0) + 1
        most = max(most, *counts.values())
    return most


def test_a_burst_up_to_the_quota_goes_at_once_and_the_next_call_waits_one_window() -> None:
    clock = SleepingClock(START)
    pacer = limiter(dict(zoom_rate_table("business")), clock)
    for _ in range(60):
        pacer.acquire("Medium")
    assert clock.sleeps == []
    assert pacer.acquire("Medium") == pytest.approx(1.05)  # one window plus the 5 % margin
    assert clock.now == pytest.approx(START + 1.05)


def test_pacing_never_exceeds_the_quota_in_any_of_the_providers_windows() -> None:
    clock = SleepingClock(START)
    pacer = limiter(dict(zoom_rate_table("business")), clock)
    sent = []
    for _ in range(334):  # 100,000 users: 334 list calls
        pacer.acquire("Medium")
        sent.append(clock.now)
    assert most_in_any_window(sent, 1.0) == 60
    # At the quota, not below it: 334 calls take (334 / 60 - 1) windows of 1.05 s at most.
    assert clock.now - START <= (math.ceil(334 / 60) - 1) * 1.05 + 1e-9


def test_categories_are_paced_apart() -> None:
    clock = SleepingClock(START)
    pacer = limiter(dict(zoom_rate_table("pro")), clock)
    for _ in range(20):
        pacer.acquire("Medium")
    for _ in range(30):
        pacer.acquire("Light")  # a full Medium window does not slow Light calls
    assert clock.sleeps == []
    pacer.acquire("Medium")
    assert clock.sleeps == [pytest.approx(1.05)]


def test_a_per_minute_quota_is_paced_per_minute() -> None:
    clock = SleepingClock(START)
    pacer = limiter(dict(zoom_rate_table("business")), clock, max_wait=120.0)
    sent = []
    for _ in range(45):
        pacer.acquire("Resource-intensive")
        sent.append(clock.now)
    assert most_in_any_window(sent, 60.0) == 20


def test_a_client_side_daily_count_stops_before_the_quota_is_passed() -> None:
    clock = SleepingClock(START)
    pacer = limiter({"Medium": CategoryLimits(Quota(100), daily=3)}, clock)
    for _ in range(3):
        pacer.acquire("Medium")
    with pytest.raises(RateLimitExhausted) as raised:
        pacer.acquire("Medium")
    assert raised.value.limit_type == "daily-limit" and raised.value.status == 429
    assert "daily Medium quota is used up until 2023-11-15T00:00:00Z" in raised.value.description
    assert raised.value.retry_after == pytest.approx(1_700_006_400 - START)
    clock.now = 1_700_006_400.0  # the next UTC day
    pacer.acquire("Medium")


def test_heavy_and_resource_intensive_share_one_daily_quota() -> None:
    table = zoom_rate_table("pro")
    assert table["Heavy"].daily == table["Resource-intensive"].daily == 30_000
    assert table["Heavy"].daily_pool == table["Resource-intensive"].daily_pool is not None
    clock = SleepingClock(START)
    shared = CategoryLimits(None, daily=2, daily_pool="pool")
    pacer = limiter({"Heavy": shared, "Resource-intensive": shared}, clock)
    pacer.acquire("Heavy")
    pacer.acquire("Resource-intensive")
    with pytest.raises(RateLimitExhausted):
        pacer.acquire("Heavy")


def test_a_qps_429_holds_its_category_for_retry_after_and_teaches_the_real_limit() -> None:
    clock = SleepingClock(START)
    pacer = limiter(dict(zoom_rate_table(None)), clock)  # unknown plan: Pro, 20 Medium a second
    headers = {"x-ratelimit-category": "Medium", "x-ratelimit-type": "QPS", "x-ratelimit-limit": "10"}
    answer = pacer.observe("Medium", 429, headers, retry_after=0.75)
    assert answer is not None and not answer.daily and answer.category == "Medium"
    limits = pacer.limits("Medium").quota
    assert limits is not None and limits.limit == 10
    assert pacer.acquire("Light") == 0.0  # other categories are not held
    assert pacer.acquire("Medium") == pytest.approx(0.75)


def test_the_retry_that_waited_out_the_hold_itself_does_not_wait_again() -> None:
    clock = SleepingClock(START)
    pacer = limiter(dict(zoom_rate_table("business")), clock)
    pacer.observe("Medium", 429, {"x-ratelimit-type": "QPS"}, retry_after=2.0)
    assert pacer.acquire("Medium", served_hold="Medium") == 0.0
    assert pacer.acquire("Medium") == 0.0


def test_the_providers_category_header_names_the_held_quota() -> None:
    clock = SleepingClock(START)
    pacer = limiter(dict(zoom_rate_table("business")), clock)
    answer = pacer.observe("Medium", 429, {"x-ratelimit-category": "Light"}, retry_after=None)
    assert answer is not None and answer.category == "Light"
    assert pacer.acquire("Medium") == 0.0
    assert pacer.acquire("Light") == pytest.approx(1.0)  # no Retry-After: one window


def test_a_daily_answer_marks_the_quota_used_up_until_retry_after() -> None:
    clock = SleepingClock(START)
    pacer = limiter(dict(zoom_rate_table("pro")), clock)
    headers = {
        "x-ratelimit-category": "Heavy",
        "x-ratelimit-type": "Daily-limit",
        "x-ratelimit-limit": "30000",
        "x-ratelimit-remaining": "0",
    }
    answer = pacer.observe("Heavy", 429, headers, retry_after=3600.0)
    assert answer is not None and answer.daily and answer.limit == 30000
    error = pacer.exhausted(answer)
    assert (
        error.description
        == "Zoom: the daily Heavy quota of 30000 requests is used up until 2023-11-14T23:13:20Z"
    )
    with pytest.raises(RateLimitExhausted):
        pacer.acquire("Resource-intensive")  # the same daily pool
    assert clock.sleeps == []
    clock.now += 3600
    pacer.acquire("Heavy")


def test_remaining_zero_of_a_daily_quota_on_a_success_stops_the_next_call() -> None:
    clock = SleepingClock(START)
    pacer = limiter(dict(zoom_rate_table("free")), clock)
    headers = {"x-ratelimit-type": "Daily-limit", "x-ratelimit-limit": "2000", "x-ratelimit-remaining": "0"}
    assert pacer.observe("Medium", 200, headers, retry_after=None) is None
    with pytest.raises(RateLimitExhausted) as raised:
        pacer.acquire("Medium")
    assert raised.value.retry_after == pytest.approx(1_700_006_400 - START)  # the next 00:00 UTC


def test_a_wait_longer_than_max_wait_fails_at_once_and_takes_no_slot() -> None:
    clock = SleepingClock(START)
    pacer = limiter(dict(zoom_rate_table("business")), clock, max_wait=5.0)
    pacer.observe("Medium", 429, {"x-ratelimit-type": "QPS"}, retry_after=60.0)
    with pytest.raises(RateLimitExhausted) as raised:
        pacer.acquire("Medium")
    assert raised.value.retry_after == pytest.approx(60.0)
    assert clock.sleeps == []


def test_a_provider_without_published_quotas_is_not_paced_but_its_429s_hold() -> None:
    assert provider_rate_table("microsoft", None) is None
    assert provider_category("webex", "GET", "/v1/people") == DEFAULT_CATEGORY
    clock = SleepingClock(START)
    pacer = RateLimiter(None, clock=clock, sleep=clock.sleep)
    for _ in range(1000):
        pacer.acquire(DEFAULT_CATEGORY)
    assert clock.sleeps == []
    pacer.observe(DEFAULT_CATEGORY, 429, {}, retry_after=4.0)
    assert pacer.acquire(DEFAULT_CATEGORY) == pytest.approx(4.0)


@pytest.mark.parametrize(
    ("method", "path", "category"),
    [
        ("GET", "/v2/users", "Medium"),
        ("GET", "/v2/users/", "Medium"),
        ("GET", "/v2/users/me", "Light"),
        ("GET", "/v2/users/a@example.com", "Light"),
        ("POST", "/v2/users", "Light"),
        ("POST", "/v2/users/u1/meetings", "Medium"),
        ("GET", "/v2/report/daily", "Heavy"),
        ("GET", "/scim2/Users", "Medium"),
        ("PATCH", "/v2/users/u1", "Light"),
    ],
)
def test_zoom_request_types(method: str, path: str, category: str) -> None:
    assert zoom_category(method, path) == category


def test_zoom_plans_and_their_names() -> None:
    business = zoom_rate_table("Business")
    assert business["Medium"].quota == Quota(60) and business["Light"].quota == Quota(80)
    assert business["Resource-intensive"].quota == Quota(20, 60.0)
    for name in ("enterprise", "business_plus", "education"):
        assert zoom_rate_table(name) == business
    assert zoom_rate_table(None) == zoom_rate_table("pro") == zoom_rate_table("unheard-of")
    free = zoom_rate_table("free")
    assert free["Medium"] == CategoryLimits(Quota(2), 2000)


def test_a_daily_limit_of_one_user_or_endpoint_does_not_stop_the_accounts_other_calls() -> None:
    clock = SleepingClock(START)
    pacer = limiter(dict(zoom_rate_table("business")), clock)
    headers = {  # Zoom's 101st meeting create of one user in a day
        "x-ratelimit-category": "Medium",
        "x-ratelimit-type": "Daily-limit",
        "x-ratelimit-limit": "100",
        "x-ratelimit-remaining": "0",
    }
    answer = pacer.observe("Medium", 429, headers, retry_after=7200.0)
    assert answer is not None and answer.daily and not answer.shared
    assert pacer.exhausted(answer).description == (
        "Zoom: the daily limit of this call (Medium) of 100 requests is used up until 2023-11-15T00:13:20Z"
    )
    assert pacer.acquire("Medium") == 0.0  # listing goes on: no hold, no daily stop
    assert pacer.limits("Medium").daily is None
