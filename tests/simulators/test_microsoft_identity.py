"""The Microsoft simulator: sign-in, consent, token endpoint and discovery (providers.md 3)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from devstack.simulators.demo import SECONDARY_DOMAIN, build_demo_directory
from devstack.simulators.microsoft import MicrosoftSimulator
from devstack.simulators.microsoft_graph import GLOBAL_ADMIN_TEMPLATE_ID
from devstack.simulators.provider_kit import decode_jwt_unverified
from tests.simulators._microsoft_harness import (
    ADMIN,
    BASE,
    CALLBACK,
    DEMO,
    NON_ADMIN,
    TENANT_PEOPLE,
    Ms,
    assert_aadsts,
    assert_graph_error,
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
def ms() -> Iterator[Ms]:
    harness = Ms()
    yield harness
    harness.http.close()


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
