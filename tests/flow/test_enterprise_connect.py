"""Enterprise Connect end to end on the in-process dev stack (SPEC 4, first bullet): the authorize
URL, the calendar provider's admin consent at the Google and Microsoft simulators, the service
account created or refreshed with its credentials in Secrets Manager, the code, the token, refresh,
revoke and userinfo; and every refusal the integrator can meet."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pycronofy
import pytest

from devstack.simulators.demo import PRIMARY_DOMAIN, SECONDARY_DOMAIN
from devstack.simulators.signin import parse_signin_form
from tests.flow.enterprise_connect_helpers import (
    SCOPE,
    admin_of,
    ec_url,
    non_admin_of,
    redeem,
    service_account_secrets,
    userinfo,
)
from tests.flow.harness import Browser, FlowStack


@pytest.mark.parametrize(
    ("provider_name", "provider", "domain"),
    [("google_workspace", "google", PRIMARY_DOMAIN), ("microsoft_365", "microsoft", SECONDARY_DOMAIN)],
)
def test_the_whole_path_creates_a_service_account_and_its_token(
    flow: FlowStack, browser: Browser, provider_name: str, provider: str, domain: str
) -> None:
    client = flow.new_client()
    before = set(service_account_secrets(flow))
    outcome = browser.run(
        ec_url(flow, client, provider_name=provider_name), sign_in_as=admin_of(flow, provider)
    )
    assert outcome.kind == "code", outcome.text
    assert outcome.params["state"] == "ec-state"
    assert len(outcome.params["code"]) == 32

    response = redeem(flow, client, outcome.params["code"])
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {
        "token_type",
        "access_token",
        "expires_in",
        "refresh_token",
        "scope",
        "service_account_id",
        "sub",
    }
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 1800
    assert body["scope"] == SCOPE
    assert body["sub"] == body["service_account_id"]
    # The client's operator-recorded service account is Google example.com: refreshed, same id.
    assert body["sub"].startswith("ser_")
    assert (body["sub"] == client.service_account_id) is (provider == "google")

    info = userinfo(flow, body["access_token"])
    assert info.status_code == 200, info.text
    data = info.json()
    assert data["sub"] == body["sub"]
    assert data["cronofy.type"] == "service_account"
    assert data["cronofy.data"]["service_account"] == {"provider_name": provider_name, "domain": domain}
    assert data["cronofy.data"]["authorization"] == {
        "scope": SCOPE,
        "status": "active",
        "delegated_scope": "read_write",
    }
    assert data["email"].endswith("@" + domain)

    # The admin credentials are in the service account's own secret; nothing in the table.
    created = set(service_account_secrets(flow)) - before
    assert len(created) == 1 and created.pop().endswith(body["sub"])
    [item] = flow.table_items(f"SERVICEACCOUNT#{body['sub']}")
    assert item["provider"] == provider_name and item["domain"] == domain
    assert "access_token" not in json.dumps(item, default=str)


def test_a_second_authorization_refreshes_the_same_service_account(flow: FlowStack) -> None:
    client = flow.new_client()  # its operator-recorded service account is google_workspace example.com
    ids = []
    for _ in range(2):
        outcome = Browser(flow).run(ec_url(flow, client), sign_in_as=admin_of(flow, "google"))
        assert outcome.kind == "code", outcome.text
        ids.append(redeem(flow, client, outcome.params["code"]).json()["service_account_id"])
    assert ids == [client.service_account_id, client.service_account_id]
    [item] = flow.table_items(f"SERVICEACCOUNT#{client.service_account_id}")
    assert item["secret_arn"].rsplit(":", 1)[-1].startswith("orgconnect")
    assert item["delegated_scope"] == "read_write"


def test_the_chooser_offers_the_calendar_providers(flow: FlowStack, browser: Browser) -> None:
    client = flow.new_client()
    outcome = browser.run(
        ec_url(flow, client, provider_name=None),
        choose="microsoft_365",
        sign_in_as=admin_of(flow, "microsoft"),
    )
    assert outcome.kind == "code", outcome.text
    assert redeem(flow, client, outcome.params["code"]).json()["sub"].startswith("ser_")


@pytest.mark.parametrize("provider", ["google", "microsoft"])
def test_a_user_who_is_not_an_administrator_is_refused(
    flow: FlowStack, browser: Browser, provider: str
) -> None:
    client = flow.new_client()
    name = "google_workspace" if provider == "google" else "microsoft_365"
    before = set(service_account_secrets(flow))
    outcome = browser.run(ec_url(flow, client, provider_name=name), sign_in_as=non_admin_of(flow, provider))
    if outcome.kind == "page":
        # Our own check: a page explaining it, with the way back to the integrator.
        assert outcome.response.status_code == 403
        assert "is not an administrator of" in outcome.text
        back = urlsplit(
            outcome.text.split("data-testid=return href='")[1].split("'")[0].replace("&amp;", "&")
        )
        params = parse_qs(back.query)
    else:
        # Microsoft itself refuses a non-administrator's consent to /.default (until an admin gave it).
        assert outcome.kind == "error", outcome.text
        params = {k: [v] for k, v in outcome.params.items()}
    assert params["error"] == ["access_denied"]
    assert params["state"] == ["ec-state"]
    assert set(service_account_secrets(flow)) == before


def test_an_administrator_of_another_domain_is_refused(flow: FlowStack, browser: Browser) -> None:
    client = flow.new_client()
    to_google = browser.get(ec_url(flow, client, domain="other.example"))
    signin = browser.get(to_google.headers["location"])  # hd=other.example: only a hint to Google
    form = parse_signin_form(signin.text)
    # The administrator picks their example.com account anyway (Google lets one switch accounts).
    data = {**form.hidden, "user": flow.simulator("google").admin.id, "decision": "approve"}
    answer = browser.http.post(urljoin(str(signin.url), form.action), data=data)
    outcome = browser.drive(answer)
    assert outcome.kind == "page" and outcome.response.status_code == 403
    assert "does not belong to other.example" in outcome.text
    assert "error=access_denied" in outcome.text and "state=ec-state" in outcome.text


def test_a_denied_consent_reaches_the_integrator(flow: FlowStack, browser: Browser) -> None:
    client = flow.new_client()
    outcome = browser.run(ec_url(flow, client), provider_decision="deny")
    assert outcome.kind == "error"
    assert outcome.params == {
        "error": "access_denied",
        "error_description": "The administrator did not authorize the provider.",
        "state": "ec-state",
    }


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"scope": "read_write"}, "invalid_scope"),
        ({"scope": "service_account/accounts/unrestricted_access"}, "invalid_scope"),
        ({"scope": None}, "invalid_request"),
        ({"delegated_scope": "everything"}, "invalid_scope"),
        ({"delegated_scope": None}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge": "x" * 43, "code_challenge_method": "plain"}, "invalid_request"),
        ({"domain": "not a domain"}, "invalid_request"),
    ],
)
def test_bad_parameters_are_errors_redirected_with_the_state(
    flow: FlowStack, browser: Browser, overrides: dict[str, Any], error: str
) -> None:
    client = flow.new_client()
    response = browser.get(ec_url(flow, client, **overrides))
    assert response.status_code == 302
    params = parse_qs(urlsplit(response.headers["location"]).query)
    assert response.headers["location"].startswith(client.redirect_uri)
    assert params["error"] == [error] and params["state"] == ["ec-state"]


@pytest.mark.parametrize(
    "overrides",
    [{"redirect_uri": "https://evil.example/cb"}, {"client_id": "cli_" + "0" * 24}, {"client_id": "x"}],
)
def test_an_unknown_client_or_redirect_uri_gets_a_page_never_a_redirect(
    flow: FlowStack, browser: Browser, overrides: dict[str, str]
) -> None:
    response = browser.get(ec_url(flow, flow.new_client(), **overrides))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "This link is not valid" in response.text


def test_a_code_is_single_use_and_its_replay_revokes_the_tokens(flow: FlowStack, browser: Browser) -> None:
    client = flow.new_client()
    code = browser.run(ec_url(flow, client), sign_in_as=admin_of(flow, "google")).params["code"]
    tokens = redeem(flow, client, code).json()
    replay = redeem(flow, client, code)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert userinfo(flow, tokens["access_token"]).status_code == 401


def _pkce() -> tuple[str, str]:
    verifier = "v" * 43 + "ErIfIeR"
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def test_pkce_binds_the_code(flow: FlowStack) -> None:
    client = flow.new_client()
    verifier, challenge = _pkce()
    url = ec_url(flow, client, code_challenge=challenge, code_challenge_method="S256")

    code = Browser(flow).run(url, sign_in_as=admin_of(flow, "google")).params["code"]
    missing = redeem(flow, client, code)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_grant"

    code = Browser(flow).run(url, sign_in_as=admin_of(flow, "google")).params["code"]
    wrong = redeem(flow, client, code, code_verifier="w" * 50)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"

    code = Browser(flow).run(url, sign_in_as=admin_of(flow, "google")).params["code"]
    assert redeem(flow, client, code, code_verifier=verifier).status_code == 200


def test_refresh_rotates_and_revoke_ends_a_service_account_grant(flow: FlowStack, browser: Browser) -> None:
    client = flow.new_client()
    code = browser.run(ec_url(flow, client), sign_in_as=admin_of(flow, "google")).params["code"]
    first = redeem(flow, client, code).json()
    refreshed = flow.api.post(
        f"{flow.info['api_url']}/oauth/token",
        json={
            "client_id": client.client_id,
            "client_secret": client.client_secret,
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
        },
    )
    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.json()
    assert second["expires_in"] == 1800 and second["sub"] == first["sub"]
    assert second["refresh_token"] != first["refresh_token"]
    assert userinfo(flow, second["access_token"]).json()["cronofy.type"] == "service_account"

    revoked = flow.api.post(
        f"{flow.info['api_url']}/oauth/token/revoke",
        json={"client_id": client.client_id, "client_secret": client.client_secret, "sub": first["sub"]},
    )
    assert revoked.status_code == 200
    assert userinfo(flow, second["access_token"]).status_code == 401


def test_a_service_account_token_is_not_an_organizational_unit_token(
    flow: FlowStack, browser: Browser
) -> None:
    client = flow.new_client()
    code = browser.run(ec_url(flow, client), sign_in_as=admin_of(flow, "google")).params["code"]
    token = redeem(flow, client, code).json()["access_token"]
    response = flow.api.get(
        f"{flow.info['api_url']}/v1/organizational_unit", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403


def test_the_callback_belongs_to_the_browser_that_started(flow: FlowStack) -> None:
    client = flow.new_client()
    started = Browser(flow)
    to_google = started.get(ec_url(flow, client))
    assert to_google.status_code == 302
    signin = started.get(to_google.headers["location"])
    answer = started._sign_in(signin, "approve", admin_of(flow, "google"))
    callback = answer.headers["location"]
    other = Browser(flow).get(callback)
    assert other.status_code == 403
    # The state was consumed by the other browser's attempt: single use, even for its owner.
    again = started.get(callback)
    assert again.status_code == 400 and "expired or was already used" in again.text


def test_cookie_and_headers_of_the_authorize_answer(flow: FlowStack, browser: Browser) -> None:
    response = browser.get(ec_url(flow, flow.new_client()))
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("orgconnect_ec=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_no_secret_reaches_the_logs(flow: FlowStack, browser: Browser, service_logs: list[str]) -> None:
    client = flow.new_client()
    code = browser.run(ec_url(flow, client), sign_in_as=admin_of(flow, "google")).params["code"]
    tokens = redeem(flow, client, code).json()
    logged = "\n".join(service_logs)
    assert "service account authorized" in logged
    for secret in (code, tokens["access_token"], tokens["refresh_token"], client.client_secret):
        assert secret not in logged


def test_pycronofy_redeems_refreshes_reads_userinfo_and_revokes(flow: FlowStack, browser: Browser) -> None:
    client = flow.new_client()
    code = browser.run(ec_url(flow, client), sign_in_as=admin_of(flow, "google")).params["code"]
    sdk = pycronofy.Client(client_id=client.client_id, client_secret=client.client_secret)
    sdk.request_handler.base_url = flow.info["api_url"]
    sdk.get_authorization_from_code(code, redirect_uri=client.redirect_uri)
    assert sdk.userinfo()["cronofy.type"] == "service_account"
    sdk.refresh_authorization()
    assert sdk.userinfo()["sub"] == client.service_account_id
    sdk.revoke_authorization()
