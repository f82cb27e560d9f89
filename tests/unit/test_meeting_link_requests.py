"""POST /v1/conferencing's body rules (domain.meeting_links) and what its function imports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from orgconnect.domain.errors import InvalidRequest
from orgconnect.domain.meeting_links import parse_meeting_link_request
from tests.cold_start import PROVIDER_CLIENTS, cold_import

GOOD = {
    "profile_id": "default",
    "summary": " Interview ",
    "start": "2026-12-01T10:00:00Z",
    "end": "2026-12-01T10:30:00+00:00",
    "tzid": "Europe/London",
}


def fields(body: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidRequest) as refused:
        parse_meeting_link_request(body)
    return {e.field: e.key for e in refused.value.errors}


def test_a_good_request() -> None:
    request = parse_meeting_link_request(GOOD)
    assert request.profile_id == "default"
    assert request.meeting.summary == "Interview" and request.meeting.tzid == "Europe/London"
    assert request.meeting.start == datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert request.meeting.duration_minutes == 30


def test_a_time_without_offset_is_read_in_tzid() -> None:
    request = parse_meeting_link_request(
        {**GOOD, "start": "2026-07-01T10:00:00", "end": "2026-07-01T11:00:00", "tzid": "Europe/Paris"}
    )
    assert request.meeting.start.astimezone(UTC).hour == 8  # CEST is UTC+2


def test_every_faulty_field_is_named() -> None:
    assert fields({}) == {
        "profile_id": "errors.required",
        "summary": "errors.required",
        "start": "errors.required",
        "end": "errors.required",
        "tzid": "errors.required",
    }
    assert fields({**GOOD, "profile_id": "acc_1", "start": "soon", "tzid": "Mars/Olympus"}) == {
        "profile_id": "errors.invalid",
        "start": "errors.invalid",
        "tzid": "errors.invalid",
    }
    assert fields({**GOOD, "end": GOOD["start"]}) == {"end": "errors.invalid"}
    assert fields({**GOOD, "end": "2026-12-03T10:00:00Z"}) == {"end": "errors.invalid"}
    assert fields({**GOOD, "summary": 5, "tzid": ["UTC"]}) == {
        "summary": "errors.invalid",
        "tzid": "errors.invalid",
    }
    assert fields({**GOOD, "summary": "   "}) == {"summary": "errors.invalid"}


def test_importing_the_function_builds_nothing_and_loads_no_provider_client() -> None:
    started = cold_import(
        "conferencing",
        env={"ORGCONNECT_TABLE_NAME": "table", "ORGCONNECT_PEPPER_SECRET_ID": "p"},
        unwanted=PROVIDER_CLIENTS,
        cached=("get_store", "get_hasher", "get_providers"),
    )
    assert started == ([], 0)
