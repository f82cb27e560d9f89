"""``POST /v1/conferencing``'s body (SPEC 2.4): which profile, and the meeting to create.

``{"profile_id": "default" | "pro_…", "summary", "start", "end", "tzid"}``: ``start`` and ``end``
are ISO 8601 (a time without an offset is read in ``tzid``), ``end`` after ``start``, ``tzid`` a
known IANA zone. Every problem is a 422 in Cronofy's errors format. Pure (zoneinfo is stdlib).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from msgspec import Struct

from orgconnect.domain.conferencing import MeetingRequest
from orgconnect.domain.errors import FieldError, InvalidRequest

DEFAULT_PROFILE = "default"
MAX_SUMMARY = 1024
MAX_MEETING_SECONDS = 24 * 3600  # longer meetings are refused by the providers (Zoom: 24 h)


class MeetingLinkRequest(Struct, frozen=True):
    """A validated request: the profile it names (``default`` or ``pro_…``) and the meeting."""

    profile_id: str
    meeting: MeetingRequest


def _required(body: dict[str, Any], name: str, errors: list[FieldError]) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        errors.append(FieldError(name, "errors.required", f"{name} is required."))
        return None
    if not isinstance(value, str):
        errors.append(FieldError(name, "errors.invalid", f"{name} must be a string."))
        return None
    return value


def _zone(name: str | None, errors: list[FieldError]) -> ZoneInfo | None:
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(FieldError("tzid", "errors.invalid", "tzid must be a known IANA time zone."))
        return None


def _moment(name: str, text: str | None, zone: ZoneInfo | None, errors: list[FieldError]) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        errors.append(FieldError(name, "errors.invalid", f"{name} must be an ISO 8601 time."))
        return None
    if moment.tzinfo is None:
        if zone is None:
            return None  # tzid is already reported
        moment = moment.replace(tzinfo=zone)
    return moment


def parse_meeting_link_request(body: dict[str, Any]) -> MeetingLinkRequest:
    """The validated request, or InvalidRequest naming every faulty field."""
    errors: list[FieldError] = []
    profile_id = _required(body, "profile_id", errors)
    if profile_id is not None and profile_id != DEFAULT_PROFILE and not profile_id.startswith("pro_"):
        errors.append(
            FieldError("profile_id", "errors.invalid", 'profile_id must be "default" or a pro_ id.')
        )
    summary = _required(body, "summary", errors)
    if summary is not None and (not summary.strip() or len(summary) > MAX_SUMMARY):
        errors.append(
            FieldError("summary", "errors.invalid", f"summary must be 1 to {MAX_SUMMARY} characters.")
        )
    zone = _zone(_required(body, "tzid", errors), errors)
    start = _moment("start", _required(body, "start", errors), zone, errors)
    end = _moment("end", _required(body, "end", errors), zone, errors)
    if start is not None and end is not None:
        if end <= start:
            errors.append(FieldError("end", "errors.invalid", "end must be after start."))
        elif (end - start).total_seconds() > MAX_MEETING_SECONDS:
            errors.append(FieldError("end", "errors.invalid", "a meeting lasts at most 24 hours."))
    if errors or profile_id is None or summary is None or start is None or end is None or zone is None:
        raise InvalidRequest(*errors)
    return MeetingLinkRequest(profile_id, MeetingRequest(summary.strip(), start, end, str(zone)))
