"""The Microsoft simulator's Graph and Teams APIs, control API and faults (providers.md 3)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from devstack.servers import serve_wsgi
from devstack.simulators.demo import SECONDARY_DOMAIN
from devstack.simulators.microsoft import MicrosoftSimulator
from tests.simulators._microsoft_harness import (
    ADMIN,
    CALLBACK,
    DEMO,
    NON_ADMIN,
    TENANT_PEOPLE,
    Ms,
    assert_aadsts,
    assert_graph_error,
)
from tests.simulators._provider_fixtures import (
    bearer,
    frozen_clock,
    redirect_params,
)


@pytest.fixture
def ms() -> Iterator[Ms]:
    harness = Ms()
    yield harness
    harness.http.close()


# ----- Graph users ------------------------------------------------------------------------------


def test_users_paging_over_a_real_server_covers_everyone_once() -> None:
    sim = MicrosoftSimulator(DEMO, seed=7, clock=frozen_clock(), redirect_uris=[CALLBACK], preconsented=True)
    server = serve_wsgi(sim, name="ms-paging")
    try:
        info = sim.dev_info(server.url)
        with httpx.Client(timeout=10) as http:
            token = http.post(
                info["token_url"],
                data={
                    "grant_type": "client_credentials",
                    "scope": "https://graph.microsoft.com/.default",
                    "client_id": info["oauth_client_id"],
                    "client_secret": info["oauth_client_secret"],
                },
            ).json()["access_token"]
            url: str | None = f"{server.url}/v1.0/users?$top=3&$select=id,userPrincipalName"
            seen: list[str] = []
            pages = 0
            while url:
                page = http.get(url, headers=bearer(token))
                assert page.status_code == 200, page.text
                body = page.json()
                assert all(set(u) == {"id", "userPrincipalName"} for u in body["value"])
                seen += [u["userPrincipalName"] for u in body["value"]]
                url = body.get("@odata.nextLink")
                if url:
                    assert url.startswith(f"{server.url}/v1.0/users?")
                    assert "$skiptoken=" in url
                pages += 1
        assert sorted(seen) == sorted(p.email for p in TENANT_PEOPLE)
        assert len(seen) == len(set(seen))
        assert pages == -(-len(TENANT_PEOPLE) // 3)
    finally:
        server.stop()


def test_users_query_options(ms: Ms) -> None:
    redirect_params(ms.admin_consent())
    token = ms.app_token()

    def get(query: str) -> httpx.Response:
        return ms.http.get(f"/v1.0/users?{query}", headers=bearer(token))

    default = get("").json()["value"]
    assert set(default[0]) == {
        "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation",
        "preferredLanguage", "surname", "userPrincipalName", "id",
    }  # fmt: skip
    assert "@odata.nextLink" not in get("").json()
    assert_graph_error(get("$top=1000"), 400, "Request_BadRequest")
    assert "between 1 and 999" in get("$top=0").json()["error"]["message"]
    assert_graph_error(get("$skip=2"), 400, "Request_UnsupportedQuery")
    assert_graph_error(get("$select=id,favouriteColour"), 400, "Request_BadRequest")
    one = get(f"$filter=mail eq '{NON_ADMIN.email.upper()}'").json()["value"]
    assert [u["mail"] for u in one] == [NON_ADMIN.email]
    two = get(f"$filter=mail eq '{ADMIN.email}' or userPrincipalName eq '{NON_ADMIN.email}'").json()["value"]
    assert {u["mail"] for u in two} == {ADMIN.email, NON_ADMIN.email}
    prefix = ADMIN.first_name[:3].lower()
    started = get(f"$filter=startswith(givenName,'{prefix}')").json()["value"]
    assert started
    assert all(u["givenName"].lower().startswith(prefix) for u in started)
    listed = get(f"$filter=mail in ('{ADMIN.email}', 'nobody@{SECONDARY_DOMAIN}')").json()["value"]
    assert [u["mail"] for u in listed] == [ADMIN.email]
    assert_graph_error(get("$filter=mail ne 'x'"), 400, "Request_UnsupportedQuery")
    assert_graph_error(get("$filter=mail eq"), 400, "BadRequest")
    enabled = get("$filter=accountEnabled eq true&$select=accountEnabled").json()["value"]
    assert len(enabled) == len(TENANT_PEOPLE)


def test_skiptoken_is_bound_to_its_query(ms: Ms) -> None:
    redirect_params(ms.admin_consent())
    token = ms.app_token()
    first = ms.http.get("/v1.0/users?$top=2", headers=bearer(token)).json()
    skiptoken = first["@odata.nextLink"].split("$skiptoken=")[1]
    other = ms.http.get(f"/v1.0/users?$top=3&$skiptoken={skiptoken}", headers=bearer(token))
    assert_graph_error(other, 400, "Directory_ExpiredPageToken")


def test_get_user_by_id_or_upn_and_not_found(ms: Ms) -> None:
    redirect_params(ms.admin_consent())
    token = ms.app_token()
    by_upn = ms.http.get(f"/v1.0/users/{NON_ADMIN.email}", headers=bearer(token)).json()
    by_id = ms.http.get(f"/v1.0/users/{by_upn['id']}", headers=bearer(token)).json()
    assert by_id["userPrincipalName"] == NON_ADMIN.email
    assert by_id["id"] == by_upn["id"]
    missing = ms.http.get(f"/v1.0/users/ghost@{SECONDARY_DOMAIN}", headers=bearer(token))
    assert_graph_error(missing, 404, "Request_ResourceNotFound")


def test_graph_authentication_errors(ms: Ms) -> None:
    assert_graph_error(ms.http.get("/v1.0/users"), 401, "InvalidAuthenticationToken")
    assert_graph_error(ms.http.get("/v1.0/me", headers=bearer("garbage")), 401, "InvalidAuthenticationToken")
    token = ms.user_tokens()["access_token"]
    ms.sim.advance_clock(3600)
    expired = ms.http.get("/v1.0/me", headers=bearer(token))
    assert "expired" in assert_graph_error(expired, 401, "InvalidAuthenticationToken")["message"]
    assert "WWW-Authenticate" in expired.headers


def test_rate_limit_answers_429_with_retry_after_seconds() -> None:
    ms = Ms(rate_limit_per_second=2)
    token = ms.user_tokens()["access_token"]
    assert ms.http.get("/v1.0/me", headers=bearer(token)).status_code == 200
    assert ms.http.get("/v1.0/me", headers=bearer(token)).status_code == 200
    limited = ms.http.get("/v1.0/me", headers=bearer(token))
    assert_graph_error(limited, 429, "TooManyRequests")
    assert int(limited.headers["Retry-After"]) >= 1
    ms.sim.advance_clock(1)
    assert ms.http.get("/v1.0/me", headers=bearer(token)).status_code == 200


# ----- control API and faults -----------------------------------------------------------------


def test_control_api_add_rename_remove_reach_graph(ms: Ms) -> None:
    redirect_params(ms.admin_consent())
    token = ms.app_token()
    added = ms.http.post(
        "/_sim/users",
        json={"email": f"new.person@{SECONDARY_DOMAIN}", "first_name": "New", "last_name": "Person"},
    )
    assert added.status_code == 201, added.text
    user_id = added.json()["user"]["id"]
    assert ms.http.get(f"/v1.0/users/new.person@{SECONDARY_DOMAIN}", headers=bearer(token)).status_code == 200
    outside = ms.http.post("/_sim/users", json={"email": "someone@example.com"})
    assert outside.status_code == 400
    renamed = ms.http.patch(
        f"/_sim/users/new.person@{SECONDARY_DOMAIN}", json={"email": f"np@{SECONDARY_DOMAIN}"}
    )
    assert renamed.json()["user"]["id"] == user_id
    assert (
        ms.http.get(f"/v1.0/users/{user_id}", headers=bearer(token)).json()["mail"]
        == f"np@{SECONDARY_DOMAIN}"
    )
    assert ms.http.delete(f"/_sim/users/np@{SECONDARY_DOMAIN}").status_code == 204
    assert_graph_error(
        ms.http.get(f"/v1.0/users/{user_id}", headers=bearer(token)), 404, "Request_ResourceNotFound"
    )


def test_removed_user_tokens_stop_working(ms: Ms) -> None:
    token = ms.user_tokens(user=NON_ADMIN.email)["access_token"]
    ms.sim.remove_user(NON_ADMIN.email)
    assert_graph_error(ms.http.get("/v1.0/me", headers=bearer(token)), 401, "InvalidAuthenticationToken")


def test_injected_faults_use_microsoft_shapes(ms: Ms) -> None:
    refresh = ms.user_tokens()["refresh_token"]
    ms.http.post("/_sim/faults", json={"target": "token", "kind": "invalid_grant", "count": 1})
    assert_aadsts(
        ms.token({"grant_type": "refresh_token", "refresh_token": refresh}), 400, "invalid_grant", 50173
    )
    ms.http.post("/_sim/faults", json={"target": "token", "kind": "500", "count": 1})
    assert ms.token({"grant_type": "refresh_token", "refresh_token": refresh}).status_code == 500
    assert ms.token({"grant_type": "refresh_token", "refresh_token": refresh}).status_code == 200
    token = ms.user_tokens()["access_token"]
    ms.http.post("/_sim/faults", json={"target": "api", "kind": "429", "count": 1})
    limited = ms.http.get("/v1.0/me", headers=bearer(token))
    assert_graph_error(limited, 429, "TooManyRequests")
    assert limited.headers["Retry-After"] == "5"
    ms.http.post("/_sim/faults", json={"target": "api", "kind": "503", "count": 1})
    assert_graph_error(ms.http.get("/v1.0/me", headers=bearer(token)), 503, "serviceNotAvailable")


def test_reset_restores_the_seeded_tenant(ms: Ms) -> None:
    redirect_params(ms.admin_consent())
    ms.sim.remove_user(NON_ADMIN.email)
    before_ids = {u["id"] for u in MicrosoftSimulator(DEMO, seed=7).list_users()}
    assert ms.http.post("/_sim/reset").status_code == 200
    assert {u["id"] for u in ms.sim.list_users()} == before_ids
    again = ms.token({"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"})
    assert_aadsts(again, 400, "unauthorized_client", 700016)  # consent is tenant state: reset clears it


def test_options_switches_at_run_time(ms: Ms) -> None:
    answer = ms.http.patch("/_sim/options", json={"admin_consent_error": "access_denied"})
    assert answer.status_code == 200
    assert answer.json()["options"]["admin_consent_error"] == "access_denied"
    assert redirect_params(ms.admin_consent(decision="deny"))["error"] == "access_denied"
    assert ms.http.patch("/_sim/options", json={"no_such_switch": 1}).status_code == 400


# ----- Teams ------------------------------------------------------------------------------------


def test_teams_meeting_for_a_user_with_an_app_token(ms: Ms) -> None:
    redirect_params(ms.admin_consent())
    token = ms.app_token()
    user = ms.http.get(f"/v1.0/users/{NON_ADMIN.email}", headers=bearer(token)).json()
    created = ms.http.post(
        f"/v1.0/users/{user['id']}/onlineMeetings",
        headers=bearer(token),
        json={
            "subject": "Interview",
            "startDateTime": "2024-01-01T10:00:00Z",
            "endDateTime": "2024-01-01T11:00:00Z",
        },
    )
    assert created.status_code == 201, created.text
    meeting = created.json()
    assert meeting["joinWebUrl"].startswith("https://teams.microsoft.com/l/meetup-join/")
    assert meeting["participants"]["organizer"]["identity"]["user"]["id"] == user["id"]
    assert meeting["subject"] == "Interview"
    ms.sim.apply_options({"teams_application_access_policy": False})
    refused = ms.http.post(f"/v1.0/users/{user['id']}/onlineMeetings", headers=bearer(token), json={})
    assert_graph_error(refused, 403, "General")


def test_teams_meeting_with_a_delegated_token_only_for_oneself(ms: Ms) -> None:
    token = ms.user_tokens("openid User.Read OnlineMeetings.ReadWrite", user=NON_ADMIN.email)["access_token"]
    assert (
        ms.http.post("/v1.0/me/onlineMeetings", headers=bearer(token), json={"subject": "1:1"}).status_code
        == 201
    )
    admin_id = next(u["id"] for u in ms.sim.list_users() if u["isGlobalAdmin"])
    other = ms.http.post(f"/v1.0/users/{admin_id}/onlineMeetings", headers=bearer(token), json={})
    assert other.status_code == 403
