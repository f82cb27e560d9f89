"""Microsoft Teams as a conferencing provider (providers.md 3): Graph ``GET /v1.0/users`` with
``$top=999`` and ``@odata.nextLink``, a ``$filter`` lookup by mail or userPrincipalName, and
``POST /v1.0/users/{id}/onlineMeetings`` with an app-only token of the connection's tenant."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from orgconnect.domain.conferencing import DirectoryUser, Meeting, MeetingRequest, RefusalReason, UserStatus
from orgconnect.domain.provider_model import ProviderRefused
from orgconnect.providers.conferencing import CREATE, TOKEN, ConferencingAdapter, text, utc_iso

if TYPE_CHECKING:
    from orgconnect.providers.microsoft import GraphApi

PAGE_SIZE = "999"  # Graph's largest $top for /users
SELECT = "id,userPrincipalName,mail,displayName,accountEnabled,assignedPlans"
#: Service plans that carry Microsoft Teams (TEAMS1 and its government/education variants share
#: the service name ``TeamspaceAPI``); ``Warning`` is a licence in its grace period, still usable.
TEAMS_SERVICE = "teamspaceapi"
TEAMS1_PLAN_ID = "57ff2da0-773e-42df-b2af-ffb7a2317929"
USABLE_CAPABILITY = frozenset({"enabled", "warning"})
NO_POLICY_CODE = "General"  # 403 "No application access policy found for this app."
DENIED_CODE = "Authorization_RequestDenied"  # 403: the app lacks OnlineMeetings.ReadWrite.All


def teams_licensed(plans: object) -> bool | None:
    """Whether ``assignedPlans`` holds a usable Teams plan (None: Graph did not say)."""
    if not isinstance(plans, list):
        return None
    return any(
        isinstance(plan, dict)
        and (
            str(plan.get("servicePlanId", "")).lower() == TEAMS1_PLAN_ID
            or str(plan.get("service", "")).lower() == TEAMS_SERVICE
        )
        and str(plan.get("capabilityStatus", "")).lower() in USABLE_CAPABILITY
        for plan in plans
    )


class TeamsConferencing(ConferencingAdapter):
    """Entra ID users and Teams meetings.

    Status: ``accountEnabled: false`` -> inactive; no enabled Teams service plan in
    ``assignedPlans`` (TEAMS1, service ``TeamspaceAPI``) -> unlicensed; otherwise active. Graph has
    no pending state for members. The directory is read with the connection's delegated admin
    token; meetings for another user need an app-only token (client credentials on the tenant,
    ``OnlineMeetings.ReadWrite.All``) and a Teams application access policy, which Graph checks."""

    profile_name = "ms_teams"
    label = "Microsoft Teams"
    api: GraphApi

    def list_users(self) -> Iterator[DirectoryUser]:
        """Every user of the tenant, 999 a page."""
        for items in self.pages("/v1.0/users", {"$top": PAGE_SIZE, "$select": SELECT}, "value"):
            for item in items:
                user = self.user(item)
                if user is not None:
                    yield user

    def lookup_user(self, email: str) -> DirectoryUser | None:
        """One ``$filter`` call matching ``mail`` or ``userPrincipalName``."""
        quoted = email.strip().replace("'", "''")  # OData string literal
        answer = self.get(
            "/v1.0/users",
            params={"$filter": f"mail eq '{quoted}' or userPrincipalName eq '{quoted}'", "$select": SELECT},
        )
        items = answer.get("value") if isinstance(answer, dict) else None
        if not isinstance(items, list):
            raise self.malformed("users?$filter", "value is not a list")
        users = [u for u in (self.user(i) for i in items if isinstance(i, dict)) if u is not None]
        return users[0] if users else None

    def _create_meeting(self, host: DirectoryUser, request: MeetingRequest) -> Meeting:
        app_only = copy.copy(self.api)  # the same app, tenant and pool; its own token
        self.calls[TOKEN] += 1
        try:
            app_only.client_credentials()
        except ProviderRefused as refused:
            if refused.error in ("unauthorized_client", "invalid_grant", "consent_required"):
                raise self.refused(RefusalReason.CONSENT_REQUIRED, refused) from None
            raise
        body = {
            "subject": request.summary[:255],
            "startDateTime": utc_iso(request.start),
            "endDateTime": utc_iso(request.end),
        }
        self.calls[CREATE] += 1
        answer = app_only.post(f"/v1.0/users/{quote(host.provider_user_id, safe='')}/onlineMeetings", body)
        if not isinstance(answer, dict):
            raise self.malformed("create onlineMeeting", "the answer is not a JSON object")
        join_url, meeting_id = text(answer, "joinWebUrl"), text(answer, "id")
        if not join_url or not meeting_id:
            raise self.malformed("create onlineMeeting", "joinWebUrl or id missing")
        settings = answer.get("joinMeetingIdSettings")
        passcode = text(settings, "passcode") if isinstance(settings, dict) else ""
        return Meeting(join_url, meeting_id, passcode or None)

    def refusal_reason(self, refused: ProviderRefused) -> RefusalReason:
        if refused.status == 404:
            return RefusalReason.HOST_NOT_FOUND
        if refused.status == 403 and refused.error == DENIED_CODE:
            return RefusalReason.CONSENT_REQUIRED
        if refused.status == 403:
            return RefusalReason.POLICY_REQUIRED
        return RefusalReason.REFUSED

    @staticmethod
    def user(item: Mapping[str, Any]) -> DirectoryUser | None:
        """A Graph user as a DirectoryUser (None without an id or an address)."""
        user_id, email = text(item, "id"), text(item, "mail", "userPrincipalName")
        if not user_id or "@" not in email:
            return None
        if item.get("accountEnabled") is False:
            status = UserStatus.INACTIVE
        elif teams_licensed(item.get("assignedPlans")) is False:
            status = UserStatus.UNLICENSED
        else:
            status = UserStatus.ACTIVE
        return DirectoryUser(user_id, email, text(item, "displayName") or email, status)
