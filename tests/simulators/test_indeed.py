"""The Indeed simulator: OAuth 2.0 with employer selection, user lookup and interview links."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from devstack.simulators.demo import build_demo_directory
from devstack.simulators.indeed import IndeedSimulator
from tests.simulators._provider_fixtures import (
    CLOCK_START,
    basic,
    bearer,
    frozen_clock,
    pkce_pair,
    redirect_params,
    sign_in,
    wsgi_client,
)

CALLBACK = "http://127.0.0.1:8000/oauth/callback/indeed"
BASE = "http://indeed.test"
DEMO = build_demo_directory(seed=7)
ADMIN = DEMO.admin
ACTIVE = next(p for p in DEMO.zoom_users() if p.zoom_status == "active" and not p.is_admin)
INVITED = next(p for p in DEMO.zoom_users() if p.zoom_status == "pending")
ALL_SCOPES = "email offline_access employer_access"


class Indeed:
    """An Indeed simulator with an in-process client and flow helpers."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("clock", frozen_clock())
        options.setdefault("redirect_uris", [CALLBACK])
        self.sim = IndeedSimulator(DEMO, seed=7, **options)
        self.http = wsgi_client(self.sim, BASE)
        self.info = self.sim.dev_info(BASE)
        self.auth = basic(self.info["oauth_client_id"], self.info["oauth_client_secret"])

    def params(self, scope: str = ALL_SCOPES, **extra: str) -> dict[str, str]:
        return {
            "client_id": self.info["oauth_client_id"],
            "redirect_uri": CALLBACK,
            "response_type": "code",
            "scope": scope,
            "state": "i-state",
            **extra,
        }

    def token(self, data: dict[str, str]) -> httpx.Response:
        return self.http.post("/oauth/v2/tokens", data=data, headers=self.auth)

    def tokens(
        self, scope: str = ALL_SCOPES, *, user: str = ADMIN.email, employer: bool = True
    ) -> dict[str, Any]:
        verifier, challenge = pkce_pair()
        extra = {"code_challenge": challenge, "code_challenge_method": "S256"}
        if employer:
            extra["prompt"] = "select_employer"
        answer = redirect_params(
            sign_in(self.http, "/oauth/v2/authorize", self.params(scope, **extra), user=user)
        )
        data = {"grant_type": "authorization_code", "code": answer["code"], "redirect_uri": CALLBACK}
        data["code_verifier"] = verifier
        if employer:
            assert answer["employer"] == self.info["employer_id"]
            data["employer"] = answer["employer"]
        response = self.token(data)
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture
def indeed() -> Iterator[Indeed]:
    harness = Indeed()
    yield harness
    harness.http.close()


def test_discovery_and_dev_info(indeed: Indeed) -> None:
    doc = indeed.http.get("/.well-known/openid-configuration").json()
    assert doc["token_endpoint"] == indeed.info["token_url"]
    assert doc["authorization_endpoint"] == indeed.info["authorize_url"]
    assert doc["jwks_uri"] == indeed.info["jwks_uri"]
    assert IndeedSimulator(DEMO, seed=7).dev_info(BASE)["employer_id"] == indeed.info["employer_id"]
    assert indeed.info["admin_email"] == ADMIN.email


def test_employer_flow_issues_jwt_access_tokens(indeed: Indeed) -> None:
    tokens = indeed.tokens()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["refresh_token"]
    keys = KeySet.import_key_set(indeed.http.get("/.well-known/keys").json())
    access = jwt.decode(tokens["access_token"], keys, algorithms=["RS256"]).claims
    jwt.JWTClaimsRegistry(now=int(CLOCK_START), exp={"essential": True}).validate(access)
    assert set(access) >= {"sub", "azp", "scope", "iss", "exp", "iat"}
    assert access["sub"].startswith("user:")
    assert access["azp"] == indeed.info["oauth_client_id"]
    assert access["act"]["sub"] == f"app:{indeed.info['employer_id']}"
    identity = jwt.decode(tokens["id_token"], keys, algorithms=["RS256"]).claims
    assert identity["email"] == ADMIN.email
    info = indeed.http.get("/v2/api/userinfo", headers=bearer(tokens["access_token"])).json()
    assert info == {"sub": identity["sub"], "email": ADMIN.email, "email_verified": True}


