"""Indeed Interview as a conferencing provider: ``GET /v1/users?email=`` and
``POST /v1/interviews``, as the Indeed simulator serves them (Indeed publishes no REST user
directory; see docs/simulators-calendar-and-others.md)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from orgconnect.domain.conferencing import DirectoryUser, Meeting, MeetingRequest, RefusalReason, UserStatus
from orgconnect.domain.provider_model import ProviderRefused
from orgconnect.providers.conferencing import ConferencingAdapter, text, utc_iso

STATUSES = {"active": UserStatus.ACTIVE, "invited": UserStatus.PENDING, "deactivated": UserStatus.INACTIVE}


class IndeedConferencing(ConferencingAdapter):
    """Indeed employer users and interview links with the connection's employer-bound token.

    Indeed offers no listing: ``lists_directory`` is False, ``list_users`` yields nothing and
    matching looks each email up (one call per account). Status: ``active`` -> active,
    ``invited`` -> pending, ``deactivated`` -> inactive."""

    profile_name = "indeed"
    label = "Indeed"
    lists_directory = False

    def list_users(self) -> Iterator[DirectoryUser]:
        """Nothing: Indeed has no user listing (see ``lists_directory``)."""
        return iter(())

    def lookup_user(self, email: str) -> DirectoryUser | None:
        """``GET /v1/users?email=``, one call."""
        answer = self.get("/v1/users", params={"email": email.strip()})
        items = answer.get("users") if isinstance(answer, dict) else None
        if not isinstance(items, list):
            raise self.malformed("users?email", "users is not a list")
        users = [u for u in (self.user(i) for i in items if isinstance(i, dict)) if u is not None]
        return users[0] if users else None

    def _create_meeting(self, host: DirectoryUser, request: MeetingRequest) -> Meeting:
        body = {
            "title": request.summary[:200],
            "hostEmail": host.email,
            "start": utc_iso(request.start),
            "end": utc_iso(request.end),
        }
        answer = self.post("/v1/interviews", body)
        if not isinstance(answer, dict):
            raise self.malformed("create interview", "the answer is not a JSON object")
        join_url, interview_id = text(answer, "joinUrl"), text(answer, "id")
        if not join_url or not interview_id:
            raise self.malformed("create interview", "joinUrl or id missing")
        return Meeting(join_url, interview_id)

    def refusal_reason(self, refused: ProviderRefused) -> RefusalReason:
        if refused.status == 404:
            return RefusalReason.HOST_NOT_FOUND
        if refused.status == 403:
            return RefusalReason.CONSENT_REQUIRED  # no employer_access, or not bound to an employer
        if refused.status == 400 and refused.error == "invalid_request":
            return RefusalReason.HOST_NOT_ACTIVE  # the host is invited or deactivated
        return RefusalReason.REFUSED

    @staticmethod
    def user(item: Mapping[str, Any]) -> DirectoryUser | None:
        """An Indeed employer user as a DirectoryUser (None without an id or an email)."""
        user_id, email = text(item, "id"), text(item, "email")
        if not user_id or "@" not in email:
            return None
        status = STATUSES.get(text(item, "status"), UserStatus.INACTIVE)
        return DirectoryUser(user_id, email, text(item, "name") or email, status)
