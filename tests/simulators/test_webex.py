"""The Webex simulator (OAuth, People API, meetings) behaves like providers.md section 2 says."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from devstack.servers import serve_wsgi
from devstack.simulators.demo import build_demo_directory
from devstack.simulators.webex import ADMIN_PEOPLE_READ, ADMIN_SCHEDULES_WRITE, PEOPLE_READ, WebexSimulator
from tests.simulators._provider_fixtures import (
    basic,
    bearer,
    frozen_clock,
    pkce_pair,
    redirect_params,
    sign_in,
    wsgi_client,
)

CALLBACK = "http://127.0.0.1:8000/oauth/callback/webex"
BASE = "http://webex.test"
DEMO = build_demo_directory(seed=7)
SITE_PEOPLE = DEMO.zoom_users()
ADMIN = DEMO.admin
ACTIVE = next(p for p in SITE_PEOPLE if p.zoom_status == "active" and not p.is_admin)
PENDING = next(p for p in SITE_PEOPLE if p.zoom_status == "pending")
INACTIVE = next(p for p in SITE_PEOPLE if p.zoom_status == "inactive")
NOT_ON_WEBEX = next(p for p in DEMO.people if p.zoom_status is None)
ADMIN_SCOPES = f"{PEOPLE_READ} {ADMIN_PEOPLE_READ} meeting:schedules_write {ADMIN_SCHEDULES_WRITE}"
LINK_RE = re.compile(r'<([^>]+)>;\s*rel="next"')


class Webex:
    """A Webex simulator with an in-process client and flow helpers."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("clock", frozen_clock())
        options.setdefault("redirect_uris", [CALLBACK])
        self.sim = WebexSimulator(DEMO, seed=7, **options)
        self.http = wsgi_client(self.sim, BASE)
        self.info = self.sim.dev_info(BASE)

    def params(self, scope: str, **extra: str) -> dict[str, str]:
        return {
            "client_id": self.info["oauth_client_id"],
            "response_type": "code",
            "redirect_uri": CALLBACK,
            "scope": scope,
            "state": "w-state",
            **extra,
        }

    def token(self, data: dict[str, str]) -> httpx.Response:
        form = {
            "client_id": self.info["oauth_client_id"],
            "client_secret": self.info["oauth_client_secret"],
            **data,
        }
        return self.http.post("/v1/access_token", data=form)

    def tokens(self, scope: str = ADMIN_SCOPES, *, user: str = ADMIN.email) -> dict[str, Any]:
        verifier, challenge = pkce_pair()
        response = sign_in(
            self.http,
            "/v1/authorize",
            self.params(scope, code_challenge=challenge, code_challenge_method="S256"),
            user=user,
        )
        code = redirect_params(response)["code"]
        answer = self.token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": CALLBACK,
                "code_verifier": verifier,
            }
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())


@pytest.fixture
def webex() -> Iterator[Webex]:
    harness = Webex()
    yield harness
    harness.http.close()


def webex_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["errors"] == [{"description": body["message"]}]
    assert body["trackingId"]
    assert response.headers["TrackingID"] == body["trackingId"]
    return str(body["message"])


def decoded(webex_id: str) -> str:
    return base64.urlsafe_b64decode(webex_id + "=" * (-len(webex_id) % 4)).decode()


def test_dev_info_and_ids(webex: Webex) -> None:
    assert decoded(webex.info["org_id"]).startswith("ciscospark://us/ORGANIZATION/")
    assert webex.info["admin_email"] == ADMIN.email
    assert WebexSimulator(DEMO, seed=7).dev_info(BASE)["org_id"] == webex.info["org_id"]
    assert (
        WebexSimulator(DEMO, seed=7).dev_info(BASE)["oauth_client_secret"]
        == webex.info["oauth_client_secret"]
    )
    emails = {u["email"] for u in webex.sim.list_users()}
    assert emails == {p.email for p in SITE_PEOPLE}
    assert NOT_ON_WEBEX.email not in emails


