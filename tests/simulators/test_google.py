"""The Google Workspace simulator (OAuth, OpenID, Directory API, Meet) behaves like Google."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from devstack.simulators.demo import PRIMARY_DOMAIN, build_demo_directory
from devstack.simulators.google import DIRECTORY_USER_READONLY, MEET_CREATED, GoogleSimulator
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


@pytest.fixture
def google() -> Iterator[Google]:
    harness = Google()
    yield harness
    harness.http.close()


def google_error(response: httpx.Response, status: int, reason: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = dict(response.json()["error"])
    assert error["code"] == status
    assert isinstance(error["message"], str)
    assert isinstance(error["status"], str)
    if reason is not None:
        assert error["errors"][0]["reason"] == reason
    return error


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


# ----- userinfo, tokeninfo, revoke -----------------------------------------------------------


def test_userinfo_on_both_paths(google: Google) -> None:
    token = google.tokens(offline=False)["access_token"]
    for path in ("/v1/userinfo", "/oauth2/v3/userinfo"):
        info = google.http.get(path, headers=bearer(token)).json()
        user_id = next(u["id"] for u in google.sim.list_users() if u["primaryEmail"] == ADMIN.email)
        assert info["sub"] == user_id
        assert info["email"] == ADMIN.email
        assert info["email_verified"] is True
        assert info["hd"] == PRIMARY_DOMAIN
        assert info["name"] == ADMIN.display_name
    narrow = google.tokens("openid", offline=False)["access_token"]
    assert "email" not in google.http.get("/v1/userinfo", headers=bearer(narrow)).json()
    assert google.http.get("/oauth2/v3/userinfo").json() == {
        "error": "invalid_request",
        "error_description": "Invalid Credentials",
    }
    google_error(google.http.get("/v1/userinfo", headers=bearer("nope")), 401, None)


def test_tokeninfo_and_revoke(google: Google) -> None:
    tokens = google.tokens()
    info = google.http.get("/tokeninfo", params={"access_token": tokens["access_token"]}).json()
    assert info["aud"] == google.info["oauth_client_id"]
    assert DIRECTORY_USER_READONLY in info["scope"].split()
    assert info["access_type"] == "offline"
    assert google.http.post("/revoke", data={"token": tokens["refresh_token"]}).status_code == 200
    refreshed = google.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert refreshed.json() == {
        "error": "invalid_grant",
        "error_description": "Token has been expired or revoked.",
    }
    google_error(google.directory(tokens["access_token"], customer="my_customer"), 401, "authError")
    assert google.http.post("/revoke", data={"token": tokens["refresh_token"]}).status_code == 400


# ----- Directory API --------------------------------------------------------------------------


@pytest.mark.parametrize("selector", [{"customer": "my_customer"}, {"domain": PRIMARY_DOMAIN}])
def test_users_list_pages_cover_every_user_once(google: Google, selector: dict[str, str]) -> None:
    token = google.tokens(offline=False)["access_token"]
    seen: list[str] = []
    page_token: str | None = None
    pages = 0
    while True:
        params = {**selector, "maxResults": "7"} | ({"pageToken": page_token} if page_token else {})
        body = google.directory(token, **params).json()
        assert body["kind"] == "admin#directory#users"
        seen += [u["primaryEmail"] for u in body["users"]]
        pages += 1
        page_token = body.get("nextPageToken")
        if not page_token:
            break
    assert sorted(seen) == sorted(p.email for p in PEOPLE)
    assert len(seen) == len(set(seen))
    assert pages == -(-len(PEOPLE) // 7)


def test_users_list_parameters(google: Google) -> None:
    token = google.tokens(offline=False)["access_token"]
    default = google.directory(token, customer=google.info["customer_id"]).json()
    assert len(default["users"]) == min(100, len(PEOPLE))
    google_error(google.directory(token, customer="my_customer", maxResults="501"), 400, "invalid")
    assert (
        "[1, 500]"
        in google.directory(token, customer="my_customer", maxResults="0").json()["error"]["message"]
    )
    google_error(google.directory(token), 400, "badRequest")
    google_error(google.directory(token, domain="other.example"), 403, "forbidden")
    admins = google.directory(token, customer="my_customer", query="isAdmin=true").json()["users"]
    assert [u["primaryEmail"] for u in admins] == [ADMIN.email]
    prefix = MEMBER.email[:4]
    started = google.directory(token, customer="my_customer", query=f"email:{prefix}*").json()["users"]
    assert MEMBER.email in [u["primaryEmail"] for u in started]
    assert all(u["primaryEmail"].startswith(prefix) for u in started)
    empty = google.directory(token, customer="my_customer", query="email:nobody*").json()
    assert "users" not in empty  # Google omits the key on an empty result
    google_error(google.directory(token, customer="my_customer", query="colour:blue"), 400, "invalid")
    by_email = google.directory(token, customer="my_customer", orderBy="email").json()["users"]
    assert [u["primaryEmail"] for u in by_email] == sorted(p.email for p in PEOPLE)[:100]
    desc = google.directory(token, customer="my_customer", orderBy="email", sortOrder="DESCENDING").json()[
        "users"
    ]
    assert [u["primaryEmail"] for u in desc] == sorted((p.email for p in PEOPLE), reverse=True)[:100]


def test_descending_pages_and_page_token_rules(google: Google) -> None:
    tokens = google.tokens()
    token = tokens["access_token"]
    seen: list[str] = []
    params = {
        "customer": "my_customer",
        "orderBy": "familyName",
        "sortOrder": "DESCENDING",
        "maxResults": "9",
    }
    page = google.directory(token, **params).json()
    seen += [u["primaryEmail"] for u in page["users"]]
    first_token = page["nextPageToken"]
    while "nextPageToken" in page:
        page = google.directory(token, **params, pageToken=page["nextPageToken"]).json()
        seen += [u["primaryEmail"] for u in page["users"]]
    assert sorted(seen) == sorted(p.email for p in PEOPLE)
    other_query = google.directory(token, customer="my_customer", maxResults="9", pageToken=first_token)
    google_error(other_query, 400, "invalid")
    google.sim.advance_clock(3 * 86400 + 1)
    token = google.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}).json()[
        "access_token"
    ]
    google_error(google.directory(token, **params, pageToken=first_token), 400, "invalid")


def test_non_admin_is_refused_the_admin_view(google: Google) -> None:
    token = google.tokens(user=MEMBER.email, offline=False)["access_token"]
    google_error(google.directory(token, customer="my_customer"), 403, "forbidden")
    google_error(google.directory(token, f"/{ADMIN.email}"), 403, "forbidden")
    public = google.directory(token, domain=PRIMARY_DOMAIN, viewType="domain_public").json()["users"]
    assert len(public) == len(PEOPLE)
    assert "isAdmin" not in public[0]


def test_users_get_is_admin_and_not_found(google: Google) -> None:
    token = google.tokens(offline=False)["access_token"]
    admin = google.directory(token, f"/{ADMIN.email}").json()
    assert admin["isAdmin"] is True
    assert admin["name"] == {
        "givenName": ADMIN.first_name,
        "familyName": ADMIN.last_name,
        "fullName": ADMIN.display_name,
    }
    member = google.directory(token, f"/{MEMBER.email.upper()}").json()
    assert member["isAdmin"] is False
    assert member["suspended"] is False
    assert google.directory(token, f"/{member['id']}").json()["primaryEmail"] == MEMBER.email
    missing = google.directory(token, f"/ghost@{PRIMARY_DOMAIN}")
    assert google_error(missing, 404, "notFound")["message"] == "Resource Not Found: userKey"


def test_directory_needs_the_directory_scope(google: Google) -> None:
    token = google.tokens("openid email", offline=False)["access_token"]
    google_error(google.directory(token, customer="my_customer"), 403, "insufficientPermissions")
    google_error(google.directory("not-a-token", customer="my_customer"), 401, "authError")


def test_rate_limit_answers_rate_limit_exceeded() -> None:
    google = Google(rate_limit_per_second=2)
    token = google.tokens(offline=False)["access_token"]
    assert google.directory(token, f"/{ADMIN.email}").status_code == 200
    assert google.directory(token, f"/{ADMIN.email}").status_code == 200
    error = google_error(google.directory(token, f"/{ADMIN.email}"), 429, "rateLimitExceeded")
    assert error["status"] == "RESOURCE_EXHAUSTED"
    google.sim.advance_clock(1)
    assert google.directory(token, f"/{ADMIN.email}").status_code == 200


# ----- control API ----------------------------------------------------------------------------


def test_rename_keeps_the_old_address_as_an_alias(google: Google) -> None:
    token = google.tokens(offline=False)["access_token"]
    before = google.directory(token, f"/{MEMBER.email}").json()
    new_email = f"renamed.person@{PRIMARY_DOMAIN}"
    assert google.http.patch(f"/_sim/users/{MEMBER.email}", json={"email": new_email}).status_code == 200
    after = google.directory(token, f"/{MEMBER.email}").json()
    assert after["id"] == before["id"]
    assert after["primaryEmail"] == new_email
    assert MEMBER.email in after["aliases"]


def test_suspended_and_removed_users(google: Google) -> None:
    token = google.tokens(offline=False)["access_token"]
    google.sim.update_user(MEMBER.email, {"status": "suspended"})
    assert google.directory(token, f"/{MEMBER.email}").json()["suspended"] is True
    refused = sign_in(google.http, "/o/oauth2/v2/auth", google.params(), user=MEMBER.email)
    assert refused.status_code == 403
    member_token = Google().tokens(user=MEMBER.email, offline=False)["access_token"]
    assert member_token
    removed = Google()
    own = removed.tokens(user=MEMBER.email, offline=False)["access_token"]
    assert removed.http.delete(f"/_sim/users/{MEMBER.email}").status_code == 204
    google_error(removed.http.get("/v1/userinfo", headers=bearer(own)), 401, None)
    added = removed.http.post("/_sim/users", json={"email": f"fresh.face@{PRIMARY_DOMAIN}"})
    assert added.status_code == 201
    assert removed.http.post("/_sim/users", json={"email": "x@subsidiary.example"}).status_code == 400


def test_injected_faults(google: Google) -> None:
    refresh = google.tokens()["refresh_token"]
    google.http.post("/_sim/faults", json={"target": "token", "kind": "invalid_grant"})
    assert google.token({"grant_type": "refresh_token", "refresh_token": refresh}).json() == {
        "error": "invalid_grant",
        "error_description": "Token has been expired or revoked.",
    }
    token = google.token({"grant_type": "refresh_token", "refresh_token": refresh}).json()["access_token"]
    google.http.post("/_sim/faults", json={"target": "api", "kind": "429"})
    google_error(google.directory(token, customer="my_customer"), 429, "rateLimitExceeded")
    google.http.post("/_sim/faults", json={"target": "api", "kind": "500"})
    google_error(google.directory(token, customer="my_customer"), 500, "backendError")
    assert google.directory(token, customer="my_customer").status_code == 200


# ----- Meet ------------------------------------------------------------------------------------


def test_meet_space_creation(google: Google) -> None:
    token = google.tokens(f"openid email {MEET_CREATED}", user=MEMBER.email, offline=False)["access_token"]
    created = google.http.post("/v2/spaces", headers=bearer(token), json={})
    assert created.status_code == 200, created.text
    space = created.json()
    assert re.fullmatch(r"[a-z]{3}-[a-z]{4}-[a-z]{3}", space["meetingCode"])
    assert space["meetingUri"] == f"https://meet.google.com/{space['meetingCode']}"
    fetched = google.http.get(f"/v2/{space['name']}", headers=bearer(token))
    assert fetched.json() == space
    no_scope = google.tokens("openid email", offline=False)["access_token"]
    google_error(
        google.http.post("/v2/spaces", headers=bearer(no_scope), json={}), 403, "insufficientPermissions"
    )
