"""POST /v1/conferencing on the dev stack: a matched Zoom user's account token gets a meeting the
Zoom simulator knows; a pending user, a user without Zoom and bad bodies get 422s; other tokens 403."""

from __future__ import annotations

from typing import Any

import httpx

from tests.delegated.conftest import CallbackReceiver
from tests.flow.harness import FlowStack
from tests.matching.test_matching_flow import account_token, conferencing_profiles

MEETING = {
    "summary": "Interview",
    "start": "2026-12-01T10:00:00Z",
    "end": "2026-12-01T10:45:00Z",
    "tzid": "Europe/London",
}


def conferencing(flow: FlowStack, token: str, body: dict[str, Any]) -> httpx.Response:
    return flow.api.post(
        f"{flow.info['api_url']}/v1/conferencing", headers={"Authorization": f"Bearer {token}"}, json=body
    )


def test_a_matched_zoom_user_gets_a_meeting_the_simulator_knows(
    zoom_linked: FlowStack, receiver: CallbackReceiver
) -> None:
    flow = zoom_linked
    token = account_token(flow, receiver, flow.info["demo"]["zoom_active"][20])["access_token"]
    (profile,) = conferencing_profiles(flow, token)
    for profile_id in ("default", profile["profile_id"]):
        created = conferencing(flow, token, {"profile_id": profile_id, **MEETING})
        assert created.status_code == 201, created.text
        answer = created.json()["conferencing"]
        assert answer["provider_name"] == "zoom" and answer["profile_id"] == profile["profile_id"]
        # Read it back through the simulator: the meeting exists, hosted by the matched user.
        meeting = flow.simulator("zoom").meetings[int(answer["meeting_id"])]
        assert answer["join_url"] == meeting.as_json(flow.info["simulators"]["zoom"]["base_url"])["join_url"]
        host = flow.simulator("zoom").directory.by_email(profile["profile_name"])
        assert meeting.host_id == host.id
        assert answer.get("password") == meeting.password
        assert meeting.duration == 45


def test_a_meeting_after_the_users_email_changed_at_zoom(
    zoom_linked: FlowStack, receiver: CallbackReceiver
) -> None:
    flow = zoom_linked
    email = flow.info["demo"]["zoom_active"][21]
    token = account_token(flow, receiver, email)["access_token"]
    base = flow.info["simulators"]["zoom"]["base_url"]
    assert httpx.patch(f"{base}/_sim/users/{email}", json={"email": f"moved.{email}"}).status_code == 200
    created = conferencing(flow, token, {"profile_id": "default", **MEETING})
    assert created.status_code == 201, created.text  # the stable Zoom user id still hosts


def test_a_pending_user_and_a_user_without_zoom_get_422(
    zoom_linked: FlowStack, receiver: CallbackReceiver
) -> None:
    flow = zoom_linked
    pending = account_token(flow, receiver, flow.info["demo"]["zoom_pending"][1])["access_token"]
    refused = conferencing(flow, pending, {"profile_id": "default", **MEETING})
    assert refused.status_code == 422, refused.text
    (error,) = refused.json()["errors"]["profile_id"]
    assert error["key"] == "errors.profile_not_connected" and "pending" in error["description"]
    none = account_token(flow, receiver, flow.info["demo"]["no_zoom"][1])["access_token"]
    refused = conferencing(flow, none, {"profile_id": "default", **MEETING})
    assert refused.status_code == 422
    assert refused.json()["errors"]["profile_id"][0]["key"] == "errors.no_conferencing_profile"


def test_bad_bodies_get_422_and_other_tokens_403(zoom_linked: FlowStack, receiver: CallbackReceiver) -> None:
    flow = zoom_linked
    token = account_token(flow, receiver, flow.info["demo"]["zoom_active"][22])["access_token"]
    bad = conferencing(
        flow,
        token,
        {
            "profile_id": "x",
            "summary": "",
            "start": "yesterday",
            "end": "2026-12-01T10:00:00Z",
            "tzid": "Mars/Base",
        },
    )
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"profile_id", "summary", "start", "tzid"}
    backwards = conferencing(flow, token, {**MEETING, "profile_id": "default", "end": "2026-12-01T09:00:00Z"})
    assert backwards.status_code == 422 and "end" in backwards.json()["errors"]
    assert conferencing(flow, "not-a-token", {"profile_id": "default", **MEETING}).status_code == 401
    other = conferencing(flow, flow.info["service_account_token"], {"profile_id": "default", **MEETING})
    assert other.status_code == 403 and other.json()["error"] == "insufficient_scope"
