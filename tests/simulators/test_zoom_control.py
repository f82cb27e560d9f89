"""The /_sim/ control API on the Zoom simulator: users, reset/seed, faults, request log, apps, clock."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.simulators.conftest import CALLBACK, ZoomHarness, basic


def test_control_user_lifecycle_is_visible_through_the_api(zoom: ZoomHarness) -> None:
    token = zoom.s2s_token()
    added = zoom.http.post(
        "/_sim/users", json={"email": "oracle@example.com", "first_name": "Ora", "status": "pending"}
    )
    assert added.status_code == 201
    assert added.json()["user"]["status"] == "pending"
    assert zoom.api("GET", "/users/oracle@example.com", token).json()["status"] == "pending"
    assert zoom.http.post("/_sim/users", json={"email": "oracle@example.com"}).status_code == 409
    renamed = zoom.http.patch(
        "/_sim/users/oracle@example.com", json={"email": "seer@example.com", "status": "active"}
    )
    assert renamed.json()["user"]["email"] == "seer@example.com"
    assert zoom.api("GET", "/users/oracle@example.com", token).status_code == 404
    assert zoom.api("GET", "/users/seer@example.com", token).json()["status"] == "active"
    assert zoom.http.delete("/_sim/users/seer@example.com").status_code == 204
    assert zoom.api("GET", "/users/seer@example.com", token).status_code == 404
    assert zoom.http.delete("/_sim/users/seer@example.com").status_code == 404
    listed = zoom.http.get("/_sim/users").json()["users"]
    assert {u["account_plan"] for u in listed} == {"business", "free"}


def test_control_user_validation(zoom: ZoomHarness) -> None:
    assert zoom.http.post("/_sim/users", json={"first_name": "x"}).status_code == 400
    assert zoom.http.post("/_sim/users", json={"email": "a@example.com", "status": "gone"}).status_code == 400
    assert (
        zoom.http.patch(f"/_sim/users/{zoom.info['admin_email']}", json={"status": "inactive"}).status_code
        == 409
    )
    assert (
        zoom.http.patch(f"/_sim/users/{zoom.info['admin_email']}", json={"colour": "red"}).status_code == 400
    )
    assert (
        zoom.http.post(
            "/_sim/users", content=b"[1]", headers={"Content-Type": "application/json"}
        ).status_code
        == 400
    )


def test_free_account_user_via_control_api(zoom: ZoomHarness) -> None:
    user = zoom.http.post("/_sim/users", json={"email": "neo@freeplan.example", "account": "free"}).json()[
        "user"
    ]
    assert user["account_id"] == zoom.info["free_account_id"]
    assert user["type"] == 1


def test_reset_returns_to_the_seeded_state_and_keeps_apps(zoom: ZoomHarness) -> None:
    token = zoom.s2s_token()
    before = zoom.http.get("/_sim/users").json()["users"]
    zoom.http.post("/_sim/users", json={"email": "extra@example.com"})
    zoom.http.patch(
        f"/_sim/apps/{zoom.info['oauth_client_id']}", json={"redirect_uris": ["http://127.0.0.1:1/cb"]}
    )
    assert zoom.http.post("/_sim/reset").status_code == 200
    assert zoom.http.get("/_sim/users").json()["users"] == before  # same ids: deterministic
    assert zoom.api("GET", "/users/me", token).status_code == 401  # tokens are dropped
    apps = {a["client_id"]: a for a in zoom.http.get("/_sim/apps").json()["apps"]}
    assert apps[zoom.info["oauth_client_id"]]["redirect_uris"] == ["http://127.0.0.1:1/cb"]
    assert "client_secret" not in apps[zoom.info["oauth_client_id"]]


def test_same_seed_gives_the_same_ids_and_credentials(make_zoom: Callable[..., ZoomHarness]) -> None:
    first, second = make_zoom(seed=11), make_zoom(seed=11)
    keys = (
        "account_id",
        "client_id",
        "client_secret",
        "oauth_client_id",
        "oauth_client_secret",
        "free_account_id",
    )
    assert [first.info[k] for k in keys] == [second.info[k] for k in keys]
    assert first.sim.control_list_users() == second.sim.control_list_users()
    third = make_zoom(seed=12)
    assert third.info["account_id"] != first.info["account_id"]


def test_seed_endpoint_changes_size_and_plan(zoom: ZoomHarness) -> None:
    reply = zoom.http.post("/_sim/seed", json={"zoom_users": 500, "plan": "pro"})
    assert reply.status_code == 200
    info = zoom.http.get("/_sim/info").json()
    assert info["plan"] == "pro"
    assert sum(info["user_counts"].values()) == 500
    assert zoom.http.post("/_sim/seed", json={"plan": "enterprise"}).status_code == 400
    assert zoom.http.post("/_sim/seed", json={"zoom_users": 100_001}).status_code == 400
    assert zoom.http.get("/_sim/info").json()["plan"] == "pro"  # a refused reseed changes nothing
    zoom.http.post("/_sim/reset")
    assert sum(zoom.http.get("/_sim/info").json()["user_counts"].values()) == 500  # params survive reset


def test_seed_endpoint_rebuilds_the_demo_directory(zoom: ZoomHarness) -> None:
    zoom.http.post("/_sim/seed", json={"seed": 99, "primary_users": 20})
    assert zoom.sim.demo.seed == 99
    assert len(zoom.sim.demo.in_domain("example.com")) == 20


def test_info_matches_dev_info(zoom: ZoomHarness) -> None:
    info = zoom.http.get("/_sim/info").json()
    for key in (
        "base_url",
        "oauth_client_id",
        "oauth_client_secret",
        "account_id",
        "client_id",
        "client_secret",
        "free_account_id",
        "api_base_url",
    ):
        assert info[key] == zoom.info[key]


# ----- faults -------------------------------------------------------------------------------------


def test_fault_500_on_the_api_hits_only_the_next_n_calls(zoom: ZoomHarness) -> None:
    token = zoom.s2s_token()
    assert (
        zoom.http.post("/_sim/faults", json={"target": "api", "kind": "500", "count": 2}).status_code == 201
    )
    first = zoom.api("GET", "/users/me", token)
    assert first.status_code == 500
    assert first.json()["code"] == 500
    assert zoom.api("GET", "/users/me", token).status_code == 500
    assert zoom.api("GET", "/users/me", token).status_code == 200
    assert zoom.http.get("/_sim/faults").json()["faults"] == []


def test_fault_does_not_hit_other_targets(zoom: ZoomHarness) -> None:
    zoom.http.post("/_sim/faults", json={"target": "api", "kind": "503"})
    token = zoom.s2s_token()  # the token endpoint is another target
    assert zoom.api("GET", "/users/me", token).status_code == 503


def test_fault_path_prefix(zoom: ZoomHarness) -> None:
    token = zoom.s2s_token()
    zoom.http.post(
        "/_sim/faults", json={"target": "api", "kind": "502", "path_prefix": "/v2/users/me/meetings"}
    )
    assert zoom.api("GET", "/users/me", token).status_code == 200
    assert zoom.api("POST", "/users/me/meetings", token, json={}).status_code == 502


def test_fault_invalid_grant_on_the_token_endpoint(zoom: ZoomHarness) -> None:
    tokens = zoom.user_tokens()
    zoom.http.post("/_sim/faults", json={"target": "token", "kind": "invalid_grant"})
    response = zoom.http.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic(zoom.info["oauth_client_id"], zoom.info["oauth_client_secret"]),
    )
    assert response.status_code == 400
    assert response.json() == {"reason": "Invalid Token!", "error": "invalid_grant"}
    # The fault did not consume the refresh token: it still works afterwards.
    retry = zoom.http.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic(zoom.info["oauth_client_id"], zoom.info["oauth_client_secret"]),
    )
    assert retry.status_code == 200


def test_fault_forced_429_has_rate_limit_headers(zoom: ZoomHarness) -> None:
    token = zoom.s2s_token()
    zoom.http.post("/_sim/faults", json={"target": "api", "kind": "429"})
    response = zoom.api("GET", "/users", token)
    assert response.status_code == 429
    assert response.headers["X-RateLimit-Category"] == "Medium"
    assert response.headers["X-RateLimit-Type"] == "QPS"
    assert response.headers["Retry-After"] == "2023-11-14T22:13:21Z"


def test_fault_timeout_holds_the_request_past_the_client_timeout(zoom: ZoomHarness) -> None:
    zoom.http.post("/_sim/faults", json={"target": "token", "kind": "timeout", "delay_seconds": 5})
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{zoom.url}/oauth/token",
            data={"grant_type": "account_credentials", "account_id": zoom.info["account_id"]},
            headers=basic(zoom.info["client_id"], zoom.info["client_secret"]),
            timeout=0.3,
        )
    zoom.http.delete("/_sim/faults")  # releases the held request
    assert zoom.s2s_token()  # the next call is normal
    held = [e for e in zoom.sim.requests() if e["fault"] == "timeout"]
    assert held
    assert held[0]["status"] == 504


def test_bad_faults_are_refused(zoom: ZoomHarness) -> None:
    assert zoom.http.post("/_sim/faults", json={"target": "api", "kind": "explode"}).status_code == 400
    assert (
        zoom.http.post("/_sim/faults", json={"target": "api", "kind": "500", "count": 0}).status_code == 400
    )


# ----- request log --------------------------------------------------------------------------------


def test_request_log_never_contains_secret_values(zoom: ZoomHarness) -> None:
    tokens = zoom.user_tokens()
    refresh = zoom.http.post(
        "/oauth/token",
        params={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic(zoom.info["oauth_client_id"], zoom.info["oauth_client_secret"]),
    )
    assert refresh.status_code == 200
    zoom.http.get("/v2/users", params={"access_token": tokens["access_token"]})
    log = zoom.http.get("/_sim/requests").json()["requests"]
    text = str(log)
    for secret in (tokens["access_token"], tokens["refresh_token"], zoom.info["oauth_client_secret"]):
        assert secret not in text
    token_calls = [e for e in log if e["path"] == "/oauth/token"]
    assert token_calls[0]["params"]["code"] == "[redacted]"
    assert token_calls[0]["params"]["code_verifier"] == "[redacted]"
    assert token_calls[0]["params"]["grant_type"] == "authorization_code"
    assert token_calls[0]["auth_scheme"] == "Basic"
    assert {e["status"] for e in token_calls} == {200}
    assert any(e["params"].get("access_token") == "[redacted]" for e in log)


def test_request_log_can_be_cleared_and_skips_control_calls(zoom: ZoomHarness) -> None:
    zoom.s2s_token()
    assert zoom.http.get("/_sim/requests").json()["requests"]
    zoom.http.delete("/_sim/requests")
    zoom.http.get("/_sim/users")
    assert zoom.http.get("/_sim/requests").json()["requests"] == []


# ----- apps and clock -------------------------------------------------------------------------------


def test_register_an_app_over_the_control_api(zoom: ZoomHarness) -> None:
    reply = zoom.http.post(
        "/_sim/apps",
        json={"client_id": "int-app", "client_secret": "int-secret", "redirect_uris": [CALLBACK]},
    )
    assert reply.status_code == 201
    page = zoom.http.get(
        "/oauth/authorize", params={"response_type": "code", "client_id": "int-app", "redirect_uri": CALLBACK}
    )
    assert page.status_code == 200
    assert zoom.http.post("/_sim/apps", json={"client_id": "x"}).status_code == 400
    assert zoom.http.patch("/_sim/apps/unknown", json={"redirect_uris": []}).status_code == 404


def test_clock_endpoint_moves_time_forward_only(zoom: ZoomHarness) -> None:
    assert zoom.http.get("/_sim/clock").json() == {"now": 1_700_000_000.0}
    assert zoom.http.post("/_sim/clock", json={"advance_seconds": 90}).json() == {"now": 1_700_000_090.0}
    assert zoom.http.post("/_sim/clock", json={"advance_seconds": -5}).status_code == 400


def test_unknown_paths_get_zoom_shaped_404(zoom: ZoomHarness) -> None:
    response = zoom.http.get("/v2/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == 404
    assert zoom.http.delete("/oauth/token").status_code == 405
