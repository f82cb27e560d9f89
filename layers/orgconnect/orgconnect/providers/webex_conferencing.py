"""Webex as a conferencing provider (providers.md 2): ``GET /v1/people`` with ``max=1000`` and
``Link`` paging, ``GET /v1/people?email=``, and ``POST /v1/meetings`` with ``hostEmail``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from orgconnect.domain.conferencing import DirectoryUser, Meeting, MeetingRequest, RefusalReason, UserStatus
from orgconnect.domain.provider_model import ProviderRefused
from orgconnect.providers.conferencing import ConferencingAdapter, text, utc_iso

PAGE_SIZE = "1000"  # People API ``max``: the most one page carries


class WebexConferencing(ConferencingAdapter):
    """Webex people and meetings with the connection's admin token (``spark-admin:people_read``,
    ``meeting:admin_schedule_write``).

    Status: Webex's ``status`` field is *presence* (active, inactive = idle 10 minutes, call,
    meeting…), not standing, so it is not used. ``loginEnabled: false`` -> inactive;
    ``invitePending: true`` -> pending; otherwise active. Webex checks the host's meetings
    licence when the meeting is created (a refusal naming a licence -> host_unlicensed)."""

    profile_name = "webex"
    label = "Webex"

    def list_users(self) -> Iterator[DirectoryUser]:
        """Every person of the organization, 1,000 a page (an admin token lists without a filter)."""
        for items in self.pages("/v1/people", {"max": PAGE_SIZE}, "items"):
            for item in items:
                user = self.user(item)
                if user is not None:
                    yield user

    def lookup_user(self, email: str) -> DirectoryUser | None:
        """``GET /v1/people?email=``: the exact address, one call."""
        answer = self.get("/v1/people", params={"email": email.strip()})
        items = answer.get("items") if isinstance(answer, dict) else None
        if not isinstance(items, list):
            raise self.malformed("people?email", "items is not a list")
        users = [u for u in (self.user(i) for i in items if isinstance(i, dict)) if u is not None]
        return users[0] if users else None

    def _create_meeting(self, host: DirectoryUser, request: MeetingRequest) -> Meeting:
        body = {
            "title": request.summary[:128],
            "start": utc_iso(request.start),
            "end": utc_iso(request.end),
            "timezone": request.tzid,
            "hostEmail": host.email,
        }
        answer = self.post("/v1/meetings", body)
        if not isinstance(answer, dict):
            raise self.malformed("create meeting", "the answer is not a JSON object")
        join_url, meeting_id = text(answer, "webLink"), text(answer, "id")
        if not join_url or not meeting_id:
            raise self.malformed("create meeting", "webLink or id missing")
        return Meeting(join_url, meeting_id, text(answer, "password") or None)

    def refusal_reason(self, refused: ProviderRefused) -> RefusalReason:
        # Webex's only error code is its message (ProviderRefused.error, truncated).
        message = refused.error.lower()
        if "licen" in message:
            return RefusalReason.HOST_UNLICENSED
        if "not an active user" in message:
            return RefusalReason.HOST_NOT_ACTIVE
        if "not a user" in message or refused.status == 404:
            return RefusalReason.HOST_NOT_FOUND
        if refused.status == 403:
            return RefusalReason.CONSENT_REQUIRED
        return RefusalReason.REFUSED

    @staticmethod
    def user(item: Mapping[str, Any]) -> DirectoryUser | None:
        """A Webex person as a DirectoryUser (None without an id or an email)."""
        emails = item.get("emails")
        email = (
            next((e for e in emails if isinstance(e, str) and "@" in e), "")
            if isinstance(emails, list)
            else ""
        )
        person_id = text(item, "id")
        if not person_id or not email:
            return None
        if item.get("loginEnabled") is False:
            status = UserStatus.INACTIVE
        elif item.get("invitePending") is True:
            status = UserStatus.PENDING
        else:
            status = UserStatus.ACTIVE
        name = text(item, "displayName") or " ".join(
            part for part in (text(item, "firstName"), text(item, "lastName")) if part
        )
        return DirectoryUser(person_id, email, name or email, status)
