"""Harness for the google simulator tests: the client, helpers and constants."""

from __future__ import annotations

from typing import Any

import httpx

from devstack.simulators.demo import PRIMARY_DOMAIN, build_demo_directory
from devstack.simulators.google import DIRECTORY_USER_READONLY, GoogleSimulator
from tests.simulators._provider_fixtures import (
    bearer,
    frozen_clock,
    pkce_pair,
    redirect_params,
    sign_in,
    wsgi_client,
)

CALLBACK = "http://127.0.0.1:8000/oauth/callback/google_workspace"
BASE = "http://google.test"
DEMO = build_demo_directory(seed=7)
PEOPLE = DEMO.in_domain(PRIMARY_DOMAIN)
ADMIN = DEMO.admin
MEMBER = next(p for p in PEOPLE if not p.is_admin)
DIRECTORY_SCOPES = f"openid email profile {DIRECTORY_USER_READONLY}"


class Google:
    """A Google simulator with an in-process client and flow helpers."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("clock", frozen_clock())
        options.setdefault("redirect_uris", [CALLBACK])
        self.sim = GoogleSimulator(DEMO, seed=7, **options)
        self.http = wsgi_client(self.sim, BASE)
        self.info = self.sim.dev_info(BASE)

    def params(self, scope: str = DIRECTORY_SCOPES, **extra: str) -> dict[str, str]:
        return {
            "client_id": self.info["oauth_client_id"],
            "redirect_uri": CALLBACK,
            "response_type": "code",
            "scope": scope,
            "state": "g-state",
            **extra,
        }

    def code(self, scope: str = DIRECTORY_SCOPES, *, user: str = ADMIN.email, **extra: str) -> str:
        return redirect_params(
            sign_in(self.http, "/o/oauth2/v2/auth", self.params(scope, **extra), user=user)
        )["code"]

    def token(self, data: dict[str, str]) -> httpx.Response:
        form = {
            "client_id": self.info["oauth_client_id"],
            "client_secret": self.info["oauth_client_secret"],
            **data,
        }
        return self.http.post("/token", data=form)

    def tokens(
        self, scope: str = DIRECTORY_SCOPES, *, user: str = ADMIN.email, offline: bool = True, **extra: str
    ) -> dict[str, Any]:
        verifier, challenge = pkce_pair()
        if offline:
            extra["access_type"] = "offline"
        code = self.code(scope, user=user, code_challenge=challenge, code_challenge_method="S256", **extra)
        response = self.token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": CALLBACK,
                "code_verifier": verifier,
            }
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def directory(self, token: str, path: str = "", **params: str) -> httpx.Response:
        return self.http.get(f"/admin/directory/v1/users{path}", params=params, headers=bearer(token))


def google_error(response: httpx.Response, status: int, reason: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = dict(response.json()["error"])
    assert error["code"] == status
    assert isinstance(error["message"], str)
    assert isinstance(error["status"], str)
    if reason is not None:
        assert error["errors"][0]["reason"] == reason
    return error
