"""Provisioning end to end on the in-process dev stack (SQS worker, local API Gateway with the
template's IAM, the Zoom simulator): with ``create_users`` on, delegated access for a demo person
without Zoom creates the Zoom user, userinfo shows a pending zoom profile, then a connected one
once the simulator activates the user; each toggle off creates nobody; an account revoked with
request_pii_erasure leaves Zoom per remove_action; the provisioning log API pages newest first
and shows no expired event."""

from __future__ import annotations

from typing import Any

import httpx

from orgconnect import runtime
from orgconnect.domain.provisioning_log import RETENTION_SECONDS, EventResult, ProvisioningEvent
from orgconnect.domain.secrets import new_id
from orgconnect.store.dynamodb import to_item
from orgconnect.store.provisioning_events import event_item
from tests.delegated.conftest import CallbackReceiver
from tests.flow.harness import FlowStack, wait_for
from tests.flow.s2s_helpers import make_ou_token
from tests.matching.test_matching_flow import account_token, conferencing_profiles
from tests.matching.test_meeting_links import MEETING
from tests.provisioning.conftest import ProvisionedOu

EVENTS = "/v1/organizational_unit/provisioning_events"


def set_policy(ou: ProvisionedOu, **settings: Any) -> None:
    response = ou.flow.api.put(
        f"{ou.flow.info['api_url']}/v1/organizational_unit/conferencing_connections/{ou.connection_id}/provisioning",
        headers={"Authorization": f"Bearer {ou.ou.access_token}"},
        json={"provisioning": settings},
    )
    assert response.status_code == 200, response.text


def zoom_user(ou: ProvisionedOu, email: str) -> dict[str, Any] | None:
    users = httpx.get(f"{ou.zoom_base}/_sim/users").json()["users"]
    return next((u for u in users if u["email"] == email), None)


def events_page(flow: FlowStack, token: str, url: str | None = None) -> httpx.Response:
    return flow.api.get(
        url or f"{flow.info['api_url']}{EVENTS}", headers={"Authorization": f"Bearer {token}"}
    )


def test_a_person_without_zoom_gets_a_pending_user_then_a_connected_profile(
    provisioned_ou: ProvisionedOu, receiver: CallbackReceiver
) -> None:
    ou, flow = provisioned_ou, provisioned_ou.flow
    set_policy(ou, enabled=True, create_users=True)
    email = ou.person_without_zoom()
    first = account_token(flow, receiver, email)
    (profile,) = conferencing_profiles(flow, first["access_token"])
    assert profile["provider_name"] == "zoom" and profile["profile_name"] == email
    assert profile["profile_connected"] is False and profile["profile_relink_url"].startswith("https://")
    created = zoom_user(ou, email)
    assert created is not None and created["status"] == "pending"

    activated = httpx.patch(f"{ou.zoom_base}/_sim/users/{email}", json={"status": "active"})
    assert activated.status_code == 200, activated.text
    again = account_token(flow, receiver, email)  # the next match: nothing else to do
    assert again["sub"] == first["sub"]
    (connected,) = conferencing_profiles(flow, again["access_token"])
    assert connected["profile_id"] == profile["profile_id"] and connected["profile_connected"] is True
    assert "profile_relink_url" not in connected
    # A meeting for the new user, with the Server-to-Server connection's own token.
    meeting = flow.api.post(
        f"{flow.info['api_url']}/v1/conferencing",
        headers={"Authorization": f"Bearer {again['access_token']}"},
        json={"profile_id": "default", **MEETING},
    )
    assert meeting.status_code == 201, meeting.text
    assert (
        flow.simulator("zoom").meetings[int(meeting.json()["conferencing"]["meeting_id"])].host_id
        == created["id"]
    )

    log = events_page(flow, ou.ou.access_token)
    assert log.status_code == 200, log.text
    assert log.headers["cache-control"] == "no-store"
    mine = [e for e in log.json()["provisioning_events"] if e["account_id"] == first["sub"]]
    assert [(e["action"], e["result"], e["provider_user_id"]) for e in mine] == [
        ("create", "ok", created["id"])
    ]
    assert mine[0]["connection_id"] == ou.connection_id and mine[0]["error"] is None
    assert email not in log.text  # ids only, never an address


