"""Zoom OAuth tokens: refresh rotation, lifetimes, Server-to-Server tokens, revoke."""

from __future__ import annotations

from tests.simulators.conftest import CALLBACK, ZoomHarness, basic, bearer

# ----- refresh ------------------------------------------------------------------------------------


def _refresh(zoom: ZoomHarness, refresh_token: str) -> dict[str, object]:
    response = zoom.http.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        headers=basic(zoom.info["oauth_client_id"], zoom.info["oauth_client_secret"]),
    )
    return {"status": response.status_code, **response.json()}


def test_every_refresh_rotates_and_the_old_refresh_token_stops_working(zoom: ZoomHarness) -> None:
    tokens = zoom.user_tokens()
    first = _refresh(zoom, tokens["refresh_token"])
    assert first["status"] == 200
    assert first["refresh_token"] != tokens["refresh_token"]
    assert first["access_token"] != tokens["access_token"]
    reuse = _refresh(zoom, tokens["refresh_token"])
    assert reuse == {"status": 400, "reason": "Invalid Token!", "error": "invalid_grant"}
    second = _refresh(zoom, str(first["refresh_token"]))
    assert second["status"] == 200
    assert zoom.api("GET", "/users/me", str(second["access_token"])).status_code == 200


def test_access_token_expires_after_an_hour(zoom: ZoomHarness) -> None:
    tokens = zoom.user_tokens()
    zoom.sim.advance_clock(3599)
    assert zoom.api("GET", "/users/me", tokens["access_token"]).status_code == 200
    zoom.sim.advance_clock(1)
    expired = zoom.api("GET", "/users/me", tokens["access_token"])
    assert expired.status_code == 401
    assert expired.json() == {"code": 124, "message": "Invalid access token."}
    assert _refresh(zoom, tokens["refresh_token"])["status"] == 200


def test_refresh_token_lifetime_is_90_days_by_default(zoom: ZoomHarness) -> None:
    tokens = zoom.user_tokens()
    zoom.sim.advance_clock(90 * 86400)
    assert _refresh(zoom, tokens["refresh_token"])["error"] == "invalid_grant"


def test_refresh_token_lifetime_switch_to_15_years(make_zoom: object) -> None:
    harness: ZoomHarness = make_zoom(refresh_token_ttl_seconds=15 * 365 * 86400)  # type: ignore[operator]
    tokens = harness.user_tokens()
    harness.sim.advance_clock(400 * 86400)
    assert _refresh(harness, tokens["refresh_token"])["status"] == 200


def test_a_new_authorization_invalidates_the_previous_tokens(zoom: ZoomHarness) -> None:
    old = zoom.user_tokens()
    new = zoom.user_tokens()
    assert zoom.api("GET", "/users/me", old["access_token"]).status_code == 401
    assert _refresh(zoom, old["refresh_token"])["error"] == "invalid_grant"
    assert zoom.api("GET", "/users/me", new["access_token"]).status_code == 200


def test_refresh_with_another_apps_credentials_fails(zoom: ZoomHarness) -> None:
    tokens = zoom.user_tokens()
    zoom.sim.register_app("other-app", "other-secret", [CALLBACK])
    response = zoom.http.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic("other-app", "other-secret"),
    )
    assert response.json()["error"] == "invalid_grant"


# ----- Server-to-Server ---------------------------------------------------------------------------


def test_s2s_token_has_no_refresh_token_and_several_stay_valid(zoom: ZoomHarness) -> None:
    response = zoom.http.post(
        "/oauth/token",
        params={"grant_type": "account_credentials", "account_id": zoom.info["account_id"]},
        headers=basic(zoom.info["client_id"], zoom.info["client_secret"]),
    )
    body = response.json()
    assert response.status_code == 200
    assert "refresh_token" not in body
    assert body["expires_in"] == 3600
    assert body["token_type"] == "bearer"
    second = zoom.s2s_token()
    assert zoom.api("GET", "/users/me", body["access_token"]).status_code == 200
    assert zoom.api("GET", "/users/me", second).status_code == 200
    assert zoom.api("GET", "/users/me", second).json()["email"] == zoom.info["admin_email"]


def test_s2s_single_token_switch_invalidates_the_previous_token(make_zoom: object) -> None:
    harness: ZoomHarness = make_zoom(s2s_single_token=True)  # type: ignore[operator]
    first = harness.s2s_token()
    second = harness.s2s_token()
    assert harness.api("GET", "/users/me", first).status_code == 401
    assert harness.api("GET", "/users/me", second).status_code == 200


def test_s2s_requires_the_apps_own_account_id(zoom: ZoomHarness) -> None:
    response = zoom.http.post(
        "/oauth/token",
        data={"grant_type": "account_credentials", "account_id": zoom.info["free_account_id"]},
        headers=basic(zoom.info["client_id"], zoom.info["client_secret"]),
    )
    assert response.status_code == 400
    assert response.json() == {"reason": "Invalid account_id.", "error": "invalid_request"}


def test_oauth_app_cannot_use_account_credentials(zoom: ZoomHarness) -> None:
    response = zoom.http.post(
        "/oauth/token",
        data={"grant_type": "account_credentials", "account_id": zoom.info["account_id"]},
        headers=basic(zoom.info["oauth_client_id"], zoom.info["oauth_client_secret"]),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


# ----- revoke, Free account -------------------------------------------------------------------------


def test_revoke_kills_the_access_and_refresh_token(zoom: ZoomHarness) -> None:
    tokens = zoom.user_tokens()
    response = zoom.http.post(
        "/oauth/revoke",
        params={"token": tokens["access_token"]},
        headers=basic(zoom.info["oauth_client_id"], zoom.info["oauth_client_secret"]),
    )
    assert response.status_code == 200
    assert response.json() == {"status": "success"}
    assert zoom.api("GET", "/users/me", tokens["access_token"]).status_code == 401
    assert _refresh(zoom, tokens["refresh_token"])["error"] == "invalid_grant"


def test_revoke_of_an_unknown_token_is_an_error(zoom: ZoomHarness) -> None:
    response = zoom.http.post(
        "/oauth/revoke",
        params={"token": "nope"},
        headers=basic(zoom.info["oauth_client_id"], zoom.info["oauth_client_secret"]),
    )
    assert response.status_code == 400


def test_free_account_owner_can_authorize_and_reads_as_basic(zoom: ZoomHarness) -> None:
    tokens = zoom.user_tokens(user_email=zoom.info["free_admin_email"])
    me = zoom.http.get("/v2/users/me", headers=bearer(tokens["access_token"])).json()
    assert me["account_id"] == zoom.info["free_account_id"]
    assert me["type"] == 1  # Basic: every user of a Free account
    paid_me = zoom.api("GET", "/users/me", zoom.s2s_token()).json()
    assert paid_me["type"] == 2
