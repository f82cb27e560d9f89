"""Zoom REST /v2 users: auth errors, listing and paging, get, create, update, status, email, delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.simulators.conftest import ZoomHarness


@pytest.fixture
def token(zoom: ZoomHarness) -> str:
    return zoom.s2s_token()


def _create(zoom: ZoomHarness, token: str, email: str, action: str = "create", **info: Any) -> Any:
    body = {
        "action": action,
        "user_info": {"email": email, "type": 1, "first_name": "Neo", "last_name": "Anderson", **info},
    }
    return zoom.api("POST", "/users", token, json=body)


# ----- authentication ----------------------------------------------------------------------------


def test_missing_and_bogus_tokens_get_code_124(zoom: ZoomHarness) -> None:
    assert zoom.http.get("/v2/users").status_code == 401
    response = zoom.http.get("/v2/users", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert response.json() == {"code": 124, "message": "Invalid access token."}


def test_access_token_in_query_string_is_refused(zoom: ZoomHarness, token: str) -> None:
    response = zoom.http.get("/v2/users", params={"access_token": token})
    assert response.status_code == 401
    assert response.json() == {
        "code": 124,
        "message": "Invalid access token, this access token is not supported as query parameter string.",
    }


def test_missing_scope_is_refused_with_4711(zoom: ZoomHarness) -> None:
    zoom.sim.register_app(
        "narrow",
        "narrow-secret",
        [],
        kind="server_to_server",
        scopes=["meeting:write:meeting:admin"],
        meta={"account_id": zoom.info["account_id"]},
    )
    from tests.simulators.conftest import basic

    narrow = zoom.http.post(
        "/oauth/token",
        data={"grant_type": "account_credentials", "account_id": zoom.info["account_id"]},
        headers=basic("narrow", "narrow-secret"),
    ).json()["access_token"]
    response = zoom.api("GET", "/users", narrow)
    assert response.status_code == 400
    assert response.json()["code"] == 4711


# ----- listing ------------------------------------------------------------------------------------


def test_list_defaults_to_active_users_and_30_per_page(zoom: ZoomHarness, token: str) -> None:
    body = zoom.api("GET", "/users", token).json()
    active = zoom.sim.directory.count(zoom.info["account_id"], "active")
    assert body["page_size"] == 30
    assert body["total_records"] == active
    assert body["page_number"] == 1
    assert body["page_count"] == -(-active // 30)
    assert len(body["users"]) == 30
    assert {u["status"] for u in body["users"]} == {"active"}
    assert body["next_page_token"] != ""


@pytest.mark.parametrize("status", ["pending", "inactive"])
def test_status_filter_matches_the_demo_directory(zoom: ZoomHarness, token: str, status: str) -> None:
    body = zoom.api("GET", "/users", token, params={"status": status, "page_size": 300}).json()
    expected = {p.email for p in zoom.sim.demo.zoom_users() if p.zoom_status == status}
    assert {u["email"] for u in body["users"]} == expected
    assert body["next_page_token"] == ""


def test_pending_users_are_listed_with_minimal_data(zoom: ZoomHarness, token: str) -> None:
    user = zoom.api("GET", "/users", token, params={"status": "pending"}).json()["users"][0]
    assert user["status"] == "pending"
    assert "pmi" not in user
    assert "last_login_time" not in user


def test_invalid_status_is_a_validation_error(zoom: ZoomHarness, token: str) -> None:
    response = zoom.api("GET", "/users", token, params={"status": "everyone"})
    assert response.status_code == 400
    assert response.json()["code"] == 300


def test_page_size_is_capped_at_300(make_zoom: Callable[..., ZoomHarness]) -> None:
    harness = make_zoom(zoom_users=700)
    body = harness.api("GET", "/users", harness.s2s_token(), params={"page_size": 1000}).json()
    assert body["page_size"] == 300
    assert len(body["users"]) == 300


def test_next_page_token_walks_every_user_exactly_once(make_zoom: Callable[..., ZoomHarness]) -> None:
    harness = make_zoom(zoom_users=700)
    token = harness.s2s_token()
    seen: list[str] = []
    params: dict[str, Any] = {"page_size": 300}
    pages = 0
    while True:
        body = harness.api("GET", "/users", token, params=params).json()
        pages += 1
        seen.extend(u["id"] for u in body["users"])
        if body["next_page_token"] == "":
            break
        params = {"page_size": 300, "next_page_token": body["next_page_token"]}
    assert len(seen) == len(set(seen)) == body["total_records"]
    assert pages == body["page_count"] == 3
    assert body["page_number"] == 3


def test_next_page_token_expires_after_15_minutes(zoom: ZoomHarness, token: str) -> None:
    next_token = zoom.api("GET", "/users", token, params={"page_size": 10}).json()["next_page_token"]
    zoom.sim.advance_clock(14 * 60)
    fresh = zoom.s2s_token()
    assert (
        zoom.api("GET", "/users", fresh, params={"page_size": 10, "next_page_token": next_token}).status_code
        == 200
    )
    zoom.sim.advance_clock(60)
    response = zoom.api("GET", "/users", fresh, params={"page_size": 10, "next_page_token": next_token})
    assert response.status_code == 400
    assert response.json()["code"] == 300


def test_next_page_token_needs_the_same_query(zoom: ZoomHarness, token: str) -> None:
    next_token = zoom.api("GET", "/users", token, params={"page_size": 10}).json()["next_page_token"]
    response = zoom.api("GET", "/users", token, params={"status": "pending", "next_page_token": next_token})
    assert response.status_code == 400


def test_page_number_paging(zoom: ZoomHarness, token: str) -> None:
    first = zoom.api("GET", "/users", token, params={"page_size": 10, "page_number": 1}).json()
    second = zoom.api("GET", "/users", token, params={"page_size": 10, "page_number": 2}).json()
    assert second["page_number"] == 2
    assert not {u["id"] for u in first["users"]} & {u["id"] for u in second["users"]}


def test_accounts_do_not_see_each_others_users(zoom: ZoomHarness) -> None:
    free_token = zoom.s2s_token(free=True)
    body = zoom.api("GET", "/users", free_token).json()
    assert body["total_records"] == 2
    assert all(u["email"].endswith("@freeplan.example") for u in body["users"])
    admin = zoom.info["admin_email"]
    assert zoom.api("GET", f"/users/{admin}", free_token).status_code == 404


def test_listing_a_100k_seed_is_paged(make_zoom: Callable[..., ZoomHarness]) -> None:
    harness = make_zoom(zoom_users=100_000, rate_limits=False)
    body = harness.api(
        "GET", "/users", harness.s2s_token(), params={"page_size": 300, "page_number": 300}
    ).json()
    assert body["total_records"] == harness.sim.directory.count(harness.info["account_id"], "active")
    assert body["total_records"] > 90_000
    assert len(body["users"]) == 300


# ----- get ----------------------------------------------------------------------------------------


def test_get_user_by_id_email_and_me(zoom: ZoomHarness, token: str) -> None:
    me = zoom.api("GET", "/users/me", token).json()
    by_id = zoom.api("GET", f"/users/{me['id']}", token).json()
    by_email = zoom.api("GET", f"/users/{me['email'].upper()}", token).json()
    assert me == by_id == by_email
    assert me["role_name"] == "Owner"
    assert me["account_id"] == zoom.info["account_id"]


def test_unknown_user_is_404_code_1001(zoom: ZoomHarness, token: str) -> None:
    response = zoom.api("GET", "/users/nobody@example.com", token)
    assert response.status_code == 404
    assert response.json() == {"code": 1001, "message": "User does not exist: nobody@example.com."}


# ----- create -------------------------------------------------------------------------------------


def test_create_makes_a_pending_user(zoom: ZoomHarness, token: str) -> None:
    response = _create(zoom, token, "neo@example.com")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "first_name", "last_name", "email", "type"}
    assert body["email"] == "neo@example.com"
    assert response.headers["Content-Location"].endswith(f"/v2/users/{body['id']}")
    assert zoom.api("GET", f"/users/{body['id']}", token).json()["status"] == "pending"


@pytest.mark.parametrize("action", ["autoCreate", "custCreate", "ssoCreate"])
def test_other_create_actions_make_active_users(zoom: ZoomHarness, token: str, action: str) -> None:
    body = _create(zoom, token, f"{action.lower()}@example.com", action).json()
    assert zoom.api("GET", f"/users/{body['id']}", token).json()["status"] == "active"


def test_auto_create_needs_a_managed_domain(zoom: ZoomHarness, token: str) -> None:
    response = _create(zoom, token, "someone@elsewhere.example", "autoCreate")
    assert response.status_code == 400
    assert response.json()["code"] == 1116


def test_duplicate_email_is_409_code_1005(zoom: ZoomHarness, token: str) -> None:
    email = zoom.sim.demo.emails(zoom_status="active")[1]
    response = _create(zoom, token, email.upper())
    assert response.status_code == 409
    assert response.json() == {"code": 1005, "message": f"User already in the account: {email.upper()}"}


def test_duplicate_status_switch_412(make_zoom: Callable[..., ZoomHarness]) -> None:
    harness = make_zoom(duplicate_user_status=412)
    response = _create(harness, harness.s2s_token(), harness.info["admin_email"])
    assert response.status_code == 412
    assert response.json()["code"] == 1005


def test_create_validation_lists_the_bad_fields(zoom: ZoomHarness, token: str) -> None:
    response = zoom.api(
        "POST", "/users", token, json={"action": "create", "user_info": {"email": "bad", "type": 7}}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 300
    assert body["message"] == "Validation Failed."
    assert {e["field"] for e in body["errors"]} == {"user_info.email", "user_info.type"}


def test_create_with_unknown_action_or_bad_json(zoom: ZoomHarness, token: str) -> None:
    assert _create(zoom, token, "x@example.com", "invite").json()["code"] == 300
    response = zoom.http.post(
        "/v2/users",
        content=b"{not json",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.json() == {"code": 300, "message": "Request Body should be a valid JSON object."}


def test_free_account_cannot_create_users(zoom: ZoomHarness) -> None:
    response = _create(zoom, zoom.s2s_token(free=True), "new@freeplan.example")
    assert response.status_code == 400
    assert response.json() == {"code": 200, "message": "No privilege."}


def test_daily_create_limit_per_plan(make_zoom: Callable[..., ZoomHarness]) -> None:
    harness = make_zoom(free_plan_can_create_users=True, rate_limits=False)
    token = harness.s2s_token(free=True)
    for index in range(50):
        assert _create(harness, token, f"u{index}@freeplan.example").status_code == 201
    refused = _create(harness, token, "u50@freeplan.example")
    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Type"] == "Daily-limit"
    assert refused.headers["X-RateLimit-Limit"] == "50"
    assert refused.headers["Retry-After"] == "2023-11-15T00:00:00Z"
    harness.sim.advance_clock(2 * 3600)  # past 00:00 UTC (and past the token's hour)
    assert _create(harness, harness.s2s_token(free=True), "u50@freeplan.example").status_code == 201


# ----- update, status, email, delete ----------------------------------------------------------------


def test_patch_updates_and_answers_204(zoom: ZoomHarness, token: str) -> None:
    email = zoom.sim.demo.emails(zoom_status="active")[1]
    response = zoom.api("PATCH", f"/users/{email}", token, json={"first_name": "Renamed", "dept": "R&D"})
    assert response.status_code == 204
    assert response.content == b""
    user = zoom.api("GET", f"/users/{email}", token).json()
    assert (user["first_name"], user["dept"]) == ("Renamed", "R&D")


def test_patch_is_refused_while_pending(zoom: ZoomHarness, token: str) -> None:
    pending = zoom.sim.demo.emails(zoom_status="pending")[0]
    response = zoom.api("PATCH", f"/users/{pending}", token, json={"first_name": "X"})
    assert response.status_code == 400
    assert response.json()["code"] == 1000


def test_patch_validation(zoom: ZoomHarness, token: str) -> None:
    email = zoom.sim.demo.emails(zoom_status="active")[1]
    response = zoom.api("PATCH", f"/users/{email}", token, json={"type": "licensed"})
    assert response.json()["errors"] == [{"field": "type", "message": "Invalid field."}]


def test_deactivate_and_activate(zoom: ZoomHarness, token: str) -> None:
    email = zoom.sim.demo.emails(zoom_status="active")[1]
    deactivate = zoom.api("PUT", f"/users/{email}/status", token, json={"action": "deactivate"})
    assert deactivate.status_code == 204
    assert zoom.api("GET", f"/users/{email}", token).json()["status"] == "inactive"
    inactive = zoom.api("GET", "/users", token, params={"status": "inactive", "page_size": 300}).json()
    assert email in {u["email"] for u in inactive["users"]}
    assert zoom.api("PUT", f"/users/{email}/status", token, json={"action": "activate"}).status_code == 204
    assert zoom.api("GET", f"/users/{email}", token).json()["status"] == "active"


def test_owner_and_pending_users_cannot_change_status(zoom: ZoomHarness, token: str) -> None:
    owner = zoom.api("PUT", "/users/me/status", token, json={"action": "deactivate"})
    assert owner.status_code == 400
    assert owner.json()["code"] == 200
    pending = zoom.sim.demo.emails(zoom_status="pending")[0]
    assert (
        zoom.api("PUT", f"/users/{pending}/status", token, json={"action": "activate"}).json()["code"] == 1000
    )
    bad = zoom.api("PUT", "/users/me/status", token, json={"action": "suspend"})
    assert bad.json()["code"] == 300


@pytest.mark.parametrize("action", [None, "disassociate", "delete"])
def test_delete_user(zoom: ZoomHarness, token: str, action: str | None) -> None:
    email = zoom.sim.demo.emails(zoom_status="active")[1]
    params = {"action": action} if action else {}
    assert zoom.api("DELETE", f"/users/{email}", token, params=params).status_code == 204
    assert zoom.api("GET", f"/users/{email}", token).status_code == 404
    assert zoom.api("DELETE", f"/users/{email}", token).status_code == 404


def test_the_owner_cannot_be_deleted(zoom: ZoomHarness, token: str) -> None:
    assert zoom.api("DELETE", "/users/me", token).json()["code"] == 1117


def test_email_change_and_its_daily_limit(zoom: ZoomHarness, token: str) -> None:
    user_id = zoom.api("GET", f"/users/{zoom.sim.demo.emails(zoom_status='active')[1]}", token).json()["id"]
    for index in range(3):
        response = zoom.api(
            "PUT", f"/users/{user_id}/email", token, json={"email": f"moved{index}@example.com"}
        )
        assert response.status_code == 204
    assert zoom.api("GET", f"/users/{user_id}", token).json()["email"] == "moved2@example.com"
    assert zoom.api("GET", "/users/moved1@example.com", token).status_code == 404
    fourth = zoom.api("PUT", f"/users/{user_id}/email", token, json={"email": "moved3@example.com"})
    assert fourth.status_code == 429
    assert fourth.json()["code"] == 429
    zoom.sim.advance_clock(86400)
    again = zoom.api("PUT", f"/users/{user_id}/email", zoom.s2s_token(), json={"email": "moved3@example.com"})
    assert again.status_code == 204


def test_email_change_refusals(zoom: ZoomHarness, token: str) -> None:
    active = zoom.sim.demo.emails(zoom_status="active")
    clash = zoom.api("PUT", f"/users/{active[1]}/email", token, json={"email": active[2]})
    assert clash.status_code == 409
    assert clash.json()["code"] == 1005
    unmanaged = zoom.api("PUT", f"/users/{active[1]}/email", token, json={"email": "x@unmanaged.example"})
    assert unmanaged.json()["code"] == 1116
    pending = zoom.sim.demo.emails(zoom_status="pending")[0]
    assert (
        zoom.api("PUT", f"/users/{pending}/email", token, json={"email": "p@example.com"}).json()["code"]
        == 1000
    )


def test_check_email(zoom: ZoomHarness, token: str) -> None:
    assert zoom.api("GET", "/users/email", token, params={"email": zoom.info["admin_email"]}).json() == {
        "existed_email": True
    }
    assert zoom.api("GET", "/users/email", token, params={"email": "no@example.com"}).json() == {
        "existed_email": False
    }


def test_user_token_of_a_deactivated_user_stops_working(zoom: ZoomHarness) -> None:
    admin_email = "second.admin@example.com"
    zoom.http.post("/_sim/users", json={"email": admin_email, "role": "admin"})
    tokens = zoom.user_tokens(user_email=admin_email)
    assert zoom.api("GET", "/users/me", tokens["access_token"]).status_code == 200
    zoom.http.patch(f"/_sim/users/{admin_email}", json={"status": "inactive"})
    assert zoom.api("GET", "/users/me", tokens["access_token"]).status_code == 401
