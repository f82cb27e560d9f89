"""Harness for the microsoft simulator tests: the client, helpers and constants."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx

from devstack.simulators.demo import SECONDARY_DOMAIN, build_demo_directory
from devstack.simulators.microsoft import MicrosoftSimulator
from tests.simulators._provider_fixtures import (
    basic,
    frozen_clock,
    pkce_pair,
    redirect_params,
    sign_in,
    wsgi_client,
)

CALLBACK = "http://127.0.0.1:8000/oauth/callback/ms_teams"
BASE = "http://ms.test"
DEMO = build_demo_directory(seed=7)
TENANT_PEOPLE = DEMO.in_domain(SECONDARY_DOMAIN)
ADMIN = next(p for p in TENANT_PEOPLE if p.is_admin)
NON_ADMIN = next(p for p in TENANT_PEOPLE if not p.is_admin)


class Ms:
    """A Microsoft simulator with an in-process client and flow helpers."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("clock", frozen_clock())
        options.setdefault("redirect_uris", [CALLBACK])
        self.sim = MicrosoftSimulator(DEMO, seed=7, **options)
        self.http = wsgi_client(self.sim, BASE)
        self.info = self.sim.dev_info(BASE)
        self.tenant = self.info["tenant_id"]

    def authorize_params(self, scope: str, **extra: str) -> dict[str, str]:
        return {
            "client_id": self.info["oauth_client_id"],
            "response_type": "code",
            "redirect_uri": CALLBACK,
            "scope": scope,
            "state": "st-42",
            **extra,
        }

    def authorize(
        self,
        scope: str = "openid profile email offline_access User.Read",
        *,
        user: str = ADMIN.email,
        **extra: str,
    ) -> httpx.Response:
        return sign_in(
            self.http,
            f"/{self.tenant}/oauth2/v2.0/authorize",
            self.authorize_params(scope, **extra),
            user=user,
        )

    def token(self, data: dict[str, str], *, tenant: str | None = None, auth: str = "body") -> httpx.Response:
        form = dict(data)
        headers: dict[str, str] = {}
        if auth == "body":
            form.update(
                client_id=self.info["oauth_client_id"], client_secret=self.info["oauth_client_secret"]
            )
        else:
            headers = basic(self.info["oauth_client_id"], self.info["oauth_client_secret"])
        return self.http.post(f"/{tenant or self.tenant}/oauth2/v2.0/token", data=form, headers=headers)

    def user_tokens(
        self, scope: str = "openid profile email offline_access User.Read", *, user: str = ADMIN.email
    ) -> dict[str, Any]:
        verifier, challenge = pkce_pair()
        code = redirect_params(
            self.authorize(scope, user=user, code_challenge=challenge, code_challenge_method="S256")
        )["code"]
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

    def admin_consent(self, *, user: str = ADMIN.email, decision: str = "approve") -> httpx.Response:
        params = {
            "client_id": self.info["oauth_client_id"],
            "redirect_uri": CALLBACK,
            "state": "consent-1",
            "scope": "https://graph.microsoft.com/.default",
        }
        return sign_in(self.http, f"/{self.tenant}/v2.0/adminconsent", params, user=user, decision=decision)

    def app_token(self) -> str:
        response = self.token(
            {"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])


def assert_aadsts(response: httpx.Response, status: int, error: str, code: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = dict(response.json())
    assert body["error"] == error
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", body["timestamp"])
    uuid.UUID(body["trace_id"])
    uuid.UUID(body["correlation_id"])
    return body


def assert_graph_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert set(error["innerError"]) >= {"date", "request-id", "client-request-id"}
    return dict(error)
