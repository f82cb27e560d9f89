"""The OAuth rules of anchors.md section C that the token endpoint and userinfo must keep, one
test per rule, named after it (K1-K5, R5, T1-T4, F1, F2, L3), through the real handlers on moto."""

from __future__ import annotations

import hmac
import logging
import secrets as stdlib_secrets
import string
from typing import TYPE_CHECKING, Any

import pytest

from orgconnect.domain import secrets
from orgconnect.domain.codes import OU_SCOPE, AuthorizationCode, GrantKind, new_code
from orgconnect.store.tokens import TokenStore, code_put
from tests.conftest import FakeContext, api_event, decode_body, header

if TYPE_CHECKING:
    from tests.integration.token_fixtures import Clock, LinkedOu, TokenApi

pytest_plugins = ["tests.integration.token_fixtures"]


def error_of(response: dict[str, Any]) -> tuple[int, str]:
    return response["statusCode"], decode_body(response)["error"]


def code_grant(api: TokenApi, ou: LinkedOu, code: str, **overrides: Any) -> dict[str, Any]:
    params = {"grant_type": "authorization_code", "code": code, "redirect_uri": ou.redirect_uri, **overrides}
    return api.token(ou.body(**params))


def refresh_grant(api: TokenApi, ou: LinkedOu, refresh_token: str, **client: str) -> dict[str, Any]:
    credentials = client or {"client_id": ou.client_id, "client_secret": ou.client_secret}
    return api.token({**credentials, "grant_type": "refresh_token", "refresh_token": refresh_token})


def works(api: TokenApi, access_token: str) -> bool:
    return int(api.get("/v1/userinfo", access_token)["statusCode"]) == 200


def test_k1_a_replayed_code_is_refused_and_revokes_the_tokens_issued_from_it(
    api: TokenApi, ou: LinkedOu
) -> None:
    code = ou.issue_code()
    first = decode_body(code_grant(api, ou, code))
    assert works(api, first["access_token"])

    assert error_of(code_grant(api, ou, code)) == (400, "invalid_grant")
    assert not works(api, first["access_token"])
    assert error_of(refresh_grant(api, ou, first["refresh_token"])) == (400, "invalid_grant")


def test_k2_an_expired_code_is_refused_even_before_ttl_deletion(
    api: TokenApi, ou: LinkedOu, clock: Clock
) -> None:
    expiring, late = ou.issue_code(ttl=600), ou.issue_code(ttl=600)
    clock.advance(599)
    ou.tokens_from(code_grant(api, ou, expiring))
    clock.advance(1)  # expires_at == now: DynamoDB's TTL has not deleted it (moto never does)
    assert error_of(code_grant(api, ou, late)) == (400, "invalid_grant")
    # Codes live at most 10 minutes: a longer one cannot even be issued.
    longer = AuthorizationCode(
        ou.client_id, ou.redirect_uri, GrantKind.ORGANIZATIONAL_UNIT, ou.ou_id, OU_SCOPE, 0, 601
    )
    with pytest.raises(ValueError, match="600 seconds"):
        code_put(ou.table, "digest", longer, "Acme")


def test_k3_a_code_is_bound_to_its_client(api: TokenApi, ou: LinkedOu) -> None:
    code = ou.issue_code()
    stolen = api.token(
        {
            "client_id": ou.other_client_id,
            "client_secret": ou.other_client_secret,
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": ou.redirect_uri,
        }
    )
    assert error_of(stolen) == (400, "invalid_grant")
    ou.tokens_from(code_grant(api, ou, code))


