"""Fidelity: drive the Zoom simulator with zoomus, an independently written Zoom client from PyPI.

zoomus (prschmid/zoomus) only has its base URIs changed; everything else (Basic-auth S2S token
request as form data, Bearer calls, JSON bodies, response parsing) is its own code.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import zoomus

from tests.simulators.conftest import ZoomHarness


def _client(zoom: ZoomHarness, *, free: bool = False) -> Any:
    prefix = "free_" if free else ""
    return zoomus.ZoomClient(
        zoom.info[f"{prefix}client_id"],
        zoom.info[f"{prefix}client_secret"],
        api_account_id=zoom.info[f"{prefix}account_id"],
        base_uri=f"{zoom.url}/v2",
        oauth_uri=f"{zoom.url}/oauth/token",
    )


def test_zoomus_gets_a_server_to_server_token(zoom: ZoomHarness) -> None:
    client = _client(zoom)
    token = client.config["token"]
    assert isinstance(token, str)
    assert token
    assert zoom.sim.tokens.valid(token, "access") is not None
    token_call = next(e for e in zoom.sim.requests() if e["path"] == "/oauth/token")
    assert token_call["params"]["grant_type"] == "account_credentials"
    assert token_call["auth_scheme"] == "Basic"


def test_zoomus_lists_and_gets_users(zoom: ZoomHarness) -> None:
    client = _client(zoom)
    listing = client.user.list(page_size=300)
    assert listing.status_code == 200
    users = listing.json()["users"]
    assert {u["email"] for u in users} == set(zoom.sim.demo.emails(zoom_status="active")) | {
        p.email for p in zoom.sim.demo.zoom_users() if p.zoom_status == "active" and p.domain != "example.com"
    }
    pending = client.user.list(status="pending").json()
    assert pending["total_records"] == len(
        [p for p in zoom.sim.demo.zoom_users() if p.zoom_status == "pending"]
    )
    one = client.user.get(id=users[1]["id"])
    assert one.status_code == 200
    assert one.json()["email"] == users[1]["email"]
    me = client.user.me().json()
    assert me["email"] == zoom.info["admin_email"]
    assert client.user.get(id="nobody@example.com").json()["code"] == 1001


def test_zoomus_creates_a_user_and_sees_the_conflict(zoom: ZoomHarness) -> None:
    client = _client(zoom)
    info = {"email": "switch@example.com", "type": 1, "first_name": "Switch", "last_name": "Matrix"}
    created = client.user.create(action="create", user_info=info)
    assert created.status_code == 201
    assert created.json()["email"] == "switch@example.com"
    assert client.user.get(id=created.json()["id"]).json()["status"] == "pending"
    duplicate = client.user.create(action="create", user_info=info)
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == 1005


def test_zoomus_creates_a_meeting(zoom: ZoomHarness) -> None:
    client = _client(zoom)
    host = zoom.sim.demo.emails(zoom_status="active")[1]
    response = client.meeting.create(
        user_id=host,
        topic="Fidelity check",
        type=2,
        start_time=dt.datetime(2023, 12, 1, 15, 30),
        duration=30,
        timezone="Europe/Paris",
    )
    assert response.status_code == 201
    meeting = response.json()
    assert meeting["topic"] == "Fidelity check"
    assert meeting["start_time"] == "2023-12-01T15:30:00Z"
    assert meeting["host_email"] == host
    assert meeting["join_url"].startswith(zoom.url)
    fetched = client.meeting.get(id=meeting["id"])
    assert fetched.status_code == 200
    assert fetched.json()["id"] == meeting["id"]


def test_zoomus_updates_and_deactivates_a_user(zoom: ZoomHarness) -> None:
    client = _client(zoom)
    email = zoom.sim.demo.emails(zoom_status="active")[2]
    user_id = client.user.get(id=email).json()["id"]
    assert client.user.update(id=user_id, first_name="Updated").status_code == 204
    assert client.user.update_status(id=user_id, action="deactivate").status_code == 204
    assert client.user.get(id=user_id).json()["status"] == "inactive"


def test_zoomus_against_the_free_account_sees_basic_users(zoom: ZoomHarness) -> None:
    client = _client(zoom, free=True)
    assert client.user.me().json()["type"] == 1
    refused = client.user.create(action="create", user_info={"email": "x@freeplan.example", "type": 1})
    assert refused.status_code == 400
    assert refused.json()["code"] == 200
