"""Re-authorization and deauthorization end to end with the Zoom simulator: a connection whose
refresh token Zoom refuses becomes ``needs_reauthorization`` and its profiles are disconnected with
a ``profile_relink_url``; that url runs the OU flow for the same Zoom account and restores the
connection and every profile, without a new match (no ``GET /v2/users``). A deauthorization
(Zoom's ``app_deauthorized``) revokes the connection, disconnects its profiles and deletes its
secret; relinking brings the same connection back."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.delegated.conftest import CallbackReceiver
from tests.flow.harness import Browser
from tests.webhooks.conftest import DemoOu, account_token, conferencing_profile


def _secret(ou: DemoOu, connection: dict[str, Any]) -> dict[str, Any] | None:
    secrets = ou.flow.aws("secretsmanager")
    try:
        value = secrets.get_secret_value(SecretId=connection["secret_arn"])["SecretString"]
    except secrets.exceptions.ResourceNotFoundException:
        return None
    data: dict[str, Any] = json.loads(value)
    return data


def _meeting(ou: DemoOu, token: str) -> httpx.Response:
    return ou.flow.api.post(
        f"{ou.flow.info['api_url']}/v1/conferencing",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "profile_id": "default",
            "summary": "Relink check",
            "start": "2026-12-01T10:00:00Z",
            "end": "2026-12-01T10:30:00Z",
            "tzid": "Europe/London",
        },
    )


def _lookups(ou: DemoOu) -> list[str]:
    """Zoom user lookups (a new match); the relink's reconcile may list ``/v2/users`` meanwhile."""
    return [
        str(r["path"])
        for r in ou.zoom_requests()
        if r.get("method") == "GET"
        and str(r.get("path", "")).startswith("/v2/users/")
        and r.get("path") != "/v2/users/me"
    ]


def _connected_person(
    ou: DemoOu, receiver: CallbackReceiver, index: int
) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """The Zoom connection (connected again if a test left it not), and delegated access for the
    demo's ``zoom_active[index]``: (connection, access token, its connected profile)."""
    connection = ou.ensure_connected()
    token = account_token(ou.flow, receiver, ou.flow.info["demo"]["zoom_active"][index])
    profile = conferencing_profile(ou.flow, token)
    assert profile["profile_connected"] is True
    return connection, token, profile


def _relink_url(ou: DemoOu, connection_id: str) -> str:
    return f"{ou.flow.info['app_url']}/organizational_unit_oauth/relink?connection_id={connection_id}"


def test_a_refused_refresh_token_disconnects_the_profiles_until_the_relink_url_restores_them(
    demo_ou: DemoOu, receiver: CallbackReceiver
) -> None:
    ou, flow = demo_ou, demo_ou.flow
    connection, token, before = _connected_person(ou, receiver, 6)

    # Zoom's admin revokes orgconnect's authorization (its refresh token with it).
    sim = flow.simulator("zoom")
    app = sim.default_app
    revoked = httpx.post(
        f"{ou.zoom}/oauth/revoke",
        params={"token": _secret(ou, connection)["refresh_token"]},  # type: ignore[index]
        auth=(app.client_id, app.client_secret),
    )
    assert revoked.status_code == 200, revoked.text
    # The next use: the access token is refused, the refresh gets invalid_grant.
    refused = _meeting(ou, token)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"]["profile_id"][0]["key"] == "errors.connection_needs_reauthorization", (
        refused.text
    )
    assert ou.statuses() == ("needs_reauthorization", "needs_reauthorization")
    disconnected = conferencing_profile(flow, token)
    relink_url = _relink_url(ou, connection["connection_id"])
    assert disconnected == {**before, "profile_connected": False, "profile_relink_url": relink_url}
    assert ou.managed_connection()["relink_url"] == relink_url  # for the OU's administrators

    ou.clear_zoom_requests()
    outcome = Browser(flow).run(disconnected["profile_relink_url"])
    assert outcome.kind == "page" and "data-testid=relinked" in outcome.text, outcome.text

    assert ou.connection()["connection_id"] == connection["connection_id"]
    assert ou.statuses() == ("connected", "connected")
    assert "relink_url" not in ou.managed_connection()
    assert conferencing_profile(flow, token) == before  # the same profile, connected again
    assert _lookups(ou) == []  # no new match
    created = _meeting(ou, token)
    assert created.status_code == 201, created.text


def test_a_deauthorization_disconnects_the_profiles_and_a_relink_brings_the_same_connection_back(
    demo_ou: DemoOu, receiver: CallbackReceiver
) -> None:
    ou, flow = demo_ou, demo_ou.flow
    connection, token, before = _connected_person(ou, receiver, 7)
    assert _secret(ou, connection) is not None

    # The Zoom admin uninstalls the app: the simulator revokes the tokens and sends the signed event.
    sent = httpx.post(f"{ou.zoom}/_sim/webhooks/send", json={"event": "app_deauthorized"})
    assert sent.status_code == 200 and sent.json()["status"] == 200, sent.text

    assert ou.statuses() == ("revoked", "revoked")
    assert _secret(ou, connection) is None and "secret_arn" not in ou.connection()
    gone = conferencing_profile(flow, token)
    relink_url = _relink_url(ou, connection["connection_id"])
    assert gone == {**before, "profile_connected": False, "profile_relink_url": relink_url}
    refused = _meeting(ou, token)
    assert refused.status_code == 422, refused.text

    ou.clear_zoom_requests()
    outcome = Browser(flow).run(relink_url)
    assert outcome.kind == "page" and "data-testid=relinked" in outcome.text, outcome.text
    restored = ou.connection()
    assert restored["connection_id"] == connection["connection_id"] and restored["status"] == "connected"
    assert _secret(ou, restored) is not None
    assert conferencing_profile(flow, token) == before
    assert _lookups(ou) == []
    assert _meeting(ou, token).status_code == 201


def test_a_relink_url_for_no_live_connection_is_a_page_and_starts_nothing(demo_ou: DemoOu) -> None:
    flow = demo_ou.flow
    for connection_id in ("cnx_5f2c8e1a9b3d4c6e7f8a9b0c", "not-a-connection", ""):
        outcome = Browser(flow).run(_relink_url(demo_ou, connection_id))
        assert outcome.kind == "page" and outcome.response.status_code == 404, outcome.text
        assert "no longer exists" in outcome.text
