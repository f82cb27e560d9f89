"""The Microsoft 365 simulator (Entra ID + Graph + Teams) behaves like providers.md section 3 says."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from devstack.servers import serve_wsgi
from devstack.simulators.demo import SECONDARY_DOMAIN, build_demo_directory
from devstack.simulators.microsoft import MicrosoftSimulator
from devstack.simulators.microsoft_graph import GLOBAL_ADMIN_TEMPLATE_ID
from devstack.simulators.provider_kit import decode_jwt_unverified
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


@pytest.fixture
def ms() -> Iterator[Ms]:
    harness = Ms()
    yield harness
    harness.http.close()


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


# ----- dev_info and determinism ---------------------------------------------------------------


def test_dev_info_is_deterministic_per_seed() -> None:
    one, two = MicrosoftSimulator(DEMO, seed=7), MicrosoftSimulator(DEMO, seed=7)
    other = MicrosoftSimulator(build_demo_directory(seed=8), seed=8)
    a, b, c = one.dev_info(BASE), two.dev_info(BASE), other.dev_info(BASE)
    assert a["tenant_id"] == b["tenant_id"]
    assert a["oauth_client_secret"] == b["oauth_client_secret"]
    assert a["tenant_id"] != c["tenant_id"]
    assert a["oauth_client_id"] != c["oauth_client_id"]
    uuid.UUID(a["tenant_id"])
    assert a["tenant_domain"] == SECONDARY_DOMAIN
    assert SECONDARY_DOMAIN in a["tenant_domains"]
    assert a["admin_email"] == ADMIN.email
    assert a["token_url"] == f"{BASE}/{a['tenant_id']}/oauth2/v2.0/token"
    assert [u["userPrincipalName"] for u in one.list_users()] == [
        u["userPrincipalName"] for u in two.list_users()
    ]


# ----- authorization code flow ----------------------------------------------------------------


def test_code_flow_with_pkce_issues_tokens_and_a_verifiable_id_token(ms: Ms) -> None:
    tokens = ms.user_tokens()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 3599
    assert tokens["ext_expires_in"] == 3599
    assert "refresh_token" in tokens
    jwks = ms.http.get(f"/{ms.tenant}/discovery/v2.0/keys").json()
    claims = jwt.decode(tokens["id_token"], KeySet.import_key_set(jwks), algorithms=["RS256"]).claims
    jwt.JWTClaimsRegistry(now=int(CLOCK_START), exp={"essential": True}).validate(claims)
    assert claims["aud"] == ms.info["oauth_client_id"]
    assert claims["iss"] == ms.info["issuer"]
    assert claims["tid"] == ms.tenant
    assert claims["preferred_username"] == ADMIN.email
    assert claims["email"] == ADMIN.email
    me = ms.http.get("/v1.0/me", headers=bearer(tokens["access_token"])).json()
    assert claims["oid"] == me["id"]
    access = decode_jwt_unverified(tokens["access_token"])
    assert access["aud"] == "https://graph.microsoft.com"
    assert access["tid"] == ms.tenant
    assert "User.Read" in access["scp"].split()


def test_discovery_document_points_at_this_simulator(ms: Ms) -> None:
    doc = ms.http.get(f"/{ms.tenant}/v2.0/.well-known/openid-configuration").json()
    assert doc["issuer"] == ms.info["issuer"]
    assert doc["token_endpoint"] == ms.info["token_url"]
    assert doc["jwks_uri"] == ms.info["jwks_uri"]


def test_basic_client_auth_also_works_but_not_both_methods_at_once(ms: Ms) -> None:
    verifier, challenge = pkce_pair()
    code = redirect_params(ms.authorize(code_challenge=challenge, code_challenge_method="S256"))["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
    }
    assert ms.token(data, auth="basic").status_code == 200
    both = ms.http.post(
        f"/{ms.tenant}/oauth2/v2.0/token",
        data={**data, "client_secret": ms.info["oauth_client_secret"]},
        headers=basic(ms.info["oauth_client_id"], ms.info["oauth_client_secret"]),
    )
    assert both.status_code == 400


def test_wrong_pkce_verifier_is_refused_and_spends_the_code(ms: Ms) -> None:
    _, challenge = pkce_pair()
    code = redirect_params(ms.authorize(code_challenge=challenge, code_challenge_method="S256"))["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    assert_aadsts(ms.token({**data, "code_verifier": pkce_pair()[0]}), 400, "invalid_grant", 501481)
    assert_aadsts(ms.token({**data, "code_verifier": pkce_pair()[0]}), 400, "invalid_grant", 54005)


def test_code_is_single_use_and_expires(ms: Ms) -> None:
    code = redirect_params(ms.authorize())["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    assert ms.token(data).status_code == 200
    assert_aadsts(ms.token(data), 400, "invalid_grant", 54005)
    late = redirect_params(ms.authorize())["code"]
    ms.sim.advance_clock(601)
    assert_aadsts(ms.token({**data, "code": late}), 400, "invalid_grant", 70008)
    assert_aadsts(ms.token({**data, "code": "not-a-code"}), 400, "invalid_grant", 9002313)


def test_token_redirect_uri_must_equal_the_authorize_one(ms: Ms) -> None:
    code = redirect_params(ms.authorize())["code"]
    response = ms.token({"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK + "/"})
    assert_aadsts(response, 400, "invalid_grant", 50011)


def test_client_authentication_errors(ms: Ms) -> None:
    data = {"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"}
    bad = ms.http.post(
        f"/{ms.tenant}/oauth2/v2.0/token",
        data={**data, "client_id": ms.info["oauth_client_id"], "client_secret": "wrong"},
    )
    assert_aadsts(bad, 401, "invalid_client", 7000215)
    missing = ms.http.post(
        f"/{ms.tenant}/oauth2/v2.0/token", data={**data, "client_id": ms.info["oauth_client_id"]}
    )
    assert_aadsts(missing, 401, "invalid_client", 7000218)
    unknown = ms.http.post(
        f"/{ms.tenant}/oauth2/v2.0/token", data={**data, "client_id": "nope", "client_secret": "x"}
    )
    assert_aadsts(unknown, 400, "unauthorized_client", 700016)
    assert_aadsts(ms.token({"scope": "x"}), 400, "invalid_request", 900144)
    assert_aadsts(ms.token({"grant_type": "password"}), 400, "unsupported_grant_type", 70003)
    assert_aadsts(ms.token(data, tenant="no-such-tenant.example"), 400, "invalid_request", 90002)


def test_authorize_never_redirects_to_an_unregistered_uri(ms: Ms) -> None:
    for redirect in (CALLBACK + "/", CALLBACK.upper(), "https://evil.example/cb"):
        params = ms.authorize_params("openid User.Read") | {"redirect_uri": redirect}
        page = ms.http.get(f"/{ms.tenant}/oauth2/v2.0/authorize", params=params)
        assert page.status_code == 400
        assert "Location" not in page.headers
        assert "AADSTS50011" in page.text
    unknown_client = ms.authorize_params("openid") | {"client_id": "nope"}
    page = ms.http.get(f"/{ms.tenant}/oauth2/v2.0/authorize", params=unknown_client)
    assert page.status_code == 400
    assert "AADSTS700016" in page.text


def test_authorize_errors_redirect_with_state(ms: Ms) -> None:
    denied = redirect_params(
        sign_in(
            ms.http,
            f"/{ms.tenant}/oauth2/v2.0/authorize",
            ms.authorize_params("openid User.Read"),
            decision="deny",
        )
    )
    assert denied["error"] == "access_denied"
    assert denied["state"] == "st-42"
    assert denied["error_description"].startswith("AADSTS65004")
    silent = ms.http.get(
        f"/{ms.tenant}/oauth2/v2.0/authorize", params=ms.authorize_params("openid", prompt="none")
    )
    assert redirect_params(silent)["error"] == "login_required"
    bad_scope = ms.http.get(f"/{ms.tenant}/oauth2/v2.0/authorize", params=ms.authorize_params("Bogus.Scope"))
    assert redirect_params(bad_scope)["error"] == "invalid_scope"
    token_flow = ms.http.get(
        f"/{ms.tenant}/oauth2/v2.0/authorize",
        params=ms.authorize_params("openid") | {"response_type": "token"},
    )
    assert redirect_params(token_flow)["error"] == "unsupported_response_type"


def test_sign_in_page_offers_tenant_users_and_preselects_the_admin(ms: Ms) -> None:
    page = ms.http.get(f"/{ms.tenant}/oauth2/v2.0/authorize", params=ms.authorize_params("openid"))
    for person in TENANT_PEOPLE:
        assert person.email in page.text
    assert re.search(r"<option value=\"[^\"]+\" selected>[^<]*" + re.escape(ADMIN.email), page.text)


# ----- admin vs non-admin ---------------------------------------------------------------------


def test_non_admin_cannot_consent_to_admin_only_scopes(ms: Ms) -> None:
    refused = redirect_params(ms.authorize("openid User.Read.All", user=NON_ADMIN.email))
    assert refused["error"] == "access_denied"
    assert refused["error_description"].startswith("AADSTS90094")
    tokens = ms.user_tokens("openid User.Read", user=NON_ADMIN.email)
    me = ms.http.get("/v1.0/me", headers=bearer(tokens["access_token"]))
    assert me.json()["userPrincipalName"] == NON_ADMIN.email
    listing = ms.http.get("/v1.0/users", headers=bearer(tokens["access_token"]))
    assert_graph_error(listing, 403, "Authorization_RequestDenied")


def test_global_admin_is_visible_through_member_of_and_directory_roles(ms: Ms) -> None:
    admin = ms.user_tokens("openid User.Read User.Read.All")["access_token"]
    other = ms.user_tokens("openid User.Read", user=NON_ADMIN.email)["access_token"]
    admin_roles = ms.http.get("/v1.0/me/memberOf", headers=bearer(admin)).json()["value"]
    assert [r["roleTemplateId"] for r in admin_roles] == [GLOBAL_ADMIN_TEMPLATE_ID]
    assert admin_roles[0]["@odata.type"] == "#microsoft.graph.directoryRole"
    assert ms.http.get("/v1.0/me/memberOf", headers=bearer(other)).json()["value"] == []
    members = ms.http.get(
        f"/v1.0/directoryRoles(roleTemplateId='{GLOBAL_ADMIN_TEMPLATE_ID}')/members", headers=bearer(admin)
    ).json()["value"]
    assert [m["userPrincipalName"] for m in members] == [ADMIN.email]
    roles = ms.http.get("/v1.0/directoryRoles", headers=bearer(admin)).json()["value"]
    assert {r["roleTemplateId"] for r in roles} >= {GLOBAL_ADMIN_TEMPLATE_ID}
    assert len(roles) > 1  # a caller must match the template id, not take the first role
    assert "wids" in decode_jwt_unverified(admin)
    assert "wids" not in decode_jwt_unverified(other)


# ----- refresh ----------------------------------------------------------------------------------


def test_refresh_rotates_and_keeps_the_old_token_valid_by_default(ms: Ms) -> None:
    first = ms.user_tokens()["refresh_token"]
    refreshed = ms.token({"grant_type": "refresh_token", "refresh_token": first})
    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.json()["refresh_token"]
    assert second != first
    assert ms.token({"grant_type": "refresh_token", "refresh_token": first}).status_code == 200
    assert ms.http.get("/v1.0/me", headers=bearer(refreshed.json()["access_token"])).status_code == 200


def test_refresh_reuse_can_be_made_strict() -> None:
    ms = Ms(revoke_redeemed_refresh_tokens=True)
    first = ms.user_tokens()["refresh_token"]
    assert ms.token({"grant_type": "refresh_token", "refresh_token": first}).status_code == 200
    assert_aadsts(
        ms.token({"grant_type": "refresh_token", "refresh_token": first}), 400, "invalid_grant", 50173
    )


def test_refresh_token_needs_offline_access_and_expires(ms: Ms) -> None:
    assert "refresh_token" not in ms.user_tokens("openid User.Read")
    refresh = ms.user_tokens()["refresh_token"]
    ms.sim.advance_clock(90 * 86400 + 1)
    assert_aadsts(
        ms.token({"grant_type": "refresh_token", "refresh_token": refresh}), 400, "invalid_grant", 700082
    )


def test_disabled_user_cannot_refresh(ms: Ms) -> None:
    refresh = ms.user_tokens(user=NON_ADMIN.email)["refresh_token"]
    ms.sim.update_user(NON_ADMIN.email, {"account_enabled": False})
    assert_aadsts(
        ms.token({"grant_type": "refresh_token", "refresh_token": refresh}), 400, "invalid_grant", 50057
    )


# ----- admin consent and client credentials ----------------------------------------------------


def test_admin_consent_then_client_credentials(ms: Ms) -> None:
    before = ms.token({"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"})
    assert_aadsts(before, 400, "unauthorized_client", 700016)
    answer = redirect_params(ms.admin_consent())
    assert answer == {
        "tenant": ms.tenant,
        "state": "consent-1",
        "admin_consent": "True",
        "scope": "https://graph.microsoft.com/.default",
    }
    response = ms.token({"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"})
    body = response.json()
    assert set(body) == {"token_type", "expires_in", "ext_expires_in", "access_token"}  # no refresh token
    claims = decode_jwt_unverified(body["access_token"])
    assert "User.Read.All" in claims["roles"]
    assert claims["idtyp"] == "app"
    assert claims["tid"] == ms.tenant
    users = ms.http.get("/v1.0/users", headers=bearer(body["access_token"]))
    assert users.status_code == 200
    me = ms.http.get("/v1.0/me", headers=bearer(body["access_token"]))
    assert_graph_error(me, 400, "BadRequest")


def test_admin_consent_refusals(ms: Ms) -> None:
    denied = redirect_params(ms.admin_consent(decision="deny"))
    assert denied["error"] == "consent_required"
    assert denied["error_description"].startswith("AADSTS65004")
    assert denied["state"] == "consent-1"
    assert "admin_consent" not in denied
    non_admin = redirect_params(ms.admin_consent(user=NON_ADMIN.email))
    assert non_admin["error"] == "consent_required"
    assert non_admin["error_description"].startswith("AADSTS90093")
    assert "tenant" not in non_admin
    strict = Ms(admin_consent_error="access_denied")
    assert redirect_params(strict.admin_consent(decision="deny"))["error"] == "access_denied"
    assert redirect_params(strict.admin_consent(user=NON_ADMIN.email))["error"] == "access_denied"


def test_v1_admin_consent_path_and_default_scope_consent(ms: Ms) -> None:
    params = {"client_id": ms.info["oauth_client_id"], "redirect_uri": CALLBACK, "state": "s"}
    answer = redirect_params(sign_in(ms.http, f"/{SECONDARY_DOMAIN}/adminconsent", params, user=ADMIN.email))
    assert answer["tenant"] == ms.tenant
    assert answer["admin_consent"] == "True"
    fresh = Ms()
    fresh.user_tokens(
        "openid https://graph.microsoft.com/.default"
    )  # an admin's .default consent is tenant-wide
    assert fresh.app_token()


def test_client_credentials_scope_and_tenant_rules(ms: Ms) -> None:
    redirect_params(ms.admin_consent())
    assert_aadsts(
        ms.token({"grant_type": "client_credentials", "scope": "User.Read.All"}),
        400,
        "invalid_scope",
        1002012,
    )
    common = ms.token(
        {"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"}, tenant="common"
    )
    assert_aadsts(common, 400, "invalid_request", 50059)
    by_domain = ms.token(
        {"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"},
        tenant=SECONDARY_DOMAIN,
    )
    assert by_domain.status_code == 200


# ----- Graph users ------------------------------------------------------------------------------


def test_users_paging_over_a_real_server_covers_everyone_once() -> None:
    sim = MicrosoftSimulator(DEMO, seed=7, clock=frozen_clock(), redirect_uris=[CALLBACK], preconsented=True)
    server = serve_wsgi(sim, name="ms-paging")
    try:
        info = sim.dev_info(server.url)
        with httpx.Client(timeout=10) as http:
            token = http.post(
                info["token_url"],
                data={
                    "grant_type": "client_credentials",
                    "scope": "https://graph.microsoft.com/.default",
                    "client_id": info["oauth_client_id"],
                    "client_secret": info["oauth_client_secret"],
                },
            ).json()["access_token"]
            url: str | None = f"{server.url}/v1.0/users?$top=3&$select=id,userPrincipalName"
            seen: list[str] = []
            pages = 0
            while url:
                page = http.get(url, headers=bearer(token))
                assert page.status_code == 200, page.text
                body = page.json()
                assert all(set(u) == {"id", "userPrincipalName"} for u in body["value"])
                seen += [u["userPrincipalName"] for u in body["value"]]
                url = body.get("@odata.nextLink")
                if url:
                    assert url.startswith(f"{server.url}/v1.0/users?")
                    assert "$skiptoken=" in url
                pages += 1
        assert sorted(seen) == sorted(p.email for p in TENANT_PEOPLE)
        assert len(seen) == len(set(seen))
        assert pages == -(-len(TENANT_PEOPLE) // 3)
    finally:
        server.stop()


def test_users_query_options(ms: Ms) -> None:
    redirect_params(ms.admin_consent())
    token = ms.app_token()

    def get(query: str) -> httpx.Response:
        return ms.http.get(f"/v1.0/users?{query}", headers=bearer(token))

    default = get("").json()["value"]
    assert set(default[0]) == {
        "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation",
        "preferredLanguage", "surname", "userPrincipalName", "id",
    }  # fmt: skip
    assert "@odata.nextLink" not in get("").json()
    assert_graph_error(get("$top=1000"), 400, "Request_BadRequest")
    assert "between 1 and 999" in get("$top=0").json()["error"]["message"]
    assert_graph_error(get("$skip=2"), 400, "Request_UnsupportedQuery")
    assert_graph_error(get("$select=id,favouriteColour"), 400, "Request_BadRequest")
    one = get(f"$filter=mail eq '{NON_ADMIN.email.upper()}'").json()["value"]
    assert [u["mail"] for u in one] == [NON_ADMIN.email]
    two = get(f"$filter=mail eq '{ADMIN.email}' or userPrincipalName eq '{NON_ADMIN.email}'").json()["value"]
    assert {u["mail"] for u in two} == {ADMIN.email, NON_ADMIN.email}
    prefix = ADMIN.first_name[:3].lower()
    started = get(f"$filter=startswith(givenName,'{prefix}')").json()["value"]
    assert started
    assert all(u["givenName"].lower().startswith(prefix) for u in started)
    listed = get(f"$filter=mail in ('{ADMIN.email}', 'nobody@{SECONDARY_DOMAIN}')").json()["value"]
    assert [u["mail"] for u in listed] == [ADMIN.email]
    assert_graph_error(get("$filter=mail ne 'x'"), 400, "Request_UnsupportedQuery")
    assert_graph_error(get("$filter=mail eq"), 400, "BadRequest")
    enabled = get("$filter=accountEnabled eq true&$select=accountEnabled").json()["value"]
    assert len(enabled) == len(TENANT_PEOPLE)


def test_skiptoken_is_bound_to_its_query(ms: Ms) -> None:
    redirect_params(ms.admin_consent())
    token = ms.app_token()
    first = ms.http.get("/v1.0/users?$top=2", headers=bearer(token)).json()
    skiptoken = first["@odata.nextLink"].split("$skiptoken=")[1]
    other = ms.http.get(f"/v1.0/users?$top=3&$skiptoken={skiptoken}", headers=bearer(token))
    assert_graph_error(other, 400, "Directory_ExpiredPageToken")


def test_get_user_by_id_or_upn_and_not_found(ms: Ms) -> None:
    redirect_params(ms.admin_consent())
    token = ms.app_token()
    by_upn = ms.http.get(f"/v1.0/users/{NON_ADMIN.email}", headers=bearer(token)).json()
    by_id = ms.http.get(f"/v1.0/users/{by_upn['id']}", headers=bearer(token)).json()
    assert by_id["userPrincipalName"] == NON_ADMIN.email
    assert by_id["id"] == by_upn["id"]
    missing = ms.http.get(f"/v1.0/users/ghost@{SECONDARY_DOMAIN}", headers=bearer(token))
    assert_graph_error(missing, 404, "Request_ResourceNotFound")


def test_graph_authentication_errors(ms: Ms) -> None:
    assert_graph_error(ms.http.get("/v1.0/users"), 401, "InvalidAuthenticationToken")
    assert_graph_error(ms.http.get("/v1.0/me", headers=bearer("garbage")), 401, "InvalidAuthenticationToken")
    token = ms.user_tokens()["access_token"]
    ms.sim.advance_clock(3600)
    expired = ms.http.get("/v1.0/me", headers=bearer(token))
    assert "expired" in assert_graph_error(expired, 401, "InvalidAuthenticationToken")["message"]
    assert "WWW-Authenticate" in expired.headers


def test_rate_limit_answers_429_with_retry_after_seconds() -> None:
    ms = Ms(rate_limit_per_second=2)
    token = ms.user_tokens()["access_token"]
    assert ms.http.get("/v1.0/me", headers=bearer(token)).status_code == 200
    assert ms.http.get("/v1.0/me", headers=bearer(token)).status_code == 200
    limited = ms.http.get("/v1.0/me", headers=bearer(token))
    assert_graph_error(limited, 429, "TooManyRequests")
    assert int(limited.headers["Retry-After"]) >= 1
    ms.sim.advance_clock(1)
    assert ms.http.get("/v1.0/me", headers=bearer(token)).status_code == 200


# ----- control API and faults -----------------------------------------------------------------


def test_control_api_add_rename_remove_reach_graph(ms: Ms) -> None:
    redirect_params(ms.admin_consent())
    token = ms.app_token()
    added = ms.http.post(
        "/_sim/users",
        json={"email": f"new.person@{SECONDARY_DOMAIN}", "first_name": "New", "last_name": "Person"},
    )
    assert added.status_code == 201, added.text
    user_id = added.json()["user"]["id"]
    assert ms.http.get(f"/v1.0/users/new.person@{SECONDARY_DOMAIN}", headers=bearer(token)).status_code == 200
    outside = ms.http.post("/_sim/users", json={"email": "someone@example.com"})
    assert outside.status_code == 400
    renamed = ms.http.patch(
        f"/_sim/users/new.person@{SECONDARY_DOMAIN}", json={"email": f"np@{SECONDARY_DOMAIN}"}
    )
    assert renamed.json()["user"]["id"] == user_id
    assert (
        ms.http.get(f"/v1.0/users/{user_id}", headers=bearer(token)).json()["mail"]
        == f"np@{SECONDARY_DOMAIN}"
    )
    assert ms.http.delete(f"/_sim/users/np@{SECONDARY_DOMAIN}").status_code == 204
    assert_graph_error(
        ms.http.get(f"/v1.0/users/{user_id}", headers=bearer(token)), 404, "Request_ResourceNotFound"
    )


def test_removed_user_tokens_stop_working(ms: Ms) -> None:
    token = ms.user_tokens(user=NON_ADMIN.email)["access_token"]
    ms.sim.remove_user(NON_ADMIN.email)
    assert_graph_error(ms.http.get("/v1.0/me", headers=bearer(token)), 401, "InvalidAuthenticationToken")


def test_injected_faults_use_microsoft_shapes(ms: Ms) -> None:
    refresh = ms.user_tokens()["refresh_token"]
    ms.http.post("/_sim/faults", json={"target": "token", "kind": "invalid_grant", "count": 1})
    assert_aadsts(
        ms.token({"grant_type": "refresh_token", "refresh_token": refresh}), 400, "invalid_grant", 50173
    )
    ms.http.post("/_sim/faults", json={"target": "token", "kind": "500", "count": 1})
    assert ms.token({"grant_type": "refresh_token", "refresh_token": refresh}).status_code == 500
    assert ms.token({"grant_type": "refresh_token", "refresh_token": refresh}).status_code == 200
    token = ms.user_tokens()["access_token"]
    ms.http.post("/_sim/faults", json={"target": "api", "kind": "429", "count": 1})
    limited = ms.http.get("/v1.0/me", headers=bearer(token))
    assert_graph_error(limited, 429, "TooManyRequests")
    assert limited.headers["Retry-After"] == "5"
    ms.http.post("/_sim/faults", json={"target": "api", "kind": "503", "count": 1})
    assert_graph_error(ms.http.get("/v1.0/me", headers=bearer(token)), 503, "serviceNotAvailable")


def test_reset_restores_the_seeded_tenant(ms: Ms) -> None:
    redirect_params(ms.admin_consent())
    ms.sim.remove_user(NON_ADMIN.email)
    before_ids = {u["id"] for u in MicrosoftSimulator(DEMO, seed=7).list_users()}
    assert ms.http.post("/_sim/reset").status_code == 200
    assert {u["id"] for u in ms.sim.list_users()} == before_ids
    again = ms.token({"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"})
    assert_aadsts(again, 400, "unauthorized_client", 700016)  # consent is tenant state: reset clears it


def test_options_switches_at_run_time(ms: Ms) -> None:
    answer = ms.http.patch("/_sim/options", json={"admin_consent_error": "access_denied"})
    assert answer.status_code == 200
    assert answer.json()["options"]["admin_consent_error"] == "access_denied"
    assert redirect_params(ms.admin_consent(decision="deny"))["error"] == "access_denied"
    assert ms.http.patch("/_sim/options", json={"no_such_switch": 1}).status_code == 400


# ----- Teams ------------------------------------------------------------------------------------


def test_teams_meeting_for_a_user_with_an_app_token(ms: Ms) -> None:
    redirect_params(ms.admin_consent())
    token = ms.app_token()
    user = ms.http.get(f"/v1.0/users/{NON_ADMIN.email}", headers=bearer(token)).json()
    created = ms.http.post(
        f"/v1.0/users/{user['id']}/onlineMeetings",
        headers=bearer(token),
        json={
            "subject": "Interview",
            "startDateTime": "2024-01-01T10:00:00Z",
            "endDateTime": "2024-01-01T11:00:00Z",
        },
    )
    assert created.status_code == 201, created.text
    meeting = created.json()
    assert meeting["joinWebUrl"].startswith("https://teams.microsoft.com/l/meetup-join/")
    assert meeting["participants"]["organizer"]["identity"]["user"]["id"] == user["id"]
    assert meeting["subject"] == "Interview"
    ms.sim.apply_options({"teams_application_access_policy": False})
    refused = ms.http.post(f"/v1.0/users/{user['id']}/onlineMeetings", headers=bearer(token), json={})
    assert_graph_error(refused, 403, "General")


def test_teams_meeting_with_a_delegated_token_only_for_oneself(ms: Ms) -> None:
    token = ms.user_tokens("openid User.Read OnlineMeetings.ReadWrite", user=NON_ADMIN.email)["access_token"]
    assert (
        ms.http.post("/v1.0/me/onlineMeetings", headers=bearer(token), json={"subject": "1:1"}).status_code
        == 201
    )
    admin_id = next(u["id"] for u in ms.sim.list_users() if u["isGlobalAdmin"])
    other = ms.http.post(f"/v1.0/users/{admin_id}/onlineMeetings", headers=bearer(token), json={})
    assert other.status_code == 403
