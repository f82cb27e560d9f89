"""Zoom OAuth: authorize page, authorization_code + PKCE, client authentication."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlsplit

import pytest

from devstack.simulators.common import pkce_challenge
from tests.simulators.conftest import CALLBACK, ZoomHarness, basic


def _query(location: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(location).query)


# ----- authorize ---------------------------------------------------------------------------------


def test_authorize_page_lists_users_and_preselects_the_account_owner(zoom: ZoomHarness) -> None:
    page = zoom.http.get(
        "/oauth/authorize",
        params={"response_type": "code", "client_id": zoom.info["oauth_client_id"], "redirect_uri": CALLBACK},
    )
    assert page.status_code == 200
    owner = zoom.sim.paid_account().owner_id
    assert f'value="{owner}" selected' in page.text
    assert 'data-testid="approve"' in page.text
    assert 'data-testid="deny"' in page.text
    assert zoom.info["free_admin_email"] in page.text  # the Free account's owner can sign in too
    assert "<script" not in page.text
    assert page.headers["X-Frame-Options"] == "DENY"


def test_approve_redirects_with_code_and_state(zoom: ZoomHarness) -> None:
    response = zoom.authorize(state="xyz")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(CALLBACK + "?")
    query = _query(location)
    assert query["state"] == ["xyz"]
    assert len(query["code"][0]) >= 20


def test_deny_redirects_with_access_denied(zoom: ZoomHarness) -> None:
    response = zoom.authorize(decision="deny", state="s2")
    assert response.status_code == 302
    assert _query(response.headers["Location"]) == {"error": ["access_denied"], "state": ["s2"]}


@pytest.mark.parametrize(
    "redirect_uri",
    [
        CALLBACK + "/",
        CALLBACK.replace("127.0.0.1", "localhost"),
        CALLBACK + "?x=1",
        "https://evil.example/cb",
    ],
)
def test_redirect_uri_must_match_exactly_and_mismatch_never_redirects(
    zoom: ZoomHarness, redirect_uri: str
) -> None:
    page = zoom.http.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": zoom.info["oauth_client_id"],
            "redirect_uri": redirect_uri,
        },
    )
    assert page.status_code == 400
    assert "Location" not in page.headers
    assert "Redirect URI mismatch" in page.text


def test_unknown_client_gets_an_error_page(zoom: ZoomHarness) -> None:
    page = zoom.http.get(
        "/oauth/authorize", params={"response_type": "code", "client_id": "nope", "redirect_uri": CALLBACK}
    )
    assert page.status_code == 400
    assert "Location" not in page.headers


def test_bad_response_type_redirects_with_error(zoom: ZoomHarness) -> None:
    response = zoom.http.get(
        "/oauth/authorize",
        params={
            "response_type": "token",
            "client_id": zoom.info["oauth_client_id"],
            "redirect_uri": CALLBACK,
            "state": "q",
        },
    )
    assert response.status_code == 302
    query = _query(response.headers["Location"])
    assert query["error"] == ["unsupported_response_type"]
    assert query["state"] == ["q"]


def test_redirect_uris_of_the_default_app_are_updatable(zoom: ZoomHarness) -> None:
    new_uri = "http://127.0.0.1:9999/oauth/callback/zoom"
    reply = zoom.http.patch(f"/_sim/apps/{zoom.info['oauth_client_id']}", json={"redirect_uris": [new_uri]})
    assert reply.status_code == 200
    assert zoom.authorize(redirect_uri=new_uri).status_code == 302
    old = zoom.http.get(
        "/oauth/authorize",
        params={"response_type": "code", "client_id": zoom.info["oauth_client_id"], "redirect_uri": CALLBACK},
    )
    assert old.status_code == 400


def test_member_cannot_approve_an_admin_level_app(zoom: ZoomHarness) -> None:
    member = next(u for u in zoom.sim.directory.account_users(zoom.info["account_id"]) if u.role_id == "2")
    response = zoom.authorize(user_email=member.email)
    assert response.status_code == 403
    assert "Location" not in response.headers
    assert "admin" in response.text.lower()


def test_member_refusal_can_redirect_with_access_denied_instead(make_zoom: object) -> None:
    harness = make_zoom(non_admin_authorize="access_denied")  # type: ignore[operator]
    member = next(
        u for u in harness.sim.directory.account_users(harness.info["account_id"]) if u.role_id == "2"
    )
    response = harness.authorize(user_email=member.email, state="m")
    assert response.status_code == 302
    assert _query(response.headers["Location"]) == {"error": ["access_denied"], "state": ["m"]}


def test_pending_user_cannot_sign_in(zoom: ZoomHarness) -> None:
    pending = zoom.sim.demo.emails(zoom_status="pending")[0]
    response = zoom.authorize(user_email=pending)
    assert response.status_code == 200  # the sign-in page again, with a message
    assert 'data-testid="signin-message"' in response.text


# ----- authorization_code + PKCE ------------------------------------------------------------------


def test_code_exchange_returns_zoom_token_shape(zoom: ZoomHarness) -> None:
    tokens = zoom.exchange(zoom.code_for()).json()
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 3599
    assert isinstance(tokens["refresh_token"], str)
    assert tokens["refresh_token"] != tokens["access_token"]
    assert "user:read:list_users:admin" in tokens["scope"].split(" ")
    assert tokens["api_url"] == zoom.url
    me = zoom.api("GET", "/users/me", tokens["access_token"]).json()
    assert me["email"] == zoom.info["admin_email"]
    assert me["type"] == 2


def test_pkce_s256_accepts_the_right_verifier_and_refuses_a_wrong_one(zoom: ZoomHarness) -> None:
    verifier = secrets.token_urlsafe(48)
    challenge = pkce_challenge(verifier, "S256")
    good = zoom.exchange(
        zoom.code_for(code_challenge=challenge, code_challenge_method="S256"), verifier=verifier
    )
    assert good.status_code == 200
    bad = zoom.exchange(
        zoom.code_for(code_challenge=challenge, code_challenge_method="S256"),
        verifier=secrets.token_urlsafe(48),
    )
    assert bad.status_code == 400
    assert bad.json() == {"reason": "Invalid code_verifier.", "error": "invalid_grant"}


def test_pkce_plain_is_the_default_method(zoom: ZoomHarness) -> None:
    verifier = secrets.token_urlsafe(48)
    code = zoom.code_for(code_challenge=verifier)  # no method: "Defaults to plain"
    assert zoom.exchange(code, verifier=verifier).status_code == 200
    code = zoom.code_for(code_challenge=verifier)
    # With plain, sending the S256 transform as the verifier must fail.
    assert zoom.exchange(code, verifier=pkce_challenge(verifier, "S256")).json()["error"] == "invalid_grant"


def test_pkce_verifier_is_required_when_a_challenge_was_sent(zoom: ZoomHarness) -> None:
    verifier = secrets.token_urlsafe(48)
    code = zoom.code_for(code_challenge=pkce_challenge(verifier, "S256"), code_challenge_method="S256")
    assert zoom.exchange(code).json()["error"] == "invalid_grant"


def test_unknown_challenge_method_is_refused_at_authorize(zoom: ZoomHarness) -> None:
    response = zoom.http.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": zoom.info["oauth_client_id"],
            "redirect_uri": CALLBACK,
            "code_challenge": "abc",
            "code_challenge_method": "S512",
        },
    )
    assert response.status_code == 302
    assert _query(response.headers["Location"])["error"] == ["invalid_request"]


def test_code_is_single_use_and_replay_revokes_its_tokens(zoom: ZoomHarness) -> None:
    code = zoom.code_for()
    first = zoom.exchange(code)
    assert first.status_code == 200
    replay = zoom.exchange(code)
    assert replay.status_code == 400
    assert replay.json() == {"reason": "Invalid authorization code", "error": "invalid_grant"}
    assert zoom.api("GET", "/users/me", first.json()["access_token"]).status_code == 401


def test_code_expires_after_five_minutes(zoom: ZoomHarness) -> None:
    code = zoom.code_for()
    zoom.sim.advance_clock(300)
    response = zoom.exchange(code)
    assert response.status_code == 400
    assert response.json() == {"reason": "Code is expired.", "error": "invalid_grant"}


def test_code_still_valid_just_before_five_minutes(zoom: ZoomHarness) -> None:
    code = zoom.code_for()
    zoom.sim.advance_clock(299)
    assert zoom.exchange(code).status_code == 200


def test_redirect_uri_must_match_at_the_token_endpoint(zoom: ZoomHarness) -> None:
    response = zoom.exchange(zoom.code_for(), redirect_uri=CALLBACK + "/")
    assert response.json() == {"reason": "Redirect URI mismatch.", "error": "invalid_grant"}


def test_token_params_may_come_in_the_query_string(zoom: ZoomHarness) -> None:
    code = zoom.code_for()
    response = zoom.http.post(
        "/oauth/token",
        params={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
        headers=basic(zoom.info["oauth_client_id"], zoom.info["oauth_client_secret"]),
    )
    assert response.status_code == 200


def test_client_credentials_in_the_body_are_not_accepted(zoom: ZoomHarness) -> None:
    response = zoom.http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": zoom.code_for(),
            "redirect_uri": CALLBACK,
            "client_id": zoom.info["oauth_client_id"],
            "client_secret": zoom.info["oauth_client_secret"],
        },
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_wrong_client_secret_is_invalid_client(zoom: ZoomHarness) -> None:
    response = zoom.http.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": "x", "redirect_uri": CALLBACK},
        headers=basic(zoom.info["oauth_client_id"], "wrong"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_unknown_grant_type(zoom: ZoomHarness) -> None:
    response = zoom.http.post(
        "/oauth/token",
        data={"grant_type": "password"},
        headers=basic(zoom.info["oauth_client_id"], zoom.info["oauth_client_secret"]),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
