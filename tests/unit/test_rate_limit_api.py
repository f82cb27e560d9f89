"""The rate limiter inside the provider API client, against scripted answers (httpx.MockTransport)
on a fake clock: pacing to the plan's quota, Retry-After (seconds and HTTP date) waited exactly
once, Zoom's X-RateLimit-* answers, a daily quota as a clear error with no retry, the counters a
sync reports, and the same path for a provider without published quotas (Webex, Graph)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from orgconnect.domain.model import ProviderApp
from orgconnect.domain.provider_model import ProviderTokens, ProviderUnavailable
from orgconnect.providers.api import ProviderApi, close_pooled_clients
from orgconnect.providers.microsoft import GraphApi
from orgconnect.providers.rate_limit import RateLimitExhausted, forget_shared_limiters
from orgconnect.providers.webex import WebexApi
from orgconnect.providers.zoom import ZoomApi
from tests.sleeping_clock import SleepingClock

BASE = "https://provider.test"
APP = ProviderApp("client id", "secret")
TOKENS = ProviderTokens(access_token="at-0", refresh_token="rt-0")
START = 1_700_000_000.0  # 2023-11-14T22:13:20Z
OK = httpx.Response(200, json={"users": [], "next_page_token": ""})
ZOOM_DAILY_HEADERS = {  # Zoom's documented daily-limit 429 (providers reference, section 1.6)
    "X-RateLimit-Category": "Heavy",
    "X-RateLimit-Type": "Daily-limit",
    "X-RateLimit-Limit": "30000",
    "X-RateLimit-Remaining": "0",
    "Retry-After": "2023-11-15T00:00:00Z",
}


class Scripted:
    """Answers in order (the last one repeats); records the requests."""

    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    yield
    close_pooled_clients()
    forget_shared_limiters()


def client(cls: type[ProviderApi], script: Scripted, clock: SleepingClock, **kwargs: Any) -> ProviderApi:
    return cls(
        APP,
        TOKENS,
        base_url=BASE,
        transport=httpx.MockTransport(script),
        sleep=clock.sleep,
        clock=clock,
        **kwargs,
    )


def test_list_calls_are_paced_to_the_plans_medium_quota() -> None:
    clock, script = SleepingClock(START), Scripted(OK)
    zoom = client(ZoomApi, script, clock, rate_plan="free")  # Medium: 2 a second
    for _ in range(3):
        zoom.get("/v2/users", params={"status": "active"})
    zoom.get("/v2/users/me")  # Light: its own quota
    assert clock.sleeps == [pytest.approx(1.05)]
    assert zoom.rate_stats.requests == 4
    assert zoom.rate_stats.requests_by_category == {"Medium": 3, "Light": 1}
    assert zoom.rate_stats.paced_seconds == pytest.approx(1.05)


def test_a_429_with_retry_after_seconds_is_waited_exactly_once_then_retried() -> None:
    clock = SleepingClock(START)
    limited = httpx.Response(
        429,
        headers={"Retry-After": "3", "X-RateLimit-Type": "QPS", "X-RateLimit-Category": "Medium"},
        json={"code": 429, "message": "You have reached the maximum per-second rate limit"},
    )
    script = Scripted(limited, OK)
    zoom = client(ZoomApi, script, clock, rate_plan="business")
    assert zoom.get("/v2/users") == {"users": [], "next_page_token": ""}
    assert clock.sleeps == [3.0]  # tenacity waited; the limiter's hold is then over
    assert len(script.requests) == 2
    stats = zoom.rate_stats.as_dict()
    assert (stats["requests"], stats["rate_limited"], stats["rate_limited_by_category"]) == (
        2,
        1,
        {"Medium": 1},
    )
    zoom.get("/v2/users")
    assert clock.sleeps == [3.0]


def test_a_retry_after_http_date_is_waited_until_that_moment() -> None:
    clock = SleepingClock(START)
    limited = httpx.Response(429, headers={"Retry-After": "Tue, 14 Nov 2023 22:13:25 GMT"})
    script = Scripted(limited, httpx.Response(200, json={"value": []}))
    graph = client(GraphApi, script, clock)
    assert graph.get("/v1.0/users") == {"value": []}
    assert clock.sleeps == [5.0]
    assert graph.rate_stats.rate_limited_by_category == {"default": 1}


def test_webex_429_retry_after_goes_through_the_same_path() -> None:
    clock = SleepingClock(START)
    script = Scripted(
        httpx.Response(429, headers={"Retry-After": "4"}), httpx.Response(200, json={"items": []})
    )
    webex = client(WebexApi, script, clock)
    assert webex.get("/v1/people") == {"items": []}
    assert clock.sleeps == [4.0]


def test_a_daily_limit_429_fails_at_once_with_a_clear_error_and_stops_the_next_calls() -> None:
    clock = SleepingClock(START)
    script = Scripted(httpx.Response(429, headers=ZOOM_DAILY_HEADERS, json={"code": 429, "message": "daily"}))
    zoom = client(ZoomApi, script, clock, rate_plan="pro")
    with pytest.raises(RateLimitExhausted) as raised:
        zoom.get("/v2/report/daily")
    error = raised.value
    assert isinstance(error, ProviderUnavailable) and error.status == 429
    assert error.description == (
        "Zoom: the daily Heavy quota of 30000 requests is used up until 2023-11-15T00:00:00Z"
    )
    assert error.retry_after == pytest.approx(6400.0) and error.limit_type == "daily-limit"
    assert clock.sleeps == [] and len(script.requests) == 1  # no hours of sleep, no retry
    with pytest.raises(RateLimitExhausted):
        zoom.get("/v2/report/daily")
    assert len(script.requests) == 1  # known used up: not even sent


def test_a_qps_retry_after_longer_than_the_policy_waits_fails_at_once() -> None:
    clock = SleepingClock(START)
    limited = httpx.Response(429, headers={"Retry-After": "120", "X-RateLimit-Type": "QPS"})
    script = Scripted(limited)
    zoom = client(ZoomApi, script, clock)
    with pytest.raises(RateLimitExhausted) as raised:
        zoom.get("/v2/users")
    assert raised.value.retry_after == 120.0 and clock.sleeps == [] and len(script.requests) == 1


def test_qps_429s_that_outlast_the_retries_end_as_provider_unavailable() -> None:
    clock = SleepingClock(START)
    script = Scripted(httpx.Response(429, headers={"Retry-After": "1", "X-RateLimit-Type": "QPS"}))
    zoom = client(ZoomApi, script, clock)
    with pytest.raises(ProviderUnavailable) as raised:
        zoom.get("/v2/users")
    assert not isinstance(raised.value, RateLimitExhausted) and raised.value.status == 429
    assert zoom.rate_stats.rate_limited == 4 == len(script.requests)


def test_zoom_telling_a_lower_limit_slows_the_pacing_to_it() -> None:
    clock = SleepingClock(START)
    limited = httpx.Response(
        429,
        headers={
            "Retry-After": "1",
            "X-RateLimit-Type": "QPS",
            "X-RateLimit-Limit": "2",
            "X-RateLimit-Category": "Medium",
        },
    )
    sent: list[float] = []
    script = Scripted(limited, OK)
    zoom = client(ZoomApi, script, clock, rate_plan="business")  # assumed 60 a second; Zoom says 2
    zoom.get("/v2/users")
    assert clock.sleeps == [1.0]  # the Retry-After
    for _ in range(6):
        zoom.get("/v2/users")
        sent.append(clock.now)
    # From then on at most 2 calls in any second (6 calls: 3 windows of 1.05 s at least).
    assert all(later - earlier >= 1.0 for earlier, later in zip(sent, sent[2:], strict=False))


def test_clients_of_one_account_share_its_window_through_limit_rate() -> None:
    clock, script = SleepingClock(START), Scripted(OK)
    first = client(ZoomApi, script, clock)
    second = client(ZoomApi, script, clock)
    assert first.limit_rate("acct-1", "free") is second.limit_rate("acct-1")
    first.get("/v2/users")
    first.get("/v2/users")
    second.get("/v2/users")  # the third Medium call of the account in this second
    assert clock.sleeps == [pytest.approx(1.05)]
    other = client(ZoomApi, script, clock)
    other.limit_rate("acct-2", "free")
    other.get("/v2/users")
    assert len(clock.sleeps) == 1


def test_the_token_endpoint_is_not_paced_by_the_api_quota() -> None:
    clock = SleepingClock(START)
    answer = httpx.Response(200, json={"access_token": "a", "token_type": "bearer", "expires_in": 3600})
    zoom = client(ZoomApi, Scripted(answer), clock, rate_plan="free")
    assert isinstance(zoom, ZoomApi)
    for _ in range(5):
        zoom.account_credentials("acct-1")
    assert clock.sleeps == [] and zoom.rate_stats.requests == 5
    assert zoom.rate_stats.requests_by_category == {}
