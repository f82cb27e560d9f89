"""Helpers of the Enterprise Connect flow tests: the authorize URL, who signs in, the token calls."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx

from devstack.simulators.demo import PRIMARY_DOMAIN
from tests.flow.harness import Client, FlowStack

SCOPE = "service_account/accounts/manage service_account/resources/manage"


def ec_url(flow: FlowStack, client: Client, **overrides: Any) -> str:
    params: dict[str, Any] = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uri,
        "scope": SCOPE,
        "delegated_scope": "read_write",
        "state": "ec-state",
        "provider_name": "google_workspace",
    }
    for key, value in overrides.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return f"{flow.info['app_url']}/enterprise_connect/oauth/authorize?{urlencode(params)}"


def admin_of(flow: FlowStack, provider: str) -> dict[str, str]:
    """sign_in_as for the provider simulator's administrator."""
    if provider == "google":
        email = flow.simulator("google").admin.primary_email
    else:
        sim = flow.simulator("microsoft")
        email = next(u.user_principal_name for u in sim.users.values() if sim.is_global_admin(u))
    return {flow.info["simulators"][provider]["base_url"]: email}


def non_admin_of(flow: FlowStack, provider: str) -> dict[str, str]:
    if provider == "google":
        sim = flow.simulator("google")
        email = next(
            u.primary_email for u in sim.users.values() if not u.is_admin and u.domain == PRIMARY_DOMAIN
        )
    else:
        sim = flow.simulator("microsoft")
        email = next(u.user_principal_name for u in sim.users.values() if not sim.is_global_admin(u))
    return {flow.info["simulators"][provider]["base_url"]: email}


def redeem(flow: FlowStack, client: Client, code: str, **extra: str) -> httpx.Response:
    return flow.api.post(
        f"{flow.info['api_url']}/oauth/token",
        json={
            "client_id": client.client_id,
            "client_secret": client.client_secret,
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": client.redirect_uri,
            **extra,
        },
    )


def userinfo(flow: FlowStack, access_token: str) -> httpx.Response:
    return flow.api.get(
        f"{flow.info['api_url']}/v1/userinfo", headers={"Authorization": f"Bearer {access_token}"}
    )


def service_account_secrets(flow: FlowStack) -> list[str]:
    names = [s["Name"] for s in flow.aws("secretsmanager").list_secrets(MaxResults=100)["SecretList"]]
    return [n for n in names if "/service-accounts/" in n]