def test_client_secret_in_the_body_also_works(indeed: Indeed) -> None:
    code = redirect_params(sign_in(indeed.http, "/oauth/v2/authorize", indeed.params("email")))["code"]
    response = indeed.http.post(
        "/oauth/v2/tokens",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "client_id": indeed.info["oauth_client_id"],
            "client_secret": indeed.info["oauth_client_secret"],
        },
    )
    assert response.status_code == 200, response.text
    assert "refresh_token" not in response.json()  # no offline_access, no refresh token
    wrong = indeed.http.post(
        "/oauth/v2/tokens", data={"grant_type": "refresh_token"}, headers=basic("x", "y")
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"


def test_codes_and_redirects(indeed: Indeed) -> None:
    answer = redirect_params(sign_in(indeed.http, "/oauth/v2/authorize", indeed.params()))
    assert "employer" not in answer
    data = {"grant_type": "authorization_code", "code": answer["code"], "redirect_uri": CALLBACK}
    assert indeed.token({**data, "employer": indeed.info["employer_id"]}).json()["error"] == "invalid_grant"
    assert indeed.token(data).json()["error"] == "invalid_grant"  # the code was spent by the refusal
    page = indeed.http.get("/oauth/v2/authorize", params=indeed.params() | {"redirect_uri": CALLBACK + "/"})
    assert page.status_code == 400
    assert "Location" not in page.headers
    denied = redirect_params(sign_in(indeed.http, "/oauth/v2/authorize", indeed.params(), decision="deny"))
    assert denied == {"error": "access_denied", "state": "i-state"}
    bad = indeed.http.get("/oauth/v2/authorize", params=indeed.params("email", prompt="select_employer"))
    assert redirect_params(bad)["error"] == "invalid_request"
    late = redirect_params(sign_in(indeed.http, "/oauth/v2/authorize", indeed.params()))["code"]
    indeed.sim.advance_clock(601)
    assert indeed.token({**data, "code": late}).json()["error"] == "invalid_grant"


def test_refresh_rotates_by_default(indeed: Indeed) -> None:
    first = indeed.tokens()["refresh_token"]
    second = indeed.token({"grant_type": "refresh_token", "refresh_token": first})
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first
    assert (
        indeed.token({"grant_type": "refresh_token", "refresh_token": first}).json()["error"]
        == "invalid_grant"
    )
    relaxed = Indeed(rotate_refresh_tokens=False)
    token = relaxed.tokens()["refresh_token"]
    again = relaxed.token({"grant_type": "refresh_token", "refresh_token": token}).json()
    assert again["refresh_token"] == token
    claims = jwt.decode(again["access_token"], KeySet.import_key_set(relaxed.sim.signing_key.jwks())).claims
    assert claims["act"]["sub"] == f"app:{relaxed.info['employer_id']}"  # the employer survives refresh


def test_user_lookup_and_interviews_need_an_employer_token(indeed: Indeed) -> None:
    token = indeed.tokens()["access_token"]
    found = indeed.http.get("/v1/users", params={"email": ACTIVE.email.upper()}, headers=bearer(token)).json()
    assert [u["email"] for u in found["users"]] == [ACTIVE.email]
    assert found["users"][0]["status"] == "active"
    invited = indeed.http.get("/v1/users", params={"email": INVITED.email}, headers=bearer(token)).json()
    assert invited["users"][0]["status"] == "invited"
    nobody = indeed.http.get("/v1/users", params={"email": "nobody@example.com"}, headers=bearer(token))
    assert nobody.json() == {"users": []}
    created = indeed.http.post(
        "/v1/interviews", headers=bearer(token), json={"title": "Screening", "hostEmail": ACTIVE.email}
    )
    assert created.status_code == 201, created.text
    assert created.json()["joinUrl"].startswith("https://interview.indeed.com/join/")
    refused = indeed.http.post(
        "/v1/interviews", headers=bearer(token), json={"title": "x", "hostEmail": INVITED.email}
    )
    assert refused.status_code == 400
    no_employer = indeed.tokens(employer=False)["access_token"]
    assert (
        indeed.http.get("/v1/users", params={"email": ACTIVE.email}, headers=bearer(no_employer)).status_code
        == 403
    )
    email_only = indeed.tokens("email", employer=False)["access_token"]
    assert (
        indeed.http.post("/v1/interviews", headers=bearer(email_only), json={"title": "x"}).status_code == 403
    )
    assert indeed.http.get("/v1/users", params={"email": ACTIVE.email}).status_code == 401


def test_control_api_and_faults(indeed: Indeed) -> None:
    tokens = indeed.tokens(user=ACTIVE.email)
    indeed.http.patch(f"/_sim/users/{ACTIVE.email}", json={"status": "deactivated"})
    refused = indeed.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refused.json()["error"] == "invalid_grant"
    assert indeed.http.delete(f"/_sim/users/{ACTIVE.email}").status_code == 204
    assert indeed.http.get("/v2/api/userinfo", headers=bearer(tokens["access_token"])).status_code == 401
    token = indeed.tokens()["access_token"]
    indeed.http.post("/_sim/faults", json={"target": "api", "kind": "429"})
    limited = indeed.http.get("/v2/api/userinfo", headers=bearer(token))
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    indeed.http.post("/_sim/faults", json={"target": "token", "kind": "invalid_grant"})
    assert (
        indeed.token({"grant_type": "refresh_token", "refresh_token": "x"}).json()["error"] == "invalid_grant"
    )
    assert indeed.http.get("/v2/api/userinfo", headers=bearer(token)).status_code == 200
