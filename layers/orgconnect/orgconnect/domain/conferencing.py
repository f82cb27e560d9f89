"""The provider-neutral vocabulary of conferencing directories and meetings: who a provider knows
(DirectoryUser, with a status normalized over the five providers), what a meeting request asks
(MeetingRequest), what comes back (Meeting), and the typed refusal an API turns into a 422
that says what the organization must grant (MeetingRefused). Pure: no HTTP, no AWS."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from msgspec import Struct

from orgconnect.domain.provider_model import ProviderRefused

#: Cronofy's conferencing profile ``provider_name`` of each provider (SPEC, cronofy.md section 4).
PROFILE_PROVIDER_NAMES = ("zoom", "webex", "ms_teams", "google_meet_api", "indeed")


class UserStatus(StrEnum):
    """A provider user's standing, normalized: only ``active`` users can host a meeting."""

    ACTIVE = "active"  # can host meetings
    PENDING = "pending"  # invited, has not accepted yet (Zoom pending, Webex invitePending, Indeed invited)
    INACTIVE = "inactive"  # deactivated, suspended or sign-in disabled
    UNLICENSED = "unlicensed"  # exists but holds no licence for the conferencing product (Teams)


class DirectoryUser(Struct, frozen=True):
    """One user of a conferencing provider's directory. ``provider_user_id`` is the provider's
    stable id (it survives an email change); ``email`` is lower-cased for matching."""

    provider_user_id: str
    email: str
    display_name: str
    status: UserStatus

    def __post_init__(self) -> None:
        if not self.provider_user_id or "@" not in self.email:
            raise ValueError("a directory user needs a provider user id and an email")
        object.__setattr__(self, "email", self.email.strip().lower())

    @property
    def can_host(self) -> bool:
        """Whether the provider lets this user host a meeting (profile_connected)."""
        return self.status is UserStatus.ACTIVE


class MeetingRequest(Struct, frozen=True):
    """A meeting to create: ``start`` and ``end`` are timezone-aware; ``tzid`` is the IANA zone
    the integrator named (providers show the meeting in it)."""

    summary: str
    start: datetime
    end: datetime
    tzid: str = "UTC"

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("start and end must carry a timezone")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if not self.summary.strip():
            raise ValueError("summary must not be empty")

    @property
    def duration_minutes(self) -> int:
        """Whole minutes, rounded up (Zoom takes a duration, not an end)."""
        return -(-int((self.end - self.start).total_seconds()) // 60)


class Meeting(Struct, frozen=True):
    """A created meeting: what ``POST /v1/conferencing`` returns to the integrator."""

    join_url: str
    meeting_id: str
    password: str | None = None


class RefusalReason(StrEnum):
    """Why a provider would not create the meeting; each names what the organization must fix."""

    HOST_NOT_FOUND = "host_not_found"  # the matched user is no longer in the provider's account
    HOST_NOT_ACTIVE = "host_not_active"  # pending, deactivated or suspended
    HOST_UNLICENSED = "host_unlicensed"  # no licence for the product (a Teams or Webex meetings licence)
    POLICY_REQUIRED = "policy_required"  # Teams: no application access policy for orgconnect's app
    CONSENT_REQUIRED = "consent_required"  # the admin consent or a scope is missing
    API_DISABLED = "api_disabled"  # Google: the Meet REST API is off in the OAuth client's project
    REFUSED = "refused"  # any other refusal; ``provider_error`` says which


#: What the organization must do, per reason (the 422's description starts with it).
REMEDIES: dict[RefusalReason, str] = {
    RefusalReason.HOST_NOT_FOUND: "add the user to the organization's {label} account",
    RefusalReason.HOST_NOT_ACTIVE: "activate the user in {label} (accept the invitation, or reactivate)",
    RefusalReason.HOST_UNLICENSED: "assign the user a {label} licence",
    RefusalReason.POLICY_REQUIRED: (
        "grant orgconnect's application a Teams application access policy covering the user "
        "(New-CsApplicationAccessPolicy, then Grant-CsApplicationAccessPolicy)"
    ),
    RefusalReason.CONSENT_REQUIRED: (
        "have an administrator link {label} again and grant every permission asked"
    ),
    RefusalReason.API_DISABLED: (
        "enable the {label} REST API in the Google Cloud project of orgconnect's OAuth client "
        "(the operator's step), then try again"
    ),
    RefusalReason.REFUSED: "check the {label} account's settings for this user",
}


class MeetingRefused(ProviderRefused):
    """The provider refused to create the meeting for a reason the organization can fix.

    ``provider_name``: the profile's provider name (``ms_teams``…); ``reason``: a RefusalReason;
    ``remedy``: what the organization must grant, in one sentence; ``error`` and ``status``: the
    provider's code and HTTP status (None when refused before any call). An API answers 422 with
    ``remedy`` as the description."""

    def __init__(
        self,
        provider_name: str,
        label: str,
        reason: RefusalReason,
        *,
        error: str | None = None,
        status: int | None = None,
    ) -> None:
        self.provider_name = provider_name
        self.reason = reason
        self.remedy = REMEDIES[reason].format(label=label)
        code = f" ({error})" if error else ""
        super().__init__(
            f"{label} refused the meeting: {reason.value}{code}; to fix: {self.remedy}",
            error=error or reason.value,
            status=status,
        )
