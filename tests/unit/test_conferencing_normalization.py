"""Each conferencing adapter's normalization of the provider's user records (stable id, email,
display name, status active | pending | inactive | unlicensed) and its meeting answer, against
scripted answers (httpx.MockTransport); plus the provider-neutral vocabulary's own rules and the
registry that builds an adapter by Cronofy profile provider name."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from orgconnect.domain.conferencing import (
    PROFILE_PROVIDER_NAMES,
    DirectoryUser,
    MeetingRefused,
    MeetingRequest,
    RefusalReason,
    UserStatus,
)
from orgconnect.domain.model import ProviderApp
from orgconnect.domain.provider_model import AccessTokenRejected, ProviderAnswerMalformed, ProviderTokens
from orgconnect.providers.api import ProviderApi, close_pooled_clients
from orgconnect.providers.conferencing import ConferencingAdapter
from orgconnect.providers.google import GoogleApi
from orgconnect.providers.indeed import IndeedApi
from orgconnect.providers.indeed_conferencing import IndeedConferencing
from orgconnect.providers.meet_conferencing import MeetConferencing
from orgconnect.providers.microsoft import GraphApi
from orgconnect.providers.registry import ProviderRegistry
from orgconnect.providers.retry import RetryPolicy
from orgconnect.providers.teams_conferencing import TEAMS1_PLAN_ID, TeamsConferencing
from orgconnect.providers.webex import WebexApi
from orgconnect.providers.webex_conferencing import WebexConferencing
from orgconnect.providers.zoom import ZoomApi
from orgconnect.providers.zoom_conferencing import ZoomConferencing

BASE = "https://provider.test"
APP = ProviderApp("client", "secret")
TOKENS = ProviderTokens(access_token="at")
REQUEST = MeetingRequest("Call", datetime(2026, 1, 5, 9, tzinfo=UTC), datetime(2026, 1, 5, 9, 20, tzinfo=UTC))
Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(autouse=True)
def _fresh_pool() -> Iterator[None]:
    yield
    close_pooled_clients()


def build[A: ConferencingAdapter](
    adapter: type[A], api: type[ProviderApi], handler: Handler, **kwargs: Any
) -> tuple[A, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    client = api(
        APP,
        TOKENS,
        base_url=BASE,
        transport=httpx.MockTransport(record),
        retry_policy=RetryPolicy(attempts=1),
        **kwargs,
    )
    return adapter(client), seen


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Handler:
    return lambda request: httpx.Response(status, json=body, headers=headers)


def test_zoom_statuses_ids_and_names() -> None:
    pages = {
        "active": {
            "users": [
                {
                    "id": "a1",
                    "email": "Ann@X.com",
                    "first_name": "Ann",
                    "last_name": "Lee",
                    "status": "active",
                    "type": 1,
                }
            ],
            "next_page_token": "",
        },
        "pending": {
            "users": [{"id": "p1", "email": "pat@x.com", "status": "pending"}],
            "next_page_token": "",
        },
        "inactive": {
            "users": [
                {"id": "i1", "email": "ina@x.com", "display_name": "Ina", "status": "inactive"},
                {"id": "", "email": "noid@x.com"},
            ],
            "next_page_token": "",
        },
    }
    adapter, seen = build(
        ZoomConferencing, ZoomApi, lambda r: httpx.Response(200, json=pages[r.url.params["status"]])
    )
    users = list(adapter.list_users())
    assert users == [
        DirectoryUser("a1", "ann@x.com", "Ann Lee", UserStatus.ACTIVE),  # a Basic user still hosts
        DirectoryUser("p1", "pat@x.com", "pat@x.com", UserStatus.PENDING),
        DirectoryUser("i1", "ina@x.com", "Ina", UserStatus.INACTIVE),
    ]
    assert [r.url.params["page_size"] for r in seen] == ["300"] * 3
    assert adapter.calls["list"] == 3


def test_zoom_lookup_miss_codes_and_meeting_body() -> None:
    adapter, _ = build(
        ZoomConferencing, ZoomApi, answer({"code": 1010, "message": "User not found on this account"}, 400)
    )
    assert adapter.lookup_user("x@y.com") is None
    adapter, seen = build(
        ZoomConferencing,
        ZoomApi,
        answer({"id": 812, "join_url": "https://zoom.test/j/812", "password": "pw"}, 201),
    )
    meeting = adapter.create_meeting(DirectoryUser("u/1", "h@x.com", "H", UserStatus.ACTIVE), REQUEST)
    assert (meeting.join_url, meeting.meeting_id, meeting.password) == (
        "https://zoom.test/j/812",
        "812",
        "pw",
    )
    assert seen[0].url.raw_path == b"/v2/users/u%2F1/meetings"  # an id never escapes its segment
    assert json.loads(seen[0].content) == {
        "topic": "Call",
        "type": 2,
        "start_time": "2026-01-05T09:00:00Z",
        "duration": 20,
        "timezone": "UTC",
    }


def test_webex_standing_is_not_its_presence_status() -> None:
    people = {
        "items": [
            {
                "id": "w1",
                "emails": ["a@x.com"],
                "displayName": "A",
                "status": "inactive",
                "loginEnabled": True,
            },
            {"id": "w2", "emails": ["b@x.com"], "firstName": "B", "lastName": "Bee", "invitePending": True},
            {"id": "w3", "emails": ["c@x.com"], "status": "active", "loginEnabled": False},
            {"id": "w4", "emails": []},
        ]
    }
    adapter, seen = build(WebexConferencing, WebexApi, answer(people))
    assert [(u.provider_user_id, u.display_name, u.status) for u in adapter.list_users()] == [
        ("w1", "A", UserStatus.ACTIVE),  # idle for 10 minutes is not deactivated
        ("w2", "B Bee", UserStatus.PENDING),
        ("w3", "c@x.com", UserStatus.INACTIVE),
    ]
    assert seen[0].url.params["max"] == "1000"


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("The host does not have a Webex Meetings licence.", RefusalReason.HOST_UNLICENSED),
        ("Host a@x.com is not an active user of the site.", RefusalReason.HOST_NOT_ACTIVE),
        ("Host a@x.com is not a user of the site.", RefusalReason.HOST_NOT_FOUND),
        ("Something else.", RefusalReason.REFUSED),
    ],
)
def test_webex_refusals_are_read_from_its_message(message: str, reason: RefusalReason) -> None:
    adapter, _ = build(WebexConferencing, WebexApi, answer({"message": message}, 400))
    with pytest.raises(MeetingRefused) as refused:
        adapter.create_meeting(DirectoryUser("w1", "a@x.com", "A", UserStatus.ACTIVE), REQUEST)
    assert refused.value.reason is reason and refused.value.provider_name == "webex"


def test_graph_licence_and_sign_in_state() -> None:
    teams = {"capabilityStatus": "Enabled", "service": "TeamspaceAPI", "servicePlanId": TEAMS1_PLAN_ID}
    value = [
        {
            "id": "m1",
            "mail": None,
            "userPrincipalName": "A@X.com",
            "displayName": "A",
            "accountEnabled": True,
            "assignedPlans": [teams],
        },
        {
            "id": "m2",
            "mail": "b@x.com",
            "accountEnabled": True,
            "assignedPlans": [{**teams, "capabilityStatus": "Suspended"}],
        },
        {
            "id": "m3",
            "mail": "c@x.com",
            "accountEnabled": True,
            "assignedPlans": [{"service": "exchange", "capabilityStatus": "Enabled"}],
        },
        {"id": "m4", "mail": "d@x.com", "accountEnabled": False, "assignedPlans": [teams]},
        {
            "id": "m5",
            "mail": "e@x.com",
            "accountEnabled": True,
            "assignedPlans": [{**teams, "capabilityStatus": "Warning", "servicePlanId": "other"}],
        },
    ]
    adapter, seen = build(TeamsConferencing, GraphApi, answer({"value": value}))
    assert [(u.email, u.status) for u in adapter.list_users()] == [
        ("a@x.com", UserStatus.ACTIVE),
        ("b@x.com", UserStatus.UNLICENSED),
        ("c@x.com", UserStatus.UNLICENSED),
        ("d@x.com", UserStatus.INACTIVE),
        ("e@x.com", UserStatus.ACTIVE),  # a licence in its grace period still works
    ]
    assert seen[0].url.params["$top"] == "999" and "assignedPlans" in seen[0].url.params["$select"]


def test_google_suspended_and_archived_users_are_inactive() -> None:
    users = {
        "users": [
            {"id": "g1", "primaryEmail": "a@x.com", "name": {"fullName": "A A"}, "suspended": False},
            {"id": "g2", "primaryEmail": "b@x.com", "suspended": True},
            {"id": "g3", "primaryEmail": "c@x.com", "archived": True},
        ]
    }
    adapter, seen = build(MeetConferencing, GoogleApi, answer(users))
    assert [(u.display_name, u.status) for u in adapter.list_users()] == [
        ("A A", UserStatus.ACTIVE),
        ("b@x.com", UserStatus.INACTIVE),
        ("c@x.com", UserStatus.INACTIVE),
    ]
    assert seen[0].url.params["maxResults"] == "500" and seen[0].url.params["customer"] == "my_customer"


def test_indeed_statuses_and_an_unknown_one() -> None:
    found = {"users": [{"id": "9", "email": "a@x.com", "name": "A", "status": "invited"}]}
    adapter, _ = build(IndeedConferencing, IndeedApi, answer(found))
    assert adapter.lookup_user("a@x.com") == DirectoryUser("9", "a@x.com", "A", UserStatus.PENDING)
    odd = {"users": [{"id": "9", "email": "a@x.com", "status": "frozen"}]}
    adapter, _ = build(IndeedConferencing, IndeedApi, answer(odd))
    found_user = adapter.lookup_user("a@x.com")
    assert found_user is not None and found_user.status is UserStatus.INACTIVE  # never hosts by guess


def test_a_meeting_answer_without_a_join_url_is_malformed() -> None:
    adapter, _ = build(MeetConferencing, GoogleApi, answer({"name": "spaces/x"}))
    with pytest.raises(ProviderAnswerMalformed, match="meetingUri"):
        adapter.create_meeting(DirectoryUser("g1", "a@x.com", "A", UserStatus.ACTIVE), REQUEST)


def test_a_401_at_creation_is_left_to_the_caller_to_refresh() -> None:
    adapter, _ = build(IndeedConferencing, IndeedApi, answer({"error": "invalid_token"}, 401))
    with pytest.raises(AccessTokenRejected):
        adapter.create_meeting(DirectoryUser("9", "a@x.com", "A", UserStatus.ACTIVE), REQUEST)


def test_meeting_request_rules() -> None:
    start = datetime(2026, 1, 5, 9, tzinfo=timezone(timedelta(hours=2)))
    assert MeetingRequest("x", start, start + timedelta(seconds=61)).duration_minutes == 2
    with pytest.raises(ValueError, match="after"):
        MeetingRequest("x", start, start)
    with pytest.raises(ValueError, match="timezone"):
        MeetingRequest("x", datetime(2026, 1, 5, 9), start)
    with pytest.raises(ValueError, match="empty"):
        MeetingRequest("  ", start, start + timedelta(hours=1))
    with pytest.raises(ValueError, match="provider user id"):
        DirectoryUser("", "a@x.com", "A", UserStatus.ACTIVE)


def test_the_registry_builds_an_adapter_per_profile_provider_name() -> None:
    apps = dict.fromkeys(("zoom", "webex", "microsoft", "google", "indeed"), APP)
    registry = ProviderRegistry(apps, overrides={}, timeout=5)
    adapters = {name: registry.conferencing(name, TOKENS, tenant="t") for name in PROFILE_PROVIDER_NAMES}
    assert {name: a.profile_name for name, a in adapters.items()} == {n: n for n in PROFILE_PROVIDER_NAMES}
    assert adapters["ms_teams"].api.tenant == "t"
    with pytest.raises(KeyError):
        registry.conferencing("zoom_enterprise", TOKENS)