def test_code_flow_and_token_fields(webex: Webex) -> None:
    tokens = webex.tokens()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 14400
    assert tokens["refresh_token_expires_in"] == 7776000
    assert set(tokens["scope"].split()) == set(ADMIN_SCOPES.split())
    me = webex.http.get("/v1/people/me", headers=bearer(tokens["access_token"])).json()
    assert me["emails"] == [ADMIN.email]
    assert decoded(me["id"]).startswith("ciscospark://us/PEOPLE/")
    assert me["orgId"] == webex.info["org_id"]


def test_client_credentials_must_be_in_the_body(webex: Webex) -> None:
    code = redirect_params(sign_in(webex.http, "/v1/authorize", webex.params(PEOPLE_READ)))["code"]
    via_basic = webex.http.post(
        "/v1/access_token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
        headers=basic(webex.info["oauth_client_id"], webex.info["oauth_client_secret"]),
    )
    assert via_basic.status_code == 400
    assert via_basic.json()["error"] == "invalid_request"
    wrong = webex.http.post(
        "/v1/access_token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "client_id": webex.info["oauth_client_id"],
            "client_secret": "wrong",
        },
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"


def test_codes_are_single_use_and_pkce_checked(webex: Webex) -> None:
    _, challenge = pkce_pair()
    params = webex.params(PEOPLE_READ, code_challenge=challenge, code_challenge_method="S256")
    code = redirect_params(sign_in(webex.http, "/v1/authorize", params))["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    assert webex.token({**data, "code_verifier": pkce_pair()[0]}).json()["error"] == "invalid_grant"
    assert webex.token({**data, "code_verifier": pkce_pair()[0]}).json()["error"] == "invalid_grant"
    other = redirect_params(sign_in(webex.http, "/v1/authorize", webex.params(PEOPLE_READ)))["code"]
    assert webex.token({**data, "code": other, "redirect_uri": CALLBACK + "x"}).status_code == 400


def test_refresh_keeps_the_refresh_token_and_extends_it(webex: Webex) -> None:
    tokens = webex.tokens()
    webex.sim.advance_clock(86400)
    refreshed = webex.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}).json()
    assert refreshed["refresh_token"] == tokens["refresh_token"]
    assert refreshed["refresh_token_expires_in"] == 7776000
    assert refreshed["access_token"] != tokens["access_token"]
    assert webex.http.get("/v1/people/me", headers=bearer(refreshed["access_token"])).status_code == 200
    webex_error(webex.http.get("/v1/people/me", headers=bearer(tokens["access_token"])), 401)  # expired
    webex.sim.advance_clock(7776001)
    expired = webex.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert expired.status_code == 400
    assert expired.json()["error"] == "invalid_grant"


def test_a_refresh_token_in_use_outlives_its_first_lifetime_and_one_unused_expires(webex: Webex) -> None:
    used, unused = webex.tokens()["refresh_token"], webex.tokens()["refresh_token"]
    webex.sim.advance_clock(7776000 - 60)
    renewed = webex.token({"grant_type": "refresh_token", "refresh_token": used}).json()
    assert renewed["refresh_token"] == used and renewed["refresh_token_expires_in"] == 7776000
    webex.sim.advance_clock(120)  # past the first lifetime of both
    assert webex.token({"grant_type": "refresh_token", "refresh_token": used}).status_code == 200
    refused = webex.token({"grant_type": "refresh_token", "refresh_token": unused})
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_authorize_errors(webex: Webex) -> None:
    page = webex.http.get(
        "/v1/authorize", params=webex.params(PEOPLE_READ) | {"redirect_uri": CALLBACK + "/"}
    )
    assert page.status_code == 400
    assert "Location" not in page.headers
    denied = redirect_params(sign_in(webex.http, "/v1/authorize", webex.params(PEOPLE_READ), decision="deny"))
    assert denied == {"error": "access_denied", "state": "w-state"}
    bad_scope = webex.http.get("/v1/authorize", params=webex.params("spark:everything"))
    assert redirect_params(bad_scope)["error"] == "invalid_scope"
    non_admin = redirect_params(
        sign_in(webex.http, "/v1/authorize", webex.params(ADMIN_SCOPES), user=ACTIVE.email)
    )
    assert non_admin["error"] == "access_denied"
    inactive = sign_in(webex.http, "/v1/authorize", webex.params(PEOPLE_READ), user=INACTIVE.email)
    assert inactive.status_code == 403


