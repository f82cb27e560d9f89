"""Zoom SCIM2 /scim2/Users: filters, startIndex/count paging, create/replace/patch/delete, errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.simulators.conftest import ZoomHarness

SCIM = "application/scim+json"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


@pytest.fixture
def scim(zoom: ZoomHarness) -> Callable[..., httpx.Response]:
    token = zoom.s2s_token()

    def call(method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", "Accept": SCIM}
        if "json" in kwargs:
            headers["Content-Type"] = SCIM
        return zoom.http.request(method, f"/scim2{path}", headers=headers, **kwargs)

    return call


def test_filter_by_username(zoom: ZoomHarness, scim: Callable[..., httpx.Response]) -> None:
    email = zoom.sim.demo.emails(zoom_status="active")[2]
    response = scim("GET", "/Users", params={"startIndex": 1, "filter": f'userName eq "{email}"'})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(SCIM)
    body = response.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
    assert body["totalResults"] == 1
    assert body["itemsPerPage"] == 1
    resource = body["Resources"][0]
    assert resource["userName"] == email
    assert resource["active"] is True
    assert resource["emails"] == [{"type": "work", "value": email, "primary": True}]
    assert resource["meta"]["location"] == f"{zoom.url}/scim2/Users/{resource['id']}"


def test_filter_by_username_without_quotes_and_no_match(scim: Callable[..., httpx.Response]) -> None:
    body = scim("GET", "/Users", params={"startIndex": 1, "filter": "userName eq nobody@example.com"}).json()
    assert body["totalResults"] == 0
    assert body["Resources"] == []


def test_filter_by_external_id(zoom: ZoomHarness, scim: Callable[..., httpx.Response]) -> None:
    user_id = zoom.api("GET", "/users/me", zoom.s2s_token()).json()["id"]
    body = scim("GET", "/Users", params={"startIndex": 1, "filter": f'externalId eq "{user_id}"'}).json()
    assert [r["id"] for r in body["Resources"]] == [user_id]


def test_unsupported_filter_is_invalid_filter(scim: Callable[..., httpx.Response]) -> None:
    response = scim("GET", "/Users", params={"startIndex": 1, "filter": 'displayName co "a"'})
    assert response.status_code == 400
    body = response.json()
    assert body["schemas"] == [ERROR_SCHEMA]
    assert body["status"] == "400"
    assert body["scimType"] == "invalidFilter"


def test_start_index_is_required(scim: Callable[..., httpx.Response]) -> None:
    assert scim("GET", "/Users").status_code == 400


def test_paging_with_start_index_and_count(zoom: ZoomHarness, scim: Callable[..., httpx.Response]) -> None:
    account = zoom.info["account_id"]
    total = zoom.sim.directory.count(account, "active") + zoom.sim.directory.count(account, "inactive")
    seen: list[str] = []
    start = 1
    while True:
        body = scim("GET", "/Users", params={"startIndex": start, "count": 10}).json()
        assert body["totalResults"] == total
        assert body["startIndex"] == start
        if not body["Resources"]:
            break
        seen.extend(r["id"] for r in body["Resources"])
        start += body["itemsPerPage"]
    assert len(seen) == len(set(seen)) == total
    inactive = zoom.sim.demo.emails(zoom_status="inactive")[0]
    listed = {
        r["userName"]: r["active"]
        for s in (1, 11, 21, 31, 41)
        for r in scim("GET", "/Users", params={"startIndex": s, "count": 10}).json()["Resources"]
    }
    assert listed[inactive] is False
    assert zoom.sim.demo.emails(zoom_status="pending")[0] not in listed


def test_count_is_capped(scim: Callable[..., httpx.Response]) -> None:
    body = scim("GET", "/Users", params={"startIndex": 1, "count": 5000}).json()
    assert body["itemsPerPage"] <= 100


def test_create_and_conflict(zoom: ZoomHarness, scim: Callable[..., httpx.Response]) -> None:
    new_user = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "trinity@example.com",
        "name": {"givenName": "Trinity", "familyName": "Moss"},
        "userType": "Licensed",
        "externalId": "ext-42",
    }
    created = scim("POST", "/Users", json=new_user)
    assert created.status_code == 201
    assert created.headers["Location"].endswith(created.json()["id"])
    assert created.json()["active"] is True
    by_ext = scim("GET", "/Users", params={"startIndex": 1, "filter": 'externalId eq "ext-42"'}).json()
    assert by_ext["Resources"][0]["userName"] == "trinity@example.com"
    again = scim("POST", "/Users", json=new_user)
    assert again.status_code == 409
    assert again.json()["scimType"] == "uniqueness"
    assert zoom.api("GET", "/users/trinity@example.com", zoom.s2s_token()).json()["type"] == 2


def test_patch_deactivates_and_other_paths_are_refused(
    zoom: ZoomHarness, scim: Callable[..., httpx.Response]
) -> None:
    email = zoom.sim.demo.emails(zoom_status="active")[2]
    user_id = zoom.api("GET", f"/users/{email}", zoom.s2s_token()).json()["id"]
    patch = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": False}],
    }
    assert scim("PATCH", f"/Users/{user_id}", json=patch).status_code == 204
    assert zoom.api("GET", f"/users/{user_id}", zoom.s2s_token()).json()["status"] == "inactive"
    activate = {"schemas": patch["schemas"], "Operations": [{"op": "Replace", "value": {"active": True}}]}
    assert scim("PATCH", f"/Users/{user_id}", json=activate).status_code == 204
    rename = {
        "schemas": patch["schemas"],
        "Operations": [{"op": "replace", "path": "displayName", "value": "X"}],
    }
    refused = scim("PATCH", f"/Users/{user_id}", json=rename)
    assert refused.status_code == 400
    assert refused.json()["scimType"] == "invalidPath"


def test_put_replaces_names(zoom: ZoomHarness, scim: Callable[..., httpx.Response]) -> None:
    email = zoom.sim.demo.emails(zoom_status="active")[2]
    user_id = zoom.api("GET", f"/users/{email}", zoom.s2s_token()).json()["id"]
    body = {"userName": email, "name": {"givenName": "New", "familyName": "Name"}, "userType": "Basic"}
    replaced = scim("PUT", f"/Users/{user_id}", json=body)
    assert replaced.status_code == 200
    assert replaced.json()["name"] == {"givenName": "New", "familyName": "Name"}
    assert scim("PUT", f"/Users/{user_id}", json={**body, "userName": "other@example.com"}).status_code == 400


def test_get_and_delete(zoom: ZoomHarness, scim: Callable[..., httpx.Response]) -> None:
    email = zoom.sim.demo.emails(zoom_status="active")[2]
    user_id = zoom.api("GET", f"/users/{email}", zoom.s2s_token()).json()["id"]
    assert scim("GET", f"/Users/{user_id}").json()["userName"] == email
    assert scim("DELETE", f"/Users/{user_id}").status_code == 204
    missing = scim("GET", f"/Users/{user_id}")
    assert missing.status_code == 404
    assert missing.json()["schemas"] == [ERROR_SCHEMA]


def test_scim_needs_business_plan_with_sso(make_zoom: Callable[..., ZoomHarness]) -> None:
    harness = make_zoom(plan="pro")
    response = harness.http.get(
        "/scim2/Users", params={"startIndex": 1}, headers={"Authorization": f"Bearer {harness.s2s_token()}"}
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "Account has not enabled Single Sign-On."


def test_scim_refuses_a_non_scim_accept_header(zoom: ZoomHarness) -> None:
    response = zoom.http.get(
        "/scim2/Users",
        params={"startIndex": 1},
        headers={"Authorization": f"Bearer {zoom.s2s_token()}", "Accept": "application/xml"},
    )
    assert response.status_code == 406


def test_scim_legacy_one_request_per_second_switch(make_zoom: Callable[..., ZoomHarness]) -> None:
    harness = make_zoom(scim_one_per_second=True)
    headers = {"Authorization": f"Bearer {harness.s2s_token()}", "Accept": SCIM}
    assert harness.http.get("/scim2/Users", params={"startIndex": 1}, headers=headers).status_code == 200
    assert harness.http.get("/scim2/Users", params={"startIndex": 1}, headers=headers).status_code == 429
    harness.sim.advance_clock(1)
    assert harness.http.get("/scim2/Users", params={"startIndex": 1}, headers=headers).status_code == 200
