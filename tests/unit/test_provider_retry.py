"""The API client's retry policy without sleeping: tenacity's ``sleep`` is a recorder."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from orgconnect.providers.retry import (
    RetryPolicy,
    TransientAnswer,
    parse_retry_after,
    retrying,
    worth_retrying,
)

NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z


def transient(status: int = 503, retry_after: float | None = None) -> TransientAnswer:
    return TransientAnswer(httpx.Response(status), retry_after)


class Failing:
    """Fails with the scripted errors, then answers "done"."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("4", 4.0),
        (" 120 ", 120.0),
        ("1.5", 1.5),
        ("0", 0.0),
        ("-3", 0.0),
        (format_datetime(datetime.fromtimestamp(NOW + 30, UTC), usegmt=True), 30.0),
        ("2023-11-14T22:14:20Z", 60.0),  # Zoom's documented ISO 8601 form
        ("2023-11-14T22:14:20", 60.0),  # no zone: UTC
        ("2023-11-14T23:13:20+01:00", 0.0),  # the same instant as NOW
        ("2020-05-31T00:00:00Z", 0.0),  # in the past
    ],
)
def test_retry_after_is_read_as_seconds_http_date_or_iso_date(value: str, seconds: float) -> None:
    assert parse_retry_after(value, now=NOW) == pytest.approx(seconds)


@pytest.mark.parametrize("value", [None, "", "soon", "inf", "nan", "Mon, 99 Foo 2020"])
def test_an_absent_or_unreadable_retry_after_is_none(value: str | None) -> None:
    assert parse_retry_after(value, now=NOW) is None


def test_retry_after_is_waited_instead_of_the_backoff() -> None:
    sleeps: list[float] = []
    call = Failing(transient(429, 2.0), transient(503, 7.0))
    assert retrying(RetryPolicy(), idempotent=True, sleep=sleeps.append)(call) == "done"
    assert sleeps == [2.0, 7.0]
    assert call.calls == 3


def test_without_retry_after_the_backoff_is_exponential_with_full_jitter() -> None:
    policy = RetryPolicy(attempts=5, backoff_initial=0.5, backoff_max=1.5)
    for _ in range(20):  # the jitter is random: its bounds hold every time
        sleeps: list[float] = []
        retrying(policy, idempotent=True, sleep=sleeps.append)(Failing(*(transient() for _ in range(4))))
        bounds = [0.5, 1.0, 1.5, 1.5]  # initial * 2**(n-1), capped at backoff_max
        assert len(sleeps) == 4
        assert all(0 <= wait <= bound for wait, bound in zip(sleeps, bounds, strict=True))


def test_a_retry_after_beyond_the_cap_fails_at_once() -> None:
    sleeps: list[float] = []
    call = Failing(transient(429, 31.0))
    with pytest.raises(TransientAnswer) as raised:
        retrying(RetryPolicy(max_retry_after=30.0), idempotent=True, sleep=sleeps.append)(call)
    assert raised.value.retry_after == 31.0
    assert call.calls == 1
    assert sleeps == []


def test_a_retry_after_at_the_cap_is_waited() -> None:
    sleeps: list[float] = []
    call = Failing(transient(429, 30.0))
    assert retrying(RetryPolicy(max_retry_after=30.0), idempotent=True, sleep=sleeps.append)(call) == "done"
    assert sleeps == [30.0]


def test_attempts_are_bounded_and_the_last_error_is_raised() -> None:
    sleeps: list[float] = []
    call = Failing(*(transient(500) for _ in range(10)))
    with pytest.raises(TransientAnswer):
        retrying(RetryPolicy(attempts=3), idempotent=True, sleep=sleeps.append)(call)
    assert call.calls == 3
    assert len(sleeps) == 2


REQUEST = httpx.Request("GET", "https://api.test/")


@pytest.mark.parametrize(
    ("error", "idempotent", "expected"),
    [
        (httpx.ConnectError("refused", request=REQUEST), False, True),  # never sent
        (httpx.ConnectTimeout("slow", request=REQUEST), False, True),
        (httpx.PoolTimeout("busy", request=REQUEST), False, True),
        (httpx.ReadTimeout("slow", request=REQUEST), False, False),  # may have been processed
        (httpx.RemoteProtocolError("cut", request=REQUEST), False, False),
        (httpx.ReadTimeout("slow", request=REQUEST), True, True),
        (httpx.RemoteProtocolError("cut", request=REQUEST), True, True),
        (ValueError("not a network error"), True, False),
        (transient(503), False, True),
        (transient(429, None), False, True),
    ],
)
def test_what_is_worth_retrying(error: BaseException, idempotent: bool, expected: bool) -> None:
    assert worth_retrying(error, idempotent=idempotent, policy=RetryPolicy()) is expected


def test_other_errors_are_not_retried() -> None:
    call = Failing(KeyError("bug"))
    with pytest.raises(KeyError):
        retrying(RetryPolicy(), idempotent=True, sleep=lambda _: None)(call)
    assert call.calls == 1