def page_through(http: httpx.Client, url: str, token: str) -> tuple[list[dict[str, Any]], list[str]]:
    items: list[dict[str, Any]] = []
    links: list[str] = []
    next_url: str | None = url
    while next_url:
        response = http.get(next_url, headers=bearer(token))
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        match = LINK_RE.search(response.headers.get("Link", ""))
        next_url = match.group(1) if match else None
        if next_url:
            links.append(next_url)
    return items, links


def test_people_link_paging_over_a_real_server_covers_everyone_once() -> None:
    sim = WebexSimulator(DEMO, seed=7, clock=frozen_clock(), redirect_uris=[CALLBACK])
    server = serve_wsgi(sim, name="webex-paging")
    try:
        harness = Webex()
        harness.sim, harness.http = sim, httpx.Client(base_url=server.url, timeout=10)
        harness.info = sim.dev_info(server.url)
        token = harness.tokens()["access_token"]
        items, links = page_through(harness.http, f"{server.url}/v1/people?max=7", token)
        harness.http.close()
    finally:
        server.stop()
    emails = [i["emails"][0] for i in items]
    assert sorted(emails) == sorted(p.email for p in SITE_PEOPLE)
    assert len(emails) == len(set(emails))
    assert len(links) == -(-len(SITE_PEOPLE) // 7) - 1
    first = urlsplit(links[0])
    assert f"{first.scheme}://{first.netloc}" == server.url
    assert parse_qs(first.query)["max"] == ["7"]


def test_paging_quirk_drops_filters_but_the_cursor_still_pages() -> None:
    webex = Webex(paging_quirks=True)
    token = webex.tokens()["access_token"]
    items, links = page_through(webex.http, "/v1/people?max=5", token)
    assert "max=null" in links[0]
    assert sorted(i["emails"][0] for i in items) == sorted(p.email for p in SITE_PEOPLE)


def test_non_admins_must_filter(webex: Webex) -> None:
    token = webex.tokens(PEOPLE_READ, user=ACTIVE.email)["access_token"]
    message = webex_error(webex.http.get("/v1/people", headers=bearer(token)), 400)
    assert message == "Email, displayName, or id list should be specified."
    found = webex.http.get(
        "/v1/people", params={"email": PENDING.email.upper()}, headers=bearer(token)
    ).json()
    assert [i["emails"] for i in found["items"]] == [[PENDING.email]]
    assert found["items"][0]["invitePending"] is True
    none = webex.http.get("/v1/people", params={"email": NOT_ON_WEBEX.email}, headers=bearer(token)).json()
    assert none == {"items": []}
    named = webex.http.get("/v1/people", params={"displayName": ACTIVE.first_name[:3]}, headers=bearer(token))
    assert ACTIVE.email in [i["emails"][0] for i in named.json()["items"]]
    admin_scope_but_not_admin = webex.tokens(PEOPLE_READ, user=ACTIVE.email)["access_token"]
    assert webex.http.get("/v1/people", headers=bearer(admin_scope_but_not_admin)).status_code == 400


def test_people_by_id_and_id_lists(webex: Webex) -> None:
    token = webex.tokens()["access_token"]
    person = webex.http.get("/v1/people", params={"email": INACTIVE.email}, headers=bearer(token)).json()[
        "items"
    ][0]
    assert person["loginEnabled"] is False
    assert webex.http.get(f"/v1/people/{person['id']}", headers=bearer(token)).json() == person
    webex_error(webex.http.get("/v1/people/Y2lzY29zcGFyazovL3VzL1BFT1BMRS9ub3Bl", headers=bearer(token)), 404)
    listed = webex.http.get("/v1/people", params={"id": f"{person['id']},nope"}, headers=bearer(token)).json()
    assert [i["id"] for i in listed["items"]] == [person["id"]]
    assert listed["notFoundIds"] == ["nope"]
    webex_error(webex.http.get("/v1/people", params={"max": "1001"}, headers=bearer(token)), 400)


def test_api_authentication_and_scopes(webex: Webex) -> None:
    webex_error(webex.http.get("/v1/people/me"), 401)
    webex_error(webex.http.get("/v1/people/me", headers=bearer("nope")), 401)
    meetings_only = webex.tokens("meeting:schedules_write", user=ACTIVE.email)["access_token"]
    webex_error(webex.http.get("/v1/people/me", headers=bearer(meetings_only)), 403)


def test_rate_limit_and_injected_429(webex: Webex) -> None:
    limited = Webex(rate_limit_per_second=1)
    token = limited.tokens()["access_token"]
    assert limited.http.get("/v1/people/me", headers=bearer(token)).status_code == 200
    throttled = limited.http.get("/v1/people/me", headers=bearer(token))
    webex_error(throttled, 429)
    assert int(throttled.headers["Retry-After"]) >= 1
    token = webex.tokens()["access_token"]
    webex.http.post("/_sim/faults", json={"target": "api", "kind": "429"})
    injected = webex.http.get("/v1/people/me", headers=bearer(token))
    assert injected.headers["Retry-After"] == "4"
    webex.http.post("/_sim/faults", json={"target": "token", "kind": "invalid_grant"})
    refresh = webex.token({"grant_type": "refresh_token", "refresh_token": "whatever"})
    assert refresh.json()["error"] == "invalid_grant"


def test_meetings(webex: Webex) -> None:
    token = webex.tokens()["access_token"]
    window = {"start": "2030-01-01T10:00:00Z", "end": "2030-01-01T10:30:00Z"}
    own = webex.http.post("/v1/meetings", headers=bearer(token), json={"title": "Sync", **window})
    assert own.status_code == 200, own.text
    assert own.json()["webLink"].startswith(f"https://{webex.info['site_url']}/")
    assert own.json()["hostEmail"] == ADMIN.email
    for_other = webex.http.post(
        "/v1/meetings",
        headers=bearer(token),
        json={"title": "Interview", "hostEmail": ACTIVE.email, **window},
    )
    assert for_other.json()["hostEmail"] == ACTIVE.email
    webex_error(webex.http.post("/v1/meetings", headers=bearer(token), json=window), 400)
    pending_host = webex.http.post(
        "/v1/meetings", headers=bearer(token), json={"title": "x", "hostEmail": PENDING.email, **window}
    )
    webex_error(pending_host, 400)
    past = {"title": "x", "start": "2020-01-01T10:00:00Z", "end": "2020-01-01T11:00:00Z"}
    webex_error(webex.http.post("/v1/meetings", headers=bearer(token), json=past), 400)
    member = webex.tokens("meeting:schedules_write", user=ACTIVE.email)["access_token"]
    refused = webex.http.post(
        "/v1/meetings", headers=bearer(member), json={"title": "x", "hostEmail": ADMIN.email, **window}
    )
    webex_error(refused, 403)


def test_control_api_rename_and_remove(webex: Webex) -> None:
    token = webex.tokens(PEOPLE_READ, user=ACTIVE.email)["access_token"]
    before = webex.http.get("/v1/people/me", headers=bearer(token)).json()
    renamed = webex.http.patch(f"/_sim/users/{ACTIVE.email}", json={"email": "renamed@example.com"})
    assert renamed.json()["user"]["id"] == before["id"]
    assert webex.http.get("/v1/people/me", headers=bearer(token)).json()["emails"] == ["renamed@example.com"]
    assert webex.http.delete("/_sim/users/renamed@example.com").status_code == 204
    webex_error(webex.http.get("/v1/people/me", headers=bearer(token)), 401)
    added = webex.http.post("/_sim/users", json={"email": "new@example.com", "status": "pending"})
    assert added.json()["user"]["invitePending"] is True
    assert (
        webex.http.post("/_sim/users", json={"email": "x@example.com", "status": "weird"}).status_code == 400
    )