def test_k4_codes_and_tokens_are_unguessable(
    api: TokenApi, ou: LinkedOu, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every code and token handed out is what the CSPRNG (secrets.token_urlsafe) produced.
    minted: list[tuple[int | None, str]] = []
    real = stdlib_secrets.token_urlsafe

    def spy(nbytes: int | None = None) -> str:
        value = real(nbytes)
        minted.append((nbytes, value))
        return value

    monkeypatch.setattr(stdlib_secrets, "token_urlsafe", spy)
    code = ou.issue_code()
    first = decode_body(code_grant(api, ou, code))
    second = decode_body(refresh_grant(api, ou, first["refresh_token"]))
    by_value = {v: n for n, v in minted}
    assert by_value[code] == 24  # 192 bits
    for token in (
        first["access_token"],
        first["refresh_token"],
        second["access_token"],
        second["refresh_token"],
    ):
        assert by_value[token] * 8 >= 256
    # The shapes that follow from it.
    alphabet = set(string.ascii_letters + string.digits + "-_")
    samples = [new_code() for _ in range(500)]
    assert all(len(c) == 32 and set(c) <= alphabet for c in samples) and len(set(samples)) == 500
    tokens = [secrets.new_secret() for _ in range(500)]
    assert all(len(t) == 43 for t in tokens) and len(set(tokens)) == 500


@pytest.mark.every_dynamodb
def test_k5_fifty_parallel_redemptions_of_one_code_yield_one_success(api: TokenApi, ou: LinkedOu) -> None:
    code = ou.issue_code()
    results = api.in_parallel(
        ou.body(grant_type="authorization_code", code=code, redirect_uri=ou.redirect_uri), 50
    )
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [400] * 49
    assert {body["error"] for status, body in results if status == 400} == {"invalid_grant"}


def test_r5_the_redirect_uri_must_match_exactly(api: TokenApi, ou: LinkedOu) -> None:
    code = ou.issue_code()
    for variant in (
        ou.redirect_uri + "/",
        ou.redirect_uri + "?x=1",
        ou.redirect_uri.replace("app.example", "APP.example"),
        "https://app.example.evil/callback",
        "",
    ):
        response = code_grant(api, ou, code, redirect_uri=variant)
        assert response["statusCode"] == 400, variant
        assert decode_body(response)["error"] in {"invalid_grant", "invalid_request"}
    assert error_of(code_grant(api, ou, code, redirect_uri=ou.redirect_uri + "/")) == (400, "invalid_grant")
    ou.tokens_from(code_grant(api, ou, code))


def test_t1_client_secrets_are_checked_in_constant_time_and_basic_is_supported(
    api: TokenApi, ou: LinkedOu, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[int] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append(1)
        return real(a, b)

    monkeypatch.setattr(secrets.hmac, "compare_digest", spy)
    wrong = api.token(ou.body(grant_type="refresh_token", refresh_token="x", client_secret="wrong"))
    assert error_of(wrong) == (401, "invalid_client")
    assert header(wrong, "WWW-Authenticate") == 'Basic realm="orgconnect"'
    assert compared  # the secret went through hmac.compare_digest
    basic = api.token(
        {"grant_type": "authorization_code", "code": ou.issue_code(), "redirect_uri": ou.redirect_uri},
        form=True,
        basic=(ou.client_id, ou.client_secret),
    )
    ou.tokens_from(basic)


def test_t2_token_responses_are_never_cached(api: TokenApi, ou: LinkedOu) -> None:
    answers = [
        code_grant(api, ou, ou.issue_code()),  # 200
        code_grant(api, ou, "unknown"),  # 400 invalid_grant
        api.token(ou.body()),  # 400 invalid_request
        api.token(ou.body(grant_type="password")),  # 400 unsupported_grant_type
        api.token({"grant_type": "refresh_token", "refresh_token": "x"}),  # 401 invalid_client
        api.revoke(ou.body(token="x")),  # 200 revocation
        api.revoke({"token": "x"}),  # 401 on revocation
    ]
    assert [a["statusCode"] for a in answers] == [200, 400, 400, 400, 401, 200, 401]
    for answer in answers:
        assert header(answer, "Cache-Control") == "no-store"
        assert header(answer, "Pragma") == "no-cache"


@pytest.mark.parametrize(
    "params",
    [
        {"grant_type": "password", "username": "admin", "password": "admin"},
        {"grant_type": "client_credentials"},
        {"grant_type": "implicit"},
        {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": "x"},
    ],
    ids=["password", "client_credentials", "implicit", "jwt-bearer"],
)
def test_t3_only_authorization_code_and_refresh_token_grants(
    api: TokenApi, ou: LinkedOu, params: dict[str, str]
) -> None:
    assert error_of(api.token(ou.body(**params))) == (400, "unsupported_grant_type")
    # An implicit-style request (response_type=token) is no grant at all.
    assert error_of(api.token(ou.body(response_type="token"))) == (400, "invalid_request")


def test_t4_tokens_are_never_read_from_urls(
    api: TokenApi, ou: LinkedOu, capfd: pytest.CaptureFixture[str]
) -> None:
    issued = api.redeem(ou)
    assert (
        api.get("/v1/userinfo", None, query={"access_token": [issued["access_token"]]})["statusCode"] == 401
    )
    # The token endpoint reads only the body: parameters in the query string are ignored.
    code = ou.issue_code()
    query = {
        k: [v]
        for k, v in ou.body(grant_type="authorization_code", code=code, redirect_uri=ou.redirect_uri).items()
    }
    in_url = api.token_handler(api_event("POST", "/oauth/token", query=query, raw_body=""), FakeContext())
    assert error_of(in_url) == (400, "invalid_request")
    # The revocation endpoint does not read its token from the query string either.
    revocation = api_event(
        "POST", "/oauth/token/revoke", query={"token": [issued["access_token"]]}, body=ou.body()
    )
    assert error_of(api.token_handler(revocation, FakeContext())) == (400, "invalid_request")
    assert works(api, issued["access_token"])
    assert "access_token=" not in capfd.readouterr().out


def test_f1_a_refresh_token_is_bound_to_its_client(api: TokenApi, ou: LinkedOu) -> None:
    first = api.redeem(ou)
    stolen = refresh_grant(
        api, ou, first["refresh_token"], client_id=ou.other_client_id, client_secret=ou.other_client_secret
    )
    assert error_of(stolen) == (400, "invalid_grant")
    # Refreshing needs client authentication at all.
    anonymous = api.token({"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert error_of(anonymous) == (401, "invalid_client")
    # Neither attempt harmed the grant.
    ou.tokens_from(refresh_grant(api, ou, first["refresh_token"]))


def test_f2_a_retired_refresh_token_revokes_the_whole_grant(api: TokenApi, ou: LinkedOu) -> None:
    first = api.redeem(ou)
    second = decode_body(refresh_grant(api, ou, first["refresh_token"]))
    assert works(api, second["access_token"])

    assert error_of(refresh_grant(api, ou, first["refresh_token"])) == (400, "invalid_grant")
    assert not works(api, first["access_token"])
    assert not works(api, second["access_token"])
    assert error_of(refresh_grant(api, ou, second["refresh_token"])) == (400, "invalid_grant")


def test_l3_no_code_token_or_secret_in_any_log_line(
    api: TokenApi,
    ou: LinkedOu,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from orgconnect.web import api as web_api

    caplog.set_level(logging.DEBUG)
    previous = web_api.logger.log_level
    web_api.logger.setLevel("DEBUG")
    try:
        code = ou.issue_code()
        first = decode_body(code_grant(api, ou, code))
        second = decode_body(refresh_grant(api, ou, first["refresh_token"]))
        refresh_grant(api, ou, first["refresh_token"])  # reuse: revokes
        code_grant(api, ou, code)  # replay
        api.token(
            ou.body(grant_type="refresh_token", refresh_token=second["refresh_token"], client_secret="bad")
        )
        api.token(
            raw_body="grant_type=x&grant_type=y",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        api.get("/v1/userinfo", second["access_token"])
        api.get("/v1/userinfo", None, query={"access_token": [second["access_token"]]})
        api.revoke(ou.body(token=second["refresh_token"]))
        # An unexpected failure is logged with its stack trace: still no secret in it.
        monkeypatch.setattr(TokenStore, "load_for_refresh", _explode)
        assert refresh_grant(api, ou, second["refresh_token"])["statusCode"] == 500
    finally:
        web_api.logger.setLevel(previous)
    captured = capfd.readouterr()
    logged = captured.out + captured.err + "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    assert "tokens issued" in logged  # the capture works
    for secret in (
        code,
        first["access_token"],
        first["refresh_token"],
        second["access_token"],
        second["refresh_token"],
        ou.client_secret,
    ):
        assert secret not in logged


def _explode(*_: object, **__: object) -> None:
    raise RuntimeError("storage exploded")


@pytest.mark.parametrize("function", ["TokenFunction", "UserinfoFunction"])
def test_l3_handlers_never_log_the_incoming_event(
    ou: LinkedOu,
    function: str,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Even where an operator turns Powertools' event logging on, the event (body, headers) stays out.
    from tests.integration.token_fixtures import load_token_handler

    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    handler = load_token_handler(function)
    code = ou.issue_code()
    body = ou.body(grant_type="authorization_code", code=code, redirect_uri=ou.redirect_uri)
    event = api_event(
        "POST", "/oauth/token", body=body, headers={"Authorization": "Bearer secret-bearer-value"}
    )
    handler(event, FakeContext())
    logged = capfd.readouterr()
    for secret in (code, ou.client_secret, "secret-bearer-value"):
        assert secret not in logged.out + logged.err
