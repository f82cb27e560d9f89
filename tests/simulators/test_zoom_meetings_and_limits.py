"""Zoom meetings and rate limits (per plan, per request type, per second and per day)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from devstack.simulators.common import SimClock
from devstack.simulators.zoom_limits import RateLimiter
from devstack.simulators.zoom_model import ZoomAccount
from tests.simulators.conftest import CLOCK_START, ZoomHarness

MEETING = {
    "topic": "Design review",
    "type": 2,
    "start_time": "2023-11-20T09:00:00Z",
    "duration": 45,
    "timezone": "UTC",
}


# ----- meetings -----------------------------------------------------------------------------------


def test_create_meeting_returns_201_with_the_documented_fields(zoom: ZoomHarness) -> None:
    token = zoom.s2s_token()
    host = zoom.sim.demo.emails(zoom_status="active")[1]
    response = zoom.api("POST", f"/users/{host}/meetings", token, json=MEETING)
    assert response.status_code == 201
    meeting = response.json()
    assert isinstance(meeting["id"], int)
    assert meeting["topic"] == "Design review"
    assert meeting["start_time"] == "2023-11-20T09:00:00Z"
    assert meeting["duration"] == 45
    assert meeting["timezone"] == "UTC"
    assert meeting["host_email"] == host
    assert meeting["host_id"] == zoom.api("GET", f"/users/{host}", token).json()["id"]
    assert meeting["join_url"].startswith(f"{zoom.url}/j/{meeting['id']}?pwd=")
    assert meeting["start_url"].startswith(f"{zoom.url}/s/{meeting['id']}")
    assert meeting["password"]
    assert meeting["uuid"]
    assert response.headers["Content-Location"].endswith(f"/v2/meetings/{meeting['id']}")
    fetched = zoom.api("GET", f"/meetings/{meeting['id']}", token).json()
    assert fetched["join_url"] == meeting["join_url"]
    join_page = zoom.http.get(f"/j/{meeting['id']}")
    assert "Design review" in join_page.text


def test_meeting_defaults_and_string_duration(zoom: ZoomHarness) -> None:
    token = zoom.s2s_token()
    meeting = zoom.api("POST", "/users/me/meetings", token, json={"duration": "30"}).json()
    assert meeting["duration"] == 30
    assert meeting["type"] == 2
    assert meeting["start_time"] == "2023-11-14T22:13:20Z"  # the simulator's clock
    empty = zoom.api("POST", "/users/me/meetings", token)
    assert empty.status_code == 201


def test_meeting_validation(zoom: ZoomHarness) -> None:
    response = zoom.api(
        "POST", "/users/me/meetings", zoom.s2s_token(), json={"start_time": "tomorrow", "duration": "long"}
    )
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"start_time", "duration"}


def test_meeting_for_unknown_or_pending_user(zoom: ZoomHarness) -> None:
    token = zoom.s2s_token()
    unknown = zoom.api("POST", "/users/ghost@example.com/meetings", token, json=MEETING)
    assert unknown.status_code == 404
    assert unknown.json()["code"] == 1001
    pending = zoom.sim.demo.emails(zoom_status="pending")[0]
    assert zoom.api("POST", f"/users/{pending}/meetings", token, json=MEETING).status_code == 400


def test_meetings_of_another_account_are_invisible(zoom: ZoomHarness) -> None:
    meeting = zoom.api("POST", "/users/me/meetings", zoom.s2s_token(), json=MEETING).json()
    response = zoom.api("GET", f"/meetings/{meeting['id']}", zoom.s2s_token(free=True))
    assert response.status_code == 404
    assert response.json()["code"] == 3001


def test_a_user_can_create_100_meetings_per_utc_day(make_zoom: Callable[..., ZoomHarness]) -> None:
    harness = make_zoom(rate_limits=False)
    token = harness.s2s_token()
    for _ in range(100):
        assert harness.api("POST", "/users/me/meetings", token, json=MEETING).status_code == 201
    refused = harness.api("POST", "/users/me/meetings", token, json=MEETING)
    assert refused.status_code == 429
    assert "daily rate limit (100) of Meeting Create/Update" in refused.json()["message"]
    assert refused.headers["X-RateLimit-Type"] == "Daily-limit"
    assert refused.headers["Retry-After"] == "2023-11-15T00:00:00Z"
    other = harness.sim.demo.emails(zoom_status="active")[1]
    assert harness.api("POST", f"/users/{other}/meetings", token, json=MEETING).status_code == 201
    harness.sim.advance_clock(1 * 3600)  # 23:13 UTC: still the same day
    token = harness.s2s_token()
    assert harness.api("POST", "/users/me/meetings", token, json=MEETING).status_code == 429
    harness.sim.advance_clock(3600)  # 00:13 UTC the next day
    assert harness.api("POST", "/users/me/meetings", harness.s2s_token(), json=MEETING).status_code == 201


# ----- rate limits over HTTP ----------------------------------------------------------------------


def test_business_light_quota_is_80_per_second_with_headers(zoom: ZoomHarness) -> None:
    token = zoom.s2s_token()
    for _ in range(80):
        assert zoom.api("GET", "/users/me", token).status_code == 200
    refused = zoom.api("GET", "/users/me", token)
    assert refused.status_code == 429
    assert refused.json() == {
        "code": 429,
        "message": "You have reached the maximum per-second rate limit for this API. Try again later.",
    }
    assert refused.headers["X-RateLimit-Category"] == "Light"
    assert refused.headers["X-RateLimit-Type"] == "QPS"
    assert refused.headers["X-RateLimit-Limit"] == "80"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.headers["Retry-After"] == "2023-11-14T22:13:21Z"
    # Medium is counted separately from Light.
    assert zoom.api("GET", "/users", token).status_code == 200
    zoom.sim.advance_clock(1)
    assert zoom.api("GET", "/users/me", token).status_code == 200


def test_light_calls_to_different_endpoints_share_one_quota(zoom: ZoomHarness) -> None:
    token = zoom.s2s_token()
    for _ in range(40):
        zoom.api("GET", "/users/me", token)
        zoom.api("GET", "/users/email", token, params={"email": "a@example.com"})
    assert zoom.api("GET", f"/users/{zoom.info['admin_email']}", token).status_code == 429


def test_pro_plan_medium_quota_is_20_per_second(make_zoom: Callable[..., ZoomHarness]) -> None:
    harness = make_zoom(plan="pro")
    token = harness.s2s_token()
    assert harness.api("GET", "/users/me", token).json()["type"] == 2
    for _ in range(20):
        assert harness.api("GET", "/users", token).status_code == 200
    refused = harness.api("GET", "/users", token)
    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Category"] == "Medium"
    assert refused.headers["X-RateLimit-Limit"] == "20"


def test_free_account_quota_and_independence_from_the_paid_account(zoom: ZoomHarness) -> None:
    free = zoom.s2s_token(free=True)
    for _ in range(4):
        assert zoom.api("GET", "/users/me", free).status_code == 200
    assert zoom.api("GET", "/users/me", free).status_code == 429
    assert zoom.api("GET", "/users/me", zoom.s2s_token()).status_code == 200


def test_retry_after_in_seconds_switch(make_zoom: Callable[..., ZoomHarness]) -> None:
    harness = make_zoom(retry_after="seconds")
    token = harness.s2s_token(free=True)
    for _ in range(4):
        harness.api("GET", "/users/me", token)
    assert harness.api("GET", "/users/me", token).headers["Retry-After"] == "1"


def test_rate_limiting_can_be_disabled(make_zoom: Callable[..., ZoomHarness]) -> None:
    harness = make_zoom(rate_limits=False)
    token = harness.s2s_token(free=True)
    assert all(harness.api("GET", "/users/me", token).status_code == 200 for _ in range(10))


def test_rate_limits_can_be_switched_at_run_time(zoom: ZoomHarness) -> None:
    free = zoom.s2s_token(free=True)
    assert (
        zoom.http.patch("/_sim/options", json={"rate_limits": False}).json()["options"]["rate_limits"]
        is False
    )
    assert all(zoom.api("GET", "/users/me", free).status_code == 200 for _ in range(10))
    assert zoom.http.patch("/_sim/options", json={"rate_limits": "no"}).status_code == 400


# ----- daily quotas (limiter unit: thousands of calls, no HTTP) -------------------------------------


@pytest.mark.parametrize(("category", "per_day"), [("Light", 6000), ("Medium", 2000), ("Heavy", 1000)])
def test_free_plan_daily_quota(category: str, per_day: int) -> None:
    clock = SimClock(lambda: CLOCK_START)
    limiter = RateLimiter(clock)
    account = ZoomAccount(id="acc", name="Free", plan="free", account_number=1)
    used = 0
    refused = None
    while refused is None and used <= per_day:
        refused = limiter.hit(account, category)  # type: ignore[arg-type]
        if refused is None:
            used += 1
        elif refused.limit_type == "QPS":
            clock.advance(1)
            refused = None
    assert used == per_day
    assert refused is not None
    assert refused.limit_type == "Daily-limit"
    assert refused.retry_at == 1_700_006_400.0  # 2023-11-15T00:00:00Z
    clock.advance(refused.retry_at - clock.now())
    assert limiter.hit(account, category) is None  # type: ignore[arg-type]


def test_business_plan_has_no_daily_quota_for_light_calls() -> None:
    clock = SimClock(lambda: CLOCK_START)
    limiter = RateLimiter(clock)
    account = ZoomAccount(id="acc", name="Biz", plan="business", account_number=1)
    for _ in range(200):
        for _ in range(80):
            assert limiter.hit(account, "Light") is None
        clock.advance(1)
