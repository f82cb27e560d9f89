"""`make dev` writes the demo service account's token, obtained through Enterprise Connect, to
dev.json (SPEC 6: ``service_account_token``), and it works against the API."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e


def test_dev_json_has_a_working_service_account_token(dev_stack: dict[str, Any]) -> None:
    token = dev_stack["service_account_token"]
    assert isinstance(token, str) and token
    response = httpx.get(
        f"{dev_stack['api_url']}/v1/userinfo", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    info = response.json()
    assert info["sub"] == dev_stack["service_account_id"]
    assert info["cronofy.type"] == "service_account"
    assert info["cronofy.data"]["service_account"] == {
        "provider_name": "google_workspace",
        "domain": "example.com",
    }


def test_the_refresh_token_in_dev_json_rotates(dev_stack: dict[str, Any]) -> None:
    response = httpx.post(
        f"{dev_stack['api_url']}/oauth/token",
        json={
            "client_id": dev_stack["client_id"],
            "client_secret": dev_stack["client_secret"],
            "grant_type": "refresh_token",
            "refresh_token": dev_stack["service_account_refresh_token"],
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.json()["service_account_id"] == dev_stack["service_account_id"]
    assert response.json()["expires_in"] == 1800
