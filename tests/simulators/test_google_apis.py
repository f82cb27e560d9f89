"""The Google simulator's APIs (userinfo, tokeninfo, Directory, Meet), control API and faults."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from devstack.simulators.demo import PRIMARY_DOMAIN
from devstack.simulators.google import DIRECTORY_USER_READONLY, MEET_CREATED
from tests.simulators._google_harness import (
    ADMIN,
    MEMBER,
    PEOPLE,
    Google,
    google_error,
)
from tests.simulators._provider_fixtures import (
    bearer,
    sign_in,
)


@pytest.fixture
def google() -> Iterator[Google]:
    harness = Google()
    yield harness
    harness.http.close()


# ----- userinfo, tokeninfo, revoke -----------------------------------------------------------


def test_userinfo_on_both_paths(google: Google) -> None:
    token = google.tokens(offline=False)["access_token"]
    for path in ("/v1/userinfo", "/oauth2/v3/userinfo"):
        info = google.http.get(path, headers=bearer(token)).json()
        user_id = next(u["id"] for u in google.sim.list_users() if u["primaryEmail"] == ADMIN.email)
        assert info["sub"] == user_id
        assert info["email"] == ADMIN.email
        assert info["email_verified"] is True
        assert info["hd"] == PRIMARY_DOMAIN
        assert info["name"] == ADMIN.display_name
    narrow = google.tokens("openid", offline=False)["access_token"]
    assert "email" not in google.http.get("/v1/userinfo", headers=bearer(narrow)).json()
    assert google.http.get("/oauth2/v3/userinfo").json() == {
        "error": "invalid_request",
        "error_description": "Invalid Credentials",
    }
    google_error(google.http.get("/v1/userinfo", headers=bearer("nope")), 401, None)


def test_tokeninfo_and_revoke(google: Google) -> None:
    tokens = google.tokens()
    info = google.http.get("/tokeninfo", params={"access_token": tokens["access_token"]}).json()
    assert info["aud"] == google.info["oauth_client_id"]
    assert DIRECTORY_USER_READONLY in info["scope"].split()
    assert info["access_type"] == "offline"
    assert google.http.post("/revoke", data={"token": tokens["refresh_token"]}).status_code == 200
    refreshed = google.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed.json() == {
        "error": "invalid_grant",
        "error_description": "Token has been expired or revoked.",
    }
    google_error(google.directory(tokens["access_token"], customer="my_customer"), 401, "authError")
    assert google.http.post("/revoke", data={"token": tokens["refresh_token"]}).status_code == 400


# ----- Directory API --------------------------------------------------------------------------


@pytest.mark.parametrize("selector", [{"customer": "my_customer"}, {"domain": PRIMARY_DOMAIN}])
def test_users_list_pages_cover_every_user_once(google: Google, selector: dict[str, str]) -> None:
    token = google.tokens(offline=False)["access_token"]
    seen: list[str] = []
    page_token: str | None = None
    pages = 0
    while True:
        params = {**selector, "maxResults": "7"} | ({"pageToken": page_token} if page_token else {})
        body = google.directory(token, **params).json()
        assert body["kind"] == "admin#directory#users"
        seen += [u["primaryEmail"] for u in body["users"]]
        pages += 1
        page_token = body.get("nextPageToken")
        if not page_token:
            break
    assert sorted(seen) == sorted(p.email for p in PEOPLE)
    assert len(seen) == len(set(seen))
    assert pages == -(-len(PEOPLE) // 7)


def test_users_list_parameters(google: Google) -> None:
    token = google.tokens(offline=False)["access_token"]
    default = google.directory(token, customer=google.info["customer_id"]).json()
    assert len(default["users"]) == min(100, len(PEOPLE))
    google_error(google.directory(token, customer="my_customer", maxResults="501"), 400, "invalid")
    assert (
        "[1, 500]"
        in google.directory(token, customer="my_customer", maxResults="0").json()["error"]["message"]
    )
    google_error(google.directory(token), 400, "badRequest")
    google_error(google.directory(token, domain="other.example"), 403, "forbidden")
    admins = google.directory(token, customer="my_customer", query="isAdmin=true").json()["users"]
    assert [u["primaryEmail"] for u in admins] == [ADMIN.email]
    prefix = MEMBER.email[:4]
    started = google.directory(token, customer="my_customer", query=f"email:{prefix}*").json()["users"]
    assert MEMBER.email in [u["primaryEmail"] for u in started]
    assert all(u["primaryEmail"].startswith(prefix) for u in started)
    empty = google.directory(token, customer="my_customer", query="email:nobody*").json()
    assert "users" not in empty  # Google omits the key on an empty result
    google_error(google.directory(token, customer="my_customer", query="colour:blue"), 400, "invalid")
    by_email = google.directory(token, customer="my_customer", orderBy="email").json()["users"]
    assert [u["primaryEmail"] for u in by_email] == sorted(p.email for p in PEOPLE)[:100]
    desc = google.directory(token, customer="my_customer", orderBy="email", sortOrder="DESCENDING").json()[
        "users"
    ]
    assert [u["primaryEmail"] for u in desc] == sorted((p.email for p in PEOPLE), reverse=True)[:100]


def test_descending_pages_and_page_token_rules(google: Google) -> None:
    tokens = google.tokens()
    token = tokens["access_token"]
    seen: list[str] = []
    params = {
        "customer": "my_customer",
        "orderBy": "familyName",
        "sortOrder": "DESCENDING",
        "maxResults": "9",
    }
    page = google.directory(token, **params).json()
    seen += [u["primaryEmail"] for u in page["users"]]
    first_token = page["nextPageToken"]
    while "nextPageToken" in page:
        page = google.directory(token, **params, pageToken=page["nextPageToken"]).json()
        seen += [u["primaryEmail"] for u in page["users"]]
    assert sorted(seen) == sorted(p.email for p in PEOPLE)
    other_query = google.directory(token, customer="my_customer", maxResults="9", pageToken=first_token)
    google_error(other_query, 400, "invalid")
    google.sim.advance_clock(3 * 86400 + 1)
    token = google.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}).json()[
        "access_token"
    ]
    google_error(google.directory(token, **params, pageToken=first_token), 400, "invalid")


def test_non_admin_is_refused_the_admin_view(google: Google) -> None:
    token = google.tokens(user=MEMBER.email, offline=False)["access_token"]
    google_error(google.directory(token, customer="my_customer"), 403, "forbidden")
    google_error(google.directory(token, f"/{ADMIN.email}"), 403, "forbidden")
    public = google.directory(token, domain=PRIMARY_DOMAIN, viewType="domain_public").json()["users"]
    assert len(public) == len(PEOPLE)
    assert "isAdmin" not in public[0]


def test_users_get_is_admin_and_not_found(google: Google) -> None:
    token = google.tokens(offline=False)["access_token"]
    admin = google.directory(token, f"/{ADMIN.email}").json()
    assert admin["isAdmin"] is True
    assert admin["name"] == {
        "givenName": ADMIN.first_name,
        "familyName": ADMIN.last_name,
        "fullName": ADMIN.display_name,
    }
    member = google.directory(token, f"/{MEMBER.email.upper()}").json()
    assert member["isAdmin"] is False
    assert member["suspended"] is False
    assert google.directory(token, f"/{member['id']}").json()["primaryEmail"] == MEMBER.email
    missing = google.directory(token, f"/ghost@{PRIMARY_DOMAIN}")
    assert google_error(missing, 404, "notFound")["message"] == "Resource Not Found: userKey"


def test_directory_needs_the_directory_scope(google: Google) -> None:
    token = google.tokens("openid email", offline=False)["access_token"]
    google_error(google.directory(token, customer="my_customer"), 403, "insufficientPermissions")
    google_error(google.directory("not-a-token", customer="my_customer"), 401, "authError")


def test_rate_limit_answers_rate_limit_exceeded() -> None:
    google = Google(rate_limit_per_second=2)
    token = google.tokens(offline=False)["access_token"]
    assert google.directory(token, f"/{ADMIN.email}").status_code == 200
    assert google.directory(token, f"/{ADMIN.email}").status_code == 200
    error = google_error(google.directory(token, f"/{ADMIN.email}"), 429, "rateLimitExceeded")
    assert error["status"] == "RESOURCE_EXHAUSTED"
    google.sim.advance_clock(1)
    assert google.directory(token, f"/{ADMIN.email}").status_code == 200


# ----- control API ----------------------------------------------------------------------------


def test_rename_keeps_the_old_address_as_an_alias(google: Google) -> None:
    token = google.tokens(offline=False)["access_token"]
    before = google.directory(token, f"/{MEMBER.email}").json()
    new_email = f"renamed.person@{PRIMARY_DOMAIN}"
    assert google.http.patch(f"/_sim/users/{MEMBER.email}", json={"email": new_email}).status_code == 200
    after = google.directory(token, f"/{MEMBER.email}").json()
    assert after["id"] == before["id"]
    assert after["primaryEmail"] == new_email
    assert MEMBER.email in after["aliases"]


def test_suspended_and_removed_users(google: Google) -> None:
    token = google.tokens(offline=False)["access_token"]
    google.sim.update_user(MEMBER.email, {"status": "suspended"})
    assert google.directory(token, f"/{MEMBER.email}").json()["suspended"] is True
    refused = sign_in(google.http, "/o/oauth2/v2/auth", google.params(), user=MEMBER.email)
    assert refused.status_code == 403
    member_token = Google().tokens(user=MEMBER.email, offline=False)["access_token"]
    assert member_token
    removed = Google()
    own = removed.tokens(user=MEMBER.email, offline=False)["access_token"]
    assert removed.http.delete(f"/_sim/users/{MEMBER.email}").status_code == 204
    google_error(removed.http.get("/v1/userinfo", headers=bearer(own)), 401, None)
    added = removed.http.post("/_sim/users", json={"email": f"fresh.face@{PRIMARY_DOMAIN}"})
    assert added.status_code == 201
    assert removed.http.post("/_sim/users", json={"email": "x@subsidiary.example"}).status_code == 400


def test_injected_faults(google: Google) -> None:
    refresh = google.tokens()["refresh_token"]
    google.http.post("/_sim/faults", json={"target": "token", "kind": "invalid_grant"})
    assert google.token({"grant_type": "refresh_token", "refresh_token": refresh}).json() == {
        "error": "invalid_grant",
        "error_description": "Token has been expired or revoked.",
    }
    token = google.token({"grant_type": "refresh_token", "refresh_token": refresh}).json()["access_token"]
    google.http.post("/_sim/faults", json={"target": "api", "kind": "429"})
    google_error(google.directory(token, customer="my_customer"), 429, "rateLimitExceeded")
    google.http.post("/_sim/faults", json={"target": "api", "kind": "500"})
    google_error(google.directory(token, customer="my_customer"), 500, "backendError")
    assert google.directory(token, customer="my_customer").status_code == 200


# ----- Meet ------------------------------------------------------------------------------------


def test_meet_space_creation(google: Google) -> None:
    token = google.tokens(f"openid email {MEET_CREATED}", user=MEMBER.email, offline=False)["access_token"]
    created = google.http.post("/v2/spaces", headers=bearer(token), json={})
    assert created.status_code == 200, created.text
    space = created.json()
    assert re.fullmatch(r"[a-z]{3}-[a-z]{4}-[a-z]{3}", space["meetingCode"])
    assert space["meetingUri"] == f"https://meet.google.com/{space['meetingCode']}"
    fetched = google.http.get(f"/v2/{space['name']}", headers=bearer(token))
    assert fetched.json() == space
    no_scope = google.tokens("openid email", offline=False)["access_token"]
    google_error(
        google.http.post("/v2/spaces", headers=bearer(no_scope), json={}), 403, "insufficientPermissions"
    )
