"""What issue 10 added to the adapters, against scripted answers: Google's ``ErrorInfo`` reason is
the error code (``SERVICE_DISABLED`` -> ``api_disabled`` with its remedy, any other 403 stays a
missing consent), the Teams link asks ``/.default`` (a Global Administrator's tenant-wide consent,
application permissions included), Teams refusals, and Google revocation answers."""

from __future__ import annotations

import httpx
import pytest

from orgconnect.domain.conferencing import REMEDIES, DirectoryUser, MeetingRefused, RefusalReason, UserStatus
from orgconnect.domain.model import ProviderApp
from orgconnect.domain.provider_model import Purpose
from orgconnect.providers.google import GoogleApi
from orgconnect.providers.meet_conferencing import MeetConferencing
from orgconnect.providers.microsoft import GRAPH, GraphApi, MicrosoftProvider
from orgconnect.providers.retry import RetryPolicy
from orgconnect.providers.teams_conferencing import TeamsConferencing
from tests.unit.test_conferencing_normalization import APP, REQUEST, answer, build

HOST = DirectoryUser("u1", "a@x.com", "A", UserStatus.ACTIVE)
SERVICE_DISABLED = {
    "error": {
        "code": 403,
        "message": "Google Meet REST API has not been used in project 1 before or it is disabled.",
        "status": "PERMISSION_DENIED",
        "details": [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_DISABLED", "domain": "g"}
        ],
    }
}
SCOPE_MISSING = {
    "error": {
        "code": 403,
        "message": "Request had insufficient authentication scopes.",
        "errors": [
            {"message": "Insufficient Permission", "domain": "global", "reason": "insufficientPermissions"}
        ],
        "status": "PERMISSION_DENIED",
    }
}


@pytest.mark.parametrize(
    ("body", "code", "reason"),
    [
        (SERVICE_DISABLED, "SERVICE_DISABLED", RefusalReason.API_DISABLED),
        (SCOPE_MISSING, "PERMISSION_DENIED", RefusalReason.CONSENT_REQUIRED),
        (
            {"error": {"code": 400, "message": "x", "status": "INVALID_ARGUMENT"}},
            "INVALID_ARGUMENT",
            RefusalReason.REFUSED,
        ),
    ],
)
def test_meet_refusals_are_told_apart_by_googles_error_info(
    body: dict[str, object], code: str, reason: RefusalReason
) -> None:
    adapter, _ = build(MeetConferencing, GoogleApi, answer(body, int(body["error"]["code"])))  # type: ignore[index]
    with pytest.raises(MeetingRefused) as refused:
        adapter.create_meeting(HOST, REQUEST)
    assert refused.value.reason is reason and refused.value.error == code
    assert refused.value.remedy == REMEDIES[reason].format(label="Google Meet")


def test_the_api_disabled_remedy_names_what_to_enable() -> None:
    remedy = REMEDIES[RefusalReason.API_DISABLED].format(label="Google Meet")
    assert remedy.startswith("enable the Google Meet REST API")


def test_the_teams_link_asks_default_only_next_to_openid_scopes() -> None:
    scopes = MicrosoftProvider(ProviderApp("c", "s")).scopes(Purpose.CONFERENCING)
    assert scopes == ["openid", "profile", "email", "offline_access", GRAPH + ".default"]
    # The calendar tenant link still asks its delegated scopes by name.
    assert GRAPH + ".default" not in MicrosoftProvider(ProviderApp("c", "s")).scopes(Purpose.CALENDARS)


def graph_error(code: str, message: str, status: int) -> tuple[dict[str, object], int]:
    return {"error": {"code": code, "message": message}}, status


NO_POLICY = graph_error("General", "No application access policy found for this app.", 403)
DENIED = graph_error("Authorization_RequestDenied", "Insufficient privileges to complete the operation.", 403)


@pytest.mark.parametrize(
    ("token_answer", "graph_answer", "reason"),
    [
        (({"error": "unauthorized_client"}, 400), None, RefusalReason.CONSENT_REQUIRED),
        (None, NO_POLICY, RefusalReason.POLICY_REQUIRED),
        (None, DENIED, RefusalReason.CONSENT_REQUIRED),
        (None, graph_error("Request_ResourceNotFound", "gone", 404), RefusalReason.HOST_NOT_FOUND),
    ],
)
def test_teams_refusals(
    token_answer: tuple[dict[str, object], int] | None,
    graph_answer: tuple[dict[str, object], int] | None,
    reason: RefusalReason,
) -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/v2.0/token"):
            body, status = token_answer or (
                {"access_token": "app", "expires_in": 3599, "token_type": "Bearer"},
                200,
            )
            return httpx.Response(status, json=body)
        assert graph_answer is not None
        return httpx.Response(graph_answer[1], json=graph_answer[0])

    adapter, seen = build(TeamsConferencing, GraphApi, respond, tenant="tenant-id")
    with pytest.raises(MeetingRefused) as refused:
        adapter.create_meeting(HOST, REQUEST)
    assert refused.value.reason is reason
    token_request = seen[0]
    assert token_request.url.path == "/tenant-id/oauth2/v2.0/token"
    assert b"grant_type=client_credentials" in token_request.content
    assert b"scope=https%3A%2F%2Fgraph.microsoft.com%2F.default" in token_request.content


@pytest.mark.parametrize(("status", "revoked"), [(200, True), (400, False), (503, False)])
def test_google_revocation_posts_the_token_in_the_body(status: int, revoked: bool) -> None:
    seen: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json={} if status == 200 else {"error": "invalid_token"})

    api = GoogleApi(
        APP,
        base_url="https://google.test",
        transport=httpx.MockTransport(respond),
        retry_policy=RetryPolicy(attempts=1),
    )
    assert api.revoke("rt-1") is revoked
    (request,) = seen
    assert request.method == "POST" and request.url.path == "/revoke" and not request.url.query
    assert request.content == b"token=rt-1"


def test_a_provider_refusal_without_error_info_keeps_googles_status() -> None:
    api = GoogleApi(APP)
    assert api.error_code({"error": {"status": "NOT_FOUND", "details": [{"reason": "X"}]}}) == "NOT_FOUND"
    assert api.error_code({"error": "nope"}) is None
