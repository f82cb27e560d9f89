"""Zoom meetings: ``POST /v2/users/{userId}/meetings``, ``GET /v2/meetings/{id}`` and ``/j/{id}`` pages.

Creating counts against the Medium rate limit and 100 creates per user per UTC day; a stand-in
join page makes demo links lead somewhere.
"""

from __future__ import annotations

import base64
import html
import re
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from devstack.simulators.html_pages import html_page
from devstack.simulators.oauth_state import mint_secret
from devstack.simulators.simulator import RouteSpec
from devstack.simulators.zoom_api import json_object, request_base
from devstack.simulators.zoom_limits import RateLimitHit
from devstack.simulators.zoom_model import (
    MEETINGS_PER_USER_PER_DAY,
    ZoomMeeting,
    iso,
    next_utc_midnight,
    parse_iso,
    utc_day,
    validation_failed,
    zoom_error,
    zoom_json,
)

if TYPE_CHECKING:
    from devstack.simulators.zoom import ZoomSimulator

SCOPES_CREATE_MEETING = frozenset({"meeting:write:admin", "meeting:write:meeting:admin"})
SCOPES_READ_MEETING = frozenset({"meeting:read:admin", "meeting:read:meeting:admin"})


class ZoomMeetings:
    """The meeting handlers (authenticated and rate-limited by ``ZoomApi``)."""

    def __init__(self, sim: ZoomSimulator) -> None:
        self.sim = sim

    def routes(self) -> list[RouteSpec]:
        """The meeting routes."""
        return [
            ("/v2/users/<user_id>/meetings", self.create_meeting, "POST", "api"),
            ("/v2/meetings/<int:meeting_id>", self.get_meeting, "GET", "api"),
            ("/j/<int:meeting_id>", self.join_page, "GET", "web"),
        ]

    def create_meeting(self, request: Request, user_id: str) -> Response:
        """``POST /v2/users/{userId}/meetings`` (Medium): 201; 100 creates per user per UTC day."""
        ctx = self.sim.api.authenticate(request, "Medium", SCOPES_CREATE_MEETING)
        user = self.sim.api.user_or_404(ctx, user_id)
        raw = request.get_data(cache=True)
        body = json_object(request) if raw.strip() else {}
        if user.status != "active":
            raise zoom_error(400, 1000, f"User {user_id} is not active and can not host meetings.")
        fields = meeting_fields(body, default_timezone=user.timezone, now=self.sim.clock.now())
        now = self.sim.clock.now()
        day = utc_day(now)
        counted_day, used = user.meetings_today
        used = used if counted_day == day else 0
        if used >= MEETINGS_PER_USER_PER_DAY:
            self.sim.api.raise_rate_limited(
                RateLimitHit(
                    "Medium",
                    "Daily-limit",
                    MEETINGS_PER_USER_PER_DAY,
                    next_utc_midnight(now),
                    "You have exceeded the daily rate limit (100) of Meeting Create/Update API requests "
                    "permitted for this particular user. You may resume these requests at GMT 00:00:00.",
                )
            )
        user.meetings_today = (day, used + 1)
        rng = self.sim.rng
        meeting = ZoomMeeting(
            id=rng.randrange(80_000_000_000, 99_999_999_999),
            uuid=base64.b64encode(rng.getrandbits(128).to_bytes(16, "big")).decode(),
            host_id=user.id,
            host_email=user.email,
            password=fields.pop("password", None) or mint_secret(6)[:8],
            created_at=now,
            **fields,
        )
        self.sim.meetings[meeting.id] = meeting
        base = request_base(request)
        return zoom_json(
            meeting.as_json(base), 201, headers={"Content-Location": f"{base}/v2/meetings/{meeting.id}"}
        )

    def get_meeting(self, request: Request, meeting_id: int) -> Response:
        """``GET /v2/meetings/{meetingId}`` (Light)."""
        ctx = self.sim.api.authenticate(request, "Light", SCOPES_READ_MEETING)
        meeting = self.sim.meetings.get(meeting_id)
        host = self.sim.directory.users.get(meeting.host_id) if meeting else None
        if meeting is None or host is None or host.account_id != ctx.account.id:
            raise zoom_error(404, 3001, f"Meeting does not exist: {meeting_id}.")
        return zoom_json(meeting.as_json(request_base(request)))

    def join_page(self, request: Request, meeting_id: int) -> Response:
        """A stand-in for Zoom's join page, so demo links lead somewhere."""
        meeting = self.sim.meetings.get(meeting_id)
        if meeting is None:
            return html_page("Meeting not found", "<h1>This meeting ID is not valid.</h1>", 404)
        body = (
            f'<h1 data-testid="meeting-topic">{html.escape(meeting.topic)}</h1>'
            f"<p>Meeting ID {meeting.id} hosted by {html.escape(meeting.host_email)}, "
            f"{iso(meeting.start_time)} ({meeting.duration} min, {html.escape(meeting.timezone)}).</p>"
            '<p data-testid="meeting-join">Simulated Zoom: joining happens nowhere.</p>'
        )
        return html_page(f"Zoom meeting {meeting.id}", body)


def meeting_fields(body: dict[str, Any], *, default_timezone: str, now: float) -> dict[str, Any]:
    """Validate a create-meeting body into ``ZoomMeeting`` keyword arguments."""
    bad: list[str] = []

    def text(name: str, default: str, limit: int) -> str:
        value = body.get(name, default)
        if not isinstance(value, str) or len(value) > limit:
            bad.append(name)
            return default
        return value

    topic = text("topic", "Zoom meeting", 200)
    agenda = text("agenda", "", 2000)
    timezone = text("timezone", default_timezone, 64) or default_timezone
    meeting_type = body.get("type", 2)
    if meeting_type not in (1, 2, 3, 8, 10) or isinstance(meeting_type, bool):
        bad.append("type")
    start_time = now
    if "start_time" in body:
        parsed = parse_iso(body["start_time"]) if isinstance(body["start_time"], str) else None
        if parsed is None:
            bad.append("start_time")
        else:
            start_time = parsed
    duration_raw = body.get("duration", 60)
    duration = 60
    # Zoom accepts "30" as well as 30 (seen in the wild).
    if (
        isinstance(duration_raw, bool)
        or not isinstance(duration_raw, int | str)
        or not str(duration_raw).isdigit()
    ):
        bad.append("duration")
    else:
        duration = int(duration_raw)
    password = body.get("password")
    if password is not None and (
        not isinstance(password, str)
        or not 1 <= len(password) <= 10
        or not re.fullmatch(r"[A-Za-z0-9@_*-]+", password)
    ):
        bad.append("password")
    settings = body.get("settings", {})
    if not isinstance(settings, dict):
        bad.append("settings")
    if bad:
        raise validation_failed(*bad)
    fields: dict[str, Any] = {
        "topic": topic,
        "agenda": agenda,
        "timezone": timezone,
        "type": int(meeting_type),
        "start_time": start_time,
        "duration": duration,
        "settings": dict(settings),
    }
    if password is not None:
        fields["password"] = password
    return fields