def test_with_create_users_off_or_provisioning_off_nobody_is_created(
    provisioned_ou: ProvisionedOu, receiver: CallbackReceiver
) -> None:
    ou, flow = provisioned_ou, provisioned_ou.flow
    for settings in ({"enabled": True, "create_users": False}, {"enabled": False, "create_users": True}):
        set_policy(ou, **settings)
        email = ou.person_without_zoom()
        token = account_token(flow, receiver, email)
        assert conferencing_profiles(flow, token["access_token"]) == []
        assert zoom_user(ou, email) is None


def test_the_provisioning_log_pages_like_cronofy(provisioned_ou: ProvisionedOu) -> None:
    flow = provisioned_ou.flow
    ou = make_ou_token(flow, flow.new_client())
    now = runtime.now()
    items = [
        ProvisioningEvent(
            new_id("pev"),
            ou.ou_id,
            "cnx_" + "0" * 24,
            now - 120 + i,
            "update",
            f"acc_{i}",
            f"z{i}",
            EventResult.OK,
        )
        for i in range(120)
    ]
    items.append(
        ProvisioningEvent(
            new_id("pev"),
            ou.ou_id,
            "cnx_" + "0" * 24,
            now - RETENTION_SECONDS - 5,
            "remove",
            "acc_old",
            "zold",
            EventResult.FAILED,
            "x",
        )
    )
    db, table = flow.aws("dynamodb"), flow.info["aws"]["table_name"]
    for event in items:
        db.put_item(TableName=table, Item=to_item(event_item(event)))
    seen: list[str] = []
    url: str | None = None
    for expected_page, expected_count in ((1, 50), (2, 50), (3, 20)):
        page = events_page(flow, ou.access_token, url)
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["pages"]["current"] == expected_page and body["pages"]["total"] == 3
        assert len(body["provisioning_events"]) == expected_count
        seen.extend(e["account_id"] for e in body["provisioning_events"])
        url = body["pages"].get("next_page")
        if expected_page < 3:
            assert url is not None and url.startswith(flow.info["api_url"])
    assert url is None
    assert seen == [f"acc_{i}" for i in reversed(range(120))]  # newest first; the expired one never
    # Another OU sees none of it; a forged page is a 422 in the errors format.
    other = make_ou_token(flow, flow.new_client())
    empty = events_page(flow, other.access_token).json()
    assert empty == {"pages": {"current": 1, "total": 1}, "provisioning_events": []}
    forged = events_page(flow, ou.access_token, f"{flow.info['api_url']}{EVENTS}?page=bm9wZQ")
    assert forged.status_code == 422 and "page" in forged.json()["errors"]
    assert events_page(flow, "not-a-token").status_code == 401


def revoke(flow: FlowStack, refresh_token: str, **extra: Any) -> httpx.Response:
    return flow.api.post(
        f"{flow.info['api_url']}/oauth/token/revoke",
        json={
            "client_id": flow.info["client_id"],
            "client_secret": flow.info["client_secret"],
            "token": refresh_token,
            **extra,
        },
    )


def test_an_account_revoked_with_pii_erasure_leaves_zoom_per_remove_action(
    provisioned_ou: ProvisionedOu, receiver: CallbackReceiver
) -> None:
    ou, flow = provisioned_ou, provisioned_ou.flow
    set_policy(ou, enabled=True, deprovision_users=True, remove_action="delete")
    kept_email, leaver_email = flow.info["demo"]["zoom_active"][2:4]
    kept, leaver = account_token(flow, receiver, kept_email), account_token(flow, receiver, leaver_email)
    (profile,) = conferencing_profiles(flow, leaver["access_token"])
    assert profile["profile_connected"] is True
    leaver_id = zoom_user(ou, leaver_email)["id"]  # type: ignore[index]

    assert revoke(flow, kept["refresh_token"]).status_code == 200  # no erasure asked: Zoom untouched
    invalid = revoke(flow, leaver["refresh_token"], request_pii_erasure="yes")
    assert invalid.status_code == 400 and invalid.json()["error"] == "invalid_request"
    assert revoke(flow, leaver["refresh_token"], request_pii_erasure=True).status_code == 200
    wait_for(lambda: zoom_user(ou, leaver_email) is None, timeout=20)
    assert zoom_user(ou, kept_email) is not None

    def removal() -> list[dict[str, Any]]:
        events = events_page(flow, ou.ou.access_token).json()["provisioning_events"]
        return [e for e in events if e["account_id"] == leaver["sub"]]

    wait_for(lambda: removal() != [], timeout=10)
    assert [(e["action"], e["result"], e["provider_user_id"]) for e in removal()] == [
        ("remove", "ok", leaver_id)
    ]
