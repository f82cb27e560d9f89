"""What the simulators gained for issue 10: the demo seeds a suspended Google user and a Microsoft
user without Teams; Entra ID refuses ``/.default`` next to other Graph scopes (AADSTS70011) and
records a Global Administrator's ``/.default`` consent tenant-wide with the application
permissions, a non-admin's being refused (AADSTS90094); Teams refuses app-only meetings without an
application access policy; Meet answers ``SERVICE_DISABLED`` while its API is off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.simulators.google import MEET_CREATED
from tests.simulators._google_harness import MEMBER, Google
from tests.simulators._microsoft_harness import ADMIN, DEMO, NON_ADMIN, Ms, assert_aadsts, assert_graph_error
from tests.simulators._provider_fixtures import bearer, redirect_params

DEFAULT = "openid profile email offline_access https://graph.microsoft.com/.default"


@pytest.fixture
def ms() -> Iterator[Ms]:
    harness = Ms()
    yield harness
    harness.http.close()


@pytest.fixture
def google() -> Iterator[Google]:
    harness = Google()
    yield harness
    harness.http.close()


def test_the_demo_seeds_one_user_per_tenant_who_cannot_use_its_conferencing(ms: Ms, google: Google) -> None:
    (suspended,) = DEMO.summary()["google_meet_suspended"]
    found = google.sim.find_user(suspended)
    assert found is not None and found.suspended is True
    assert sum(u.suspended for u in google.sim.users.values()) == 1
    (unlicensed,) = DEMO.summary()["ms_teams_unlicensed"]
    assert [u.user_principal_name for u in ms.sim.users.values() if not u.teams_licensed] == [unlicensed]


def test_default_next_to_other_graph_scopes_is_invalid_scope(ms: Ms) -> None:
    answer = ms.http.get(
        f"/{ms.tenant}/oauth2/v2.0/authorize", params=ms.authorize_params(f"{DEFAULT} User.Read")
    )
    params = redirect_params(answer)
    assert params["error"] == "invalid_scope" and params["error_description"].startswith("AADSTS70011")


def test_a_global_admins_default_consent_grants_the_application_permissions(ms: Ms) -> None:
    refused = ms.token({"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"})
    assert_aadsts(refused, 400, "unauthorized_client", 700016)  # no consent yet
    assert "code" in redirect_params(ms.authorize(DEFAULT, user=ADMIN.email))
    assert {"OnlineMeetings.ReadWrite.All", "User.Read.All"} <= ms.sim.consents[
        ms.info["oauth_client_id"]
    ].roles
    assert ms.app_token()


def test_a_non_admins_default_consent_is_refused_and_grants_nothing(ms: Ms) -> None:
    params = redirect_params(ms.authorize(DEFAULT, user=NON_ADMIN.email))
    assert params["error"] == "access_denied" and params["error_description"].startswith("AADSTS90094")
    assert ms.info["oauth_client_id"] not in ms.sim.consents


def test_app_only_meetings_need_an_application_access_policy(ms: Ms) -> None:
    redirect_params(ms.authorize(DEFAULT, user=ADMIN.email))
    token = ms.app_token()
    organizer = next(u for u in ms.sim.users.values() if u.user_principal_name == NON_ADMIN.email)
    path = f"/v1.0/users/{organizer.id}/onlineMeetings"
    body = {"subject": "x", "startDateTime": "2023-11-21T09:00:00Z", "endDateTime": "2023-11-21T10:00:00Z"}
    assert ms.http.post(path, headers=bearer(token), json=body).status_code == 201
    assert ms.http.patch("/_sim/options", json={"teams_application_access_policy": False}).status_code == 200
    error = assert_graph_error(ms.http.post(path, headers=bearer(token), json=body), 403, "General")
    assert error["message"] == "No application access policy found for this app."


def test_meet_answers_service_disabled_while_its_api_is_off(google: Google) -> None:
    token = google.tokens(f"openid email {MEET_CREATED}", user=MEMBER.email, offline=False)["access_token"]
    assert google.http.patch("/_sim/options", json={"meet_api_enabled": False}).status_code == 200
    refused = google.http.post("/v2/spaces", headers=bearer(token), json={})
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["status"] == "PERMISSION_DENIED" and "Meet REST API" in error["message"]
    (info,) = error["details"]
    assert info["reason"] == "SERVICE_DISABLED" and info["metadata"]["service"] == "meet.googleapis.com"
    assert google.http.patch("/_sim/options", json={"meet_api_enabled": True}).status_code == 200
    created = google.http.post("/v2/spaces", headers=bearer(token), json={})
    assert created.status_code == 200 and created.json()["meetingUri"].startswith("https://meet.google.com/")
