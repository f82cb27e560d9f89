"""Zoom as a conferencing provider (providers.md 1.4): ``GET /v2/users`` per status with
``page_size=300`` and ``next_page_token``, ``GET /v2/users/{email}``, and
``POST /v2/users/{userId}/meetings``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

from orgconnect.domain.conferencing import DirectoryUser, Meeting, MeetingRequest, RefusalReason, UserStatus
from orgconnect.domain.provider_model import ProviderRefused
from orgconnect.providers.api import ProviderApi
from orgconnect.providers.conferencing import LIST, ConferencingAdapter, text, utc_iso

PAGE_SIZE = "300"  # Zoom's maximum for List users
#: Zoom's ``status`` filter values; each is one listing (Zoom lists one status per request).
LISTED_STATUSES = ("active", "pending", "inactive")
STATUSES = {"active": UserStatus.ACTIVE, "pending": UserStatus.PENDING, "inactive": UserStatus.INACTIVE}
USER_NOT_FOUND_CODES = frozenset({"1001", "1010"})  # "User does not exist" / "not belong to this account"
NOT_ACTIVE_CODE = "1000"  # "User … is not active and can not host meetings"
SCOPE_CODES = frozenset({"4700", "4711"})  # "Invalid access token, does not contain scopes"
NO_PRIVILEGE_CODE = "200"  # in an error body: no privilege / paid subscription required
INVALID_TOKEN_CODE = "300"  # "The next page token is invalid or expired." (also Validation Failed)


class ListingCursorExpired(ProviderRefused):
    """Zoom refused a ``next_page_token`` (older than 15 minutes, or not this listing's)."""


class ZoomConferencing(ConferencingAdapter):
    """Zoom users and meetings with the connection's admin-level token.

    Statuses: Zoom's own ``active``, ``pending`` (invited, not yet accepted) and ``inactive``
    (deactivated). A Basic (type 1) user can still host meetings, so it stays ``active``."""

    profile_name = "zoom"
    label = "Zoom"

    def __init__(self, api: ProviderApi, *, statuses: tuple[str, ...] = LISTED_STATUSES) -> None:
        super().__init__(api)
        unknown = set(statuses) - set(STATUSES)
        if unknown:
            raise ValueError(f"Zoom lists users by status {sorted(STATUSES)}, not {sorted(unknown)}")
        self.statuses = statuses

    def list_users(self) -> Iterator[DirectoryUser]:
        """One paged listing per status in ``statuses`` (300 users a page): ⌈N/300⌉ calls for N
        users of a status, one for a status without users."""
        for status in self.statuses:
            token: str | None = None
            while True:
                users, following = self.list_page(status, token)
                yield from users
                if following is None:
                    break
                if following == token:
                    raise self.malformed("users", "the next page is this page again")
                token = following

    def list_page(self, status: str, page_token: str | None = None) -> tuple[list[DirectoryUser], str | None]:
        """One call: up to 300 users with ``status`` from ``page_token`` (None: the first page),
        and the next page's token (None: that was the last page). For a chunked sync that stops
        between pages; Zoom's tokens expire after 15 minutes (ListingCursorExpired: start the
        status again)."""
        if status not in STATUSES:
            raise ValueError(f"Zoom lists users by status {sorted(STATUSES)}, not {status!r}")
        params = {"status": status, "page_size": PAGE_SIZE}
        if page_token:
            params["next_page_token"] = page_token
        self.calls[LIST] += 1
        try:
            body = self.api.get("/v2/users", params=params)
        except ProviderRefused as refused:
            if page_token and refused.status == 400 and refused.error == INVALID_TOKEN_CODE:
                raise ListingCursorExpired(refused.description, error=refused.error, status=400) from None
            raise
        if not isinstance(body, dict) or not isinstance(body.get("users", []), list):
            raise self.malformed("users", "the page is not a JSON object with a users list")
        users = [
            self.user(item, listed_as=status) for item in body.get("users", []) if isinstance(item, dict)
        ]
        following = body.get("next_page_token")
        return [u for u in users if u is not None], following if isinstance(
            following, str
        ) and following else None

    def lookup_user(self, email: str) -> DirectoryUser | None:
        """``GET /v2/users/{email}``: Zoom takes an email where it takes a user id."""
        try:
            item = self.get(f"/v2/users/{quote(email.strip(), safe='@')}")
        except ProviderRefused as refused:
            if refused.status in (400, 404) and refused.error in USER_NOT_FOUND_CODES:
                return None
            raise
        if not isinstance(item, dict):
            raise self.malformed("users/{email}", "the answer is not a JSON object")
        return self.user(item)

    def _create_meeting(self, host: DirectoryUser, request: MeetingRequest) -> Meeting:
        body = {
            "topic": request.summary[:200],
            "type": 2,  # scheduled
            "start_time": utc_iso(request.start),
            "duration": request.duration_minutes,
            "timezone": request.tzid,
        }
        answer = self.post(f"/v2/users/{quote(host.provider_user_id, safe='')}/meetings", body)
        if not isinstance(answer, dict):
            raise self.malformed("create meeting", "the answer is not a JSON object")
        join_url, meeting_id = text(answer, "join_url"), answer.get("id")
        if not join_url or not isinstance(meeting_id, int | str) or isinstance(meeting_id, bool):
            raise self.malformed("create meeting", "join_url or id missing")
        return Meeting(join_url, str(meeting_id), text(answer, "password") or None)

    def refusal_reason(self, refused: ProviderRefused) -> RefusalReason:
        if refused.error in USER_NOT_FOUND_CODES:
            return RefusalReason.HOST_NOT_FOUND
        if refused.error == NOT_ACTIVE_CODE:
            return RefusalReason.HOST_NOT_ACTIVE
        if refused.error in SCOPE_CODES:
            return RefusalReason.CONSENT_REQUIRED
        if refused.error == NO_PRIVILEGE_CODE:
            return RefusalReason.HOST_UNLICENSED
        return RefusalReason.REFUSED

    @staticmethod
    def user(item: Mapping[str, Any], *, listed_as: str | None = None) -> DirectoryUser | None:
        """A Zoom user item as a DirectoryUser (None without an id or an email)."""
        user_id, email = text(item, "id"), text(item, "email")
        if not user_id or "@" not in email:
            return None
        status = STATUSES.get(text(item, "status") or (listed_as or ""), UserStatus.INACTIVE)
        name = text(item, "display_name") or " ".join(
            part for part in (text(item, "first_name"), text(item, "last_name")) if part
        )
        return DirectoryUser(user_id, email, name or email, status)
