"""The Google simulator's OAuth: codes, refresh tokens, PKCE, client authentication, authorize rules."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from devstack.simulators.demo import PRIMARY_DOMAIN, build_demo_directory
from devstack.simulators.google import DIRECTORY_USER_READONLY, GoogleSimulator
from tests.simulators._google_harness import (
    ADMIN,
    BASE,
    CALLBACK,
    DEMO,
    MEMBER,
    Google,
)
from tests.simulators._provider_fixtures import (
    CLOCK_START,
    basic,
    bearer,
    pkce_pair,
    redirect_params,
    sign_in,
)


@pytest.fixture
def google() -> Iterator[Google]:
    harness = Google()
    yield harness
    harness.http.close()


# ----- dev_info -------------------------------------------------------------------------------


def test_dev_info_customer_and_domain_are_deterministic() -> None:
    one, two = GoogleSimulator(DEMO, seed=7), GoogleSimulator(DEMO, seed=7)
    a, b = one.dev_info(BASE), two.dev_info(BASE)
    assert re.fullmatch(r"C0[a-z0-9]{7}", a["customer_id"])
    assert a["customer_id"] == b["customer_id"]
    assert a["oauth_client_secret"] == b["oauth_client_secret"]
    assert (
        GoogleSimulator(build_demo_directory(seed=9), seed=9).dev_info(BASE)["customer_id"]
        != a["customer_id"]
    )
    assert a["domain"] == PRIMARY_DOMAIN
    assert a["admin_email"] == ADMIN.email
    assert [u["id"] for u in one.list_users()] == [u["id"] for u in two.list_users()]


# ----- OAuth ----------------------------------------------------------------------------------


def test_offline_code_flow_gives_refresh_token_and_verifiable_id_token(google: Google) -> None:
    tokens = google.tokens()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3599
    assert tokens["refresh_token"]
    assert set(tokens["scope"].split()) == {
        "openid",
        "https://www.googleapis.com/auth/userinfo.email",
        "https://www.googleapis.com/auth/userinfo.profile",
        DIRECTORY_USER_READONLY,
    }
    keys = KeySet.import_key_set(google.http.get("/oauth2/v3/certs").json())
    claims = jwt.decode(tokens["id_token"], keys, algorithms=["RS256"]).claims
    jwt.JWTClaimsRegistry(now=int(CLOCK_START), exp={"essential": True}).validate(claims)
    assert claims["aud"] == google.info["oauth_client_id"]
    assert claims["iss"] == google.info["issuer"]
    assert claims["email"] == ADMIN.email
    assert claims["email_verified"] is True
    assert claims["hd"] == PRIMARY_DOMAIN


def test_refresh_does_not_rotate(google: Google) -> None:
    refresh = google.tokens()["refresh_token"]
    for _ in range(3):
        response = google.token({"grant_type": "refresh_token", "refresh_token": refresh})
        assert response.status_code == 200, response.text
        assert "refresh_token" not in response.json()
        assert (
            google.http.get("/v1/userinfo", headers=bearer(response.json()["access_token"])).status_code
            == 200
        )


def test_refresh_token_only_on_first_offline_consent_or_prompt_consent(google: Google) -> None:
    first = google.tokens()["refresh_token"]
    assert "refresh_token" not in google.tokens()
    assert "refresh_token" not in google.tokens(offline=False, prompt="consent")
    again = google.tokens(prompt="consent")["refresh_token"]
    assert again != first
    assert google.token({"grant_type": "refresh_token", "refresh_token": first}).status_code == 200


def test_online_access_gives_no_refresh_token(google: Google) -> None:
    assert "refresh_token" not in google.tokens(offline=False)


def test_refresh_tokens_beyond_the_limit_revoke_the_oldest() -> None:
    google = Google(max_refresh_tokens=2)
    tokens = [google.tokens(prompt="consent")["refresh_token"] for _ in range(3)]
    oldest = google.token({"grant_type": "refresh_token", "refresh_token": tokens[0]})
    assert oldest.json() == {
        "error": "invalid_grant",
        "error_description": "Token has been expired or revoked.",
    }
    assert google.token({"grant_type": "refresh_token", "refresh_token": tokens[2]}).status_code == 200


def test_code_errors_use_googles_bodies(google: Google) -> None:
    code = google.code()
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    assert google.token(data).status_code == 200
    reused = google.token(data)
    assert reused.status_code == 400
    assert reused.json() == {"error": "invalid_grant", "error_description": "Bad Request"}
    late = google.code()
    google.sim.advance_clock(601)
    assert google.token({**data, "code": late}).json()["error"] == "invalid_grant"
    mismatch = google.token({**data, "code": google.code(), "redirect_uri": CALLBACK + "/"})
    assert mismatch.json() == {"error": "redirect_uri_mismatch", "error_description": "Bad Request"}


def test_pkce_rules(google: Google) -> None:
    verifier, challenge = pkce_pair()
    data = {"grant_type": "authorization_code", "redirect_uri": CALLBACK}
    with_challenge = {"code_challenge": challenge, "code_challenge_method": "S256"}
    missing = google.token({**data, "code": google.code(**with_challenge)})
    assert missing.json() == {"error": "invalid_grant", "error_description": "Missing code verifier."}
    wrong = google.token({**data, "code": google.code(**with_challenge), "code_verifier": pkce_pair()[0]})
    assert wrong.json() == {"error": "invalid_grant", "error_description": "Invalid code verifier."}
    unneeded = google.token({**data, "code": google.code(), "code_verifier": verifier})
    assert unneeded.json()["error"] == "invalid_request"
    plain_verifier, plain_challenge = pkce_pair("plain")
    plain_code = google.code(code_challenge=plain_challenge, code_challenge_method="plain")
    assert google.token({**data, "code": plain_code, "code_verifier": plain_verifier}).status_code == 200


def test_client_authentication(google: Google) -> None:
    code = google.code()
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    wrong = google.http.post(
        "/token", data={**data, "client_id": google.info["oauth_client_id"], "client_secret": "x"}
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    unknown = google.http.post("/token", data={**data, "client_id": "nope", "client_secret": "x"})
    assert unknown.json() == {
        "error": "invalid_client",
        "error_description": "The OAuth client was not found.",
    }
    via_basic = google.http.post(
        "/token", data=data, headers=basic(google.info["oauth_client_id"], google.info["oauth_client_secret"])
    )
    assert via_basic.status_code == 200, via_basic.text
    grant = google.token({"grant_type": "password"})
    assert grant.json()["error"] == "unsupported_grant_type"


def test_authorize_validation_never_redirects_to_unregistered_uris(google: Google) -> None:
    for redirect in (CALLBACK + "/", "https://evil.example/cb"):
        page = google.http.get("/o/oauth2/v2/auth", params=google.params() | {"redirect_uri": redirect})
        assert page.status_code == 400
        assert "redirect_uri_mismatch" in page.text
        assert "Location" not in page.headers
    bad_scope = google.http.get("/o/oauth2/v2/auth", params=google.params("openid https://bogus/scope"))
    assert bad_scope.status_code == 400
    assert "invalid_scope" in bad_scope.text
    unknown = google.http.get("/o/oauth2/v2/auth", params=google.params() | {"client_id": "nope"})
    assert unknown.status_code == 401
    denied = redirect_params(sign_in(google.http, "/o/oauth2/v2/auth", google.params(), decision="deny"))
    assert denied == {"error": "access_denied", "state": "g-state"}


def test_prompt_none_without_a_prior_grant(google: Google) -> None:
    silent = google.http.get("/o/oauth2/v2/auth", params=google.params(prompt="none"))
    assert redirect_params(silent)["error"] == "login_required"
    hinted = google.params(prompt="none", login_hint=MEMBER.email)
    assert redirect_params(google.http.get("/o/oauth2/v2/auth", params=hinted))["error"] == "consent_required"
    google.code(user=MEMBER.email)
    assert "code" in redirect_params(google.http.get("/o/oauth2/v2/auth", params=hinted))


def test_hd_limits_the_account_chooser(google: Google) -> None:
    page = google.http.get("/o/oauth2/v2/auth", params=google.params(hd=PRIMARY_DOMAIN))
    assert ADMIN.email in page.text
    other = google.http.get("/o/oauth2/v2/auth", params=google.params(hd="other.example"))
    assert ADMIN.email not in other.text
    assert "No account of other.example" in other.text


def test_an_independent_oauth_client_can_complete_the_flow(google: Google) -> None:
    import authlib.deprecate  # noqa: F401 (installs authlib's "always" warning filter first)

    with warnings.catch_warnings():  # authlib's httpx integration warns about its own future
        warnings.simplefilter("ignore")
        from authlib.integrations.httpx_client import OAuth2Client
    verifier, challenge = pkce_pair()
    code = google.code(access_type="offline", code_challenge=challenge, code_challenge_method="S256")
    client = OAuth2Client(
        google.info["oauth_client_id"],
        google.info["oauth_client_secret"],
        token_endpoint_auth_method="client_secret_post",
        redirect_uri=CALLBACK,
        transport=httpx.WSGITransport(app=google.sim),
        base_url=BASE,
    )
    token = client.fetch_token(f"{BASE}/token", code=code, code_verifier=verifier)
    assert token["refresh_token"]
    refreshed = client.refresh_token(f"{BASE}/token", refresh_token=token["refresh_token"])
    assert refreshed["refresh_token"] == token["refresh_token"]  # authlib keeps it: Google sent none
    assert client.get(f"{BASE}/oauth2/v3/userinfo").json()["email"] == ADMIN.email
