"""Zoom's webhook signature, timestamp window, URL-validation challenge and event parsing."""

from __future__ import annotations

import pytest

from devstack.simulators.zoom_webhooks import sign, validation_ok
from orgconnect.domain.webhooks import (
    TIMESTAMP_TOLERANCE_SECONDS,
    MalformedEvent,
    WebhookRefused,
    ZoomEvent,
    parse_zoom_event,
    url_validation_answer,
    verify_zoom_request,
    zoom_signature,
)

# providers.md 1.8's test vectors (computed with Python's hmac, not by this code).
SECRET = "test_secret_token"
TIMESTAMP = "1700000000"
BODY = (
    b'{"event":"app_deauthorized","event_ts":1700000000000,"payload":{"account_id":"AAA","user_id":"UUU",'
    b'"signature":"sig","deauthorization_time":"2019-06-17T13:52:28.632Z","client_id":"CCC"}}'
)
SIGNATURE = "v0=0ebd9658a385f7f0f4df34ed928f28ca66b44ebc1fafb07daae6eb16f271c04d"


def verify(**overrides: object) -> None:
    arguments: dict[str, object] = {
        "secret_token": SECRET,
        "timestamp": TIMESTAMP,
        "signature": SIGNATURE,
        "body": BODY,
        "now": int(TIMESTAMP),
    }
    verify_zoom_request(**{**arguments, **overrides})  # type: ignore[arg-type]


def test_the_documented_vector_is_reproduced_and_accepted() -> None:
    assert zoom_signature(SECRET, TIMESTAMP, BODY) == SIGNATURE
    assert sign(SECRET, TIMESTAMP, BODY) == SIGNATURE  # the simulator agrees
    verify()


@pytest.mark.parametrize(
    "overrides",
    [
        {"signature": SIGNATURE[:-1] + "e"},
        {"signature": SIGNATURE.upper()},
        {"signature": "v1=" + SIGNATURE[3:]},
        {"signature": SIGNATURE[3:]},
        {"signature": "v0=é" + SIGNATURE[4:]},
        {"body": BODY + b" "},
        {"body": BODY.replace(b"AAA", b"BBB")},
        {"secret_token": "another_secret"},
        {"timestamp": "1700000001", "now": 1700000001},
    ],
    ids=[
        "one-digit",
        "upper-case",
        "version",
        "no-prefix",
        "non-ascii",
        "body-space",
        "body-account",
        "secret",
        "timestamp-not-the-signed-one",
    ],
)
def test_anything_but_the_signed_bytes_is_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(WebhookRefused, match="signature"):
        verify(**overrides)


@pytest.mark.parametrize("missing", ["signature", "timestamp"])
@pytest.mark.parametrize("empty", [None, ""])
def test_missing_headers_are_refused(missing: str, empty: str | None) -> None:
    with pytest.raises(WebhookRefused, match="missing"):
        verify(**{missing: empty})


@pytest.mark.parametrize("secret", [None, ""])
def test_without_a_secret_token_everything_is_refused(secret: str | None) -> None:
    with pytest.raises(WebhookRefused, match="configured"):
        verify(secret_token=secret)


@pytest.mark.parametrize(
    "timestamp", ["1700000000.5", "-1700000000", " 1700000000", "1e9", "\u0661\u0667" + "\u0660" * 8]
)
def test_a_timestamp_that_is_not_epoch_seconds_is_refused(timestamp: str) -> None:
    with pytest.raises(WebhookRefused, match="epoch seconds"):
        verify(timestamp=timestamp, signature=zoom_signature(SECRET, timestamp, BODY))


@pytest.mark.parametrize("skew", [-TIMESTAMP_TOLERANCE_SECONDS, 0, TIMESTAMP_TOLERANCE_SECONDS])
def test_a_timestamp_within_the_window_either_way_is_accepted(skew: int) -> None:
    verify(now=int(TIMESTAMP) + skew)


@pytest.mark.parametrize("skew", [-TIMESTAMP_TOLERANCE_SECONDS - 1, TIMESTAMP_TOLERANCE_SECONDS + 1, 86400])
def test_a_timestamp_outside_the_window_is_refused_even_correctly_signed(skew: int) -> None:
    with pytest.raises(WebhookRefused, match="window"):
        verify(now=int(TIMESTAMP) + skew)


def test_the_url_validation_answer_is_zooms_documented_one() -> None:
    event = ZoomEvent("endpoint.url_validation", None, {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"})
    answer = url_validation_answer(SECRET, event)
    assert answer == {
        "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
        "encryptedToken": "4efea922935c335d972476de138d2208a0d46ab28c79ee592d497a1b216419b8",
    }
    assert validation_ok(SECRET, "qgg8vlvZRS6UYooatFL8Aw", answer)  # what the simulator checks


@pytest.mark.parametrize("payload", [{}, {"plainToken": ""}, {"plainToken": 7}, {"plainToken": "x" * 257}])
def test_a_challenge_without_a_usable_plain_token_is_malformed(payload: dict[str, object]) -> None:
    with pytest.raises(MalformedEvent):
        url_validation_answer(SECRET, ZoomEvent("endpoint.url_validation", None, payload))


def test_an_event_is_parsed_with_its_time_and_account() -> None:
    event = parse_zoom_event(BODY)
    assert (event.name, event.account_id, event.happened_at(default=5)) == (
        "app_deauthorized",
        "AAA",
        1700000000,
    )


@pytest.mark.parametrize("event_ts", ["true", '"1700000000000"', "null", "1.5"])
def test_an_unusable_event_ts_falls_back_to_the_default(event_ts: str) -> None:
    event = parse_zoom_event(f'{{"event":"user.updated","event_ts":{event_ts},"payload":{{}}}}'.encode())
    assert event.happened_at(default=42) == 42
    assert event.account_id is None


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'{"payload":{}}',
        b'{"event":""}',
        b'{"event":7}',
        b'{"event":"x","payload":[]}',
    ],
)
def test_bodies_that_are_not_events_are_malformed(body: bytes) -> None:
    with pytest.raises(MalformedEvent):
        parse_zoom_event(body)
