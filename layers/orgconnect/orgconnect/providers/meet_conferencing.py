"""Google Meet as a conferencing provider (providers.md 4): Directory ``users.list`` with
``maxResults=500`` and ``pageToken``, ``users.get`` by email, and the Meet REST API's
``POST /v2/spaces``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

from orgconnect.domain.conferencing import DirectoryUser, Meeting, MeetingRequest, RefusalReason, UserStatus
from orgconnect.domain.provider_model import ProviderRefused
from orgconnect.providers.conferencing import ConferencingAdapter, text

PAGE_SIZE = "500"  # users.list maxResults: 1-500
USERS = "/admin/directory/v1/users"
PERMISSION_DENIED = "PERMISSION_DENIED"
SERVICE_DISABLED = "SERVICE_DISABLED"  # ErrorInfo reason: the API is not enabled in the project


class MeetConferencing(ConferencingAdapter):
    """Workspace users and Meet spaces with the connection's admin token
    (``admin.directory.user.readonly``, ``meetings.space.created``).

    Status: ``suspended`` or ``archived`` -> inactive; otherwise active (every Workspace user may
    use Meet unless the admin turned the service off, which the Directory does not show). The Meet
    REST API has no host parameter: the space belongs to the account whose token creates it,
    here the administrator who linked Google Meet; anyone the space's access type admits joins."""

    profile_name = "google_meet_api"
    label = "Google Meet"

    def list_users(self) -> Iterator[DirectoryUser]:
        """Every user of the customer, 500 a page."""
        params = {"customer": "my_customer", "maxResults": PAGE_SIZE}
        for items in self.pages(USERS, params, "users"):
            for item in items:
                user = self.user(item)
                if user is not None:
                    yield user

    def lookup_user(self, email: str) -> DirectoryUser | None:
        """``users.get`` by primary email or alias, one call. Google answers 404 for an unknown
        user of the customer's domains and 403 for an address outside them: both are a miss."""
        try:
            item = self.get(f"{USERS}/{quote(email.strip(), safe='@')}")
        except ProviderRefused as refused:
            if refused.status == 404 or (refused.status == 403 and refused.error == PERMISSION_DENIED):
                return None
            raise
        if not isinstance(item, dict):
            raise self.malformed("users.get", "the answer is not a JSON object")
        return self.user(item)

    def _create_meeting(self, host: DirectoryUser, request: MeetingRequest) -> Meeting:
        # TRUSTED: people of the organization join directly, others knock (Meet's default).
        answer = self.post("/v2/spaces", {"config": {"accessType": "TRUSTED"}}, host="meet")
        if not isinstance(answer, dict):
            raise self.malformed("create space", "the answer is not a JSON object")
        join_url, code = text(answer, "meetingUri"), text(answer, "meetingCode")
        if not join_url or not code:
            raise self.malformed("create space", "meetingUri or meetingCode missing")
        return Meeting(join_url, code)

    def refusal_reason(self, refused: ProviderRefused) -> RefusalReason:
        if refused.status == 403 and refused.error == SERVICE_DISABLED:
            return RefusalReason.API_DISABLED  # the Meet REST API is off in the client's project
        if refused.status == 403:
            return RefusalReason.CONSENT_REQUIRED  # the token lacks meetings.space.created
        return RefusalReason.REFUSED

    @staticmethod
    def user(item: Mapping[str, Any]) -> DirectoryUser | None:
        """A Directory user as a DirectoryUser (None without an id or a primary email)."""
        user_id, email = text(item, "id"), text(item, "primaryEmail")
        if not user_id or "@" not in email:
            return None
        inactive = item.get("suspended") is True or item.get("archived") is True
        name = item.get("name")
        full = text(name, "fullName") if isinstance(name, dict) else ""
        return DirectoryUser(
            user_id, email, full or email, UserStatus.INACTIVE if inactive else UserStatus.ACTIVE
        )
