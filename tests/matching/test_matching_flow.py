"""Matching on the in-process dev stack with the Zoom simulator: once Zoom is linked to the demo
OU, delegated access matches each account by email, the directory is listed once per connection,
and userinfo shows the conferencing profiles (connected, pending with a relink url, none)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.delegated.conftest import CallbackReceiver
from tests.delegated.test_delegated_access_flow import one, redeem, request_access, wait_callbacks
from tests.flow.harness import FlowStack


def zoom_requests(flow: FlowStack) -> list[dict[str, Any]]:
    base = flow.info["simulators"]["zoom"]["base_url"]
    return list(httpx.get(f"{base}/_sim/requests").json()["requests"])


def listings(flow: FlowStack) -> list[dict[str, Any]]:
    return [e for e in zoom_requests(flow) if e.get("method") == "GET" and e.get("path") == "/v2/users"]


def lookups(flow: FlowStack) -> list[dict[str, Any]]:
    return [
        e
        for e in zoom_requests(flow)
        if e.get("method") == "GET"
        and str(e.get("path", "")).startswith("/v2/users/")
        and str(e.get("path")).count("/") == 3
    ]


def account_token(flow: FlowStack, receiver: CallbackReceiver, email: str) -> dict[str, Any]:
    path, body = one(receiver, email)
    accepted = request_access(flow, body)
    assert accepted.status_code == 202, accepted.text
    (callback,) = wait_callbacks(receiver, path)
    assert "code" in callback["authorization"], callback
    token = redeem(flow, callback["authorization"]["code"], receiver.url(path))
    assert token.status_code == 200, token.text
    return dict(token.json())


def conferencing_profiles(flow: FlowStack, access_token: str) -> list[dict[str, Any]]:
    info = flow.api.get(
        f"{flow.info['api_url']}/v1/userinfo", headers={"Authorization": f"Bearer {access_token}"}
    )
    assert info.status_code == 200, info.text
    return list(info.json()["cronofy.data"]["conferencing_profiles"])


def test_a_batch_reuses_the_directory_listed_at_link_and_every_zoom_user_is_connected(
    zoom_linked: FlowStack, receiver: CallbackReceiver
) -> None:
    flow = zoom_linked
    emails = flow.info["demo"]["zoom_active"][:12]
    paths = []
    for email in emails:
        path, body = one(receiver, email.upper())
        paths.append(path)
        assert request_access(flow, body).status_code == 202
    for path, email in zip(paths, emails, strict=True):
        (callback,) = wait_callbacks(receiver, path)
        token = redeem(flow, callback["authorization"]["code"], receiver.url(path)).json()
        (profile,) = conferencing_profiles(flow, token["access_token"])
        assert profile["provider_name"] == "zoom" and profile["profile_id"].startswith("pro_")
        assert profile["profile_name"] == email.lower() and profile["profile_connected"] is True
        assert "profile_relink_url" not in profile
    # The directory was listed once, by the link's sync (the zoom_linked fixture counts it):
    # matching 12 accounts listed nothing again and looked nothing up.
    assert listings(flow) == []
    assert lookups(flow) == []


def test_a_pending_zoom_user_is_not_connected_and_gets_a_relink_url(
    zoom_linked: FlowStack, receiver: CallbackReceiver
) -> None:
    token = account_token(zoom_linked, receiver, zoom_linked.info["demo"]["zoom_pending"][0])
    (profile,) = conferencing_profiles(zoom_linked, token["access_token"])
    assert profile["profile_connected"] is False
    assert profile["profile_relink_url"].startswith("https://")


def test_a_user_without_zoom_has_no_profile_at_one_lookup_at_most(
    zoom_linked: FlowStack, receiver: CallbackReceiver
) -> None:
    before = len(listings(zoom_linked))
    token = account_token(zoom_linked, receiver, zoom_linked.info["demo"]["no_zoom"][0])
    assert conferencing_profiles(zoom_linked, token["access_token"]) == []
    assert len(listings(zoom_linked)) == before  # the synced directory is reused, never listed again
    assert len(lookups(zoom_linked)) <= 1


def test_an_email_change_at_zoom_keeps_the_profile(
    zoom_linked: FlowStack, receiver: CallbackReceiver
) -> None:
    flow = zoom_linked
    email = flow.info["demo"]["zoom_active"][13]
    first = account_token(flow, receiver, email)
    (profile,) = conferencing_profiles(flow, first["access_token"])
    base = flow.info["simulators"]["zoom"]["base_url"]
    moved = httpx.patch(f"{base}/_sim/users/{email}", json={"email": f"renamed.{email}"})
    assert moved.status_code == 200, moved.text
    again = account_token(flow, receiver, email)  # the same calendar account, matched again
    assert again["sub"] == first["sub"]
    # The same profile; Zoom's user.updated webhook (docs/webhooks.md) brought the new address.
    assert conferencing_profiles(flow, again["access_token"]) == [
        {**profile, "profile_name": f"renamed.{email}".lower()}
    ]
