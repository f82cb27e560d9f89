"""The OAuth rules of anchors.md section C that the token endpoint and userinfo must keep, one
test per rule, named after it (K1-K5, R5, T1-T4, F1, F2, L3), through the real handlers on moto."""

from __future__ import annotations

import ast
import hmac
import inspect
import logging
import re
import string
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from orgconnect.domain import codes, secrets, tokens
from orgconnect.domain.codes import OU_SCOPE, AuthorizationCode, GrantKind, new_code
from orgconnect.store.tokens import TokenStore, code_put
from tests.conftest import FakeContext, api_event, decode_body, header

if TYPE_CHECKING:
    from tests.integration.token_fixtures import Clock, LinkedOu, TokenApi

pytest_plugins = ["tests.integration.token_fixtures"]

ROOT = Path(__file__).resolve().parents[2]
TOKEN_SOURCES = [
    ROOT / "layers/orgconnect/orgconnect/domain/tokens.py",
    ROOT / "layers/orgconnect/orgconnect/domain/codes.py",
    ROOT / "layers/orgconnect/orgconnect/store/tokens.py",
    ROOT / "layers/orgconnect/orgconnect/web/oauth_requests.py",
    ROOT / "functions/token/app.py",
    ROOT / "functions/userinfo/app.py",
]


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
    assert code_grant(api, ou, expiring)["statusCode"] == 200
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
    assert code_grant(api, ou, code)["statusCode"] == 200


def test_k4_codes_and_tokens_are_unguessable() -> None:
    # Static: secrets come from the secrets module (CSPRNG), never from random or uuid.
    for path in [*TOKEN_SOURCES, ROOT / "layers/orgconnect/orgconnect/domain/secrets.py"]:
        tree = ast.parse(path.read_text())
        imported = {
            a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
        }
        imported |= {
            n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
        }
        assert not imported & {"random", "uuid"}, path
    assert "secrets.token_urlsafe(nbytes)" in inspect.getsource(secrets.new_secret)
    assert secrets.SECRET_BYTES * 8 >= 256
    assert "secrets.token_urlsafe(24)" in inspect.getsource(codes.new_code)  # 192 bits
    assert "new_secret()" in inspect.getsource(tokens._issue_grant)
    assert "new_secret()" in inspect.getsource(tokens._rotate)
    # Dynamic: the shapes that follow from it.
    alphabet = set(string.ascii_letters + string.digits + "-_")
    samples = [new_code() for _ in range(500)]
    assert all(len(c) == 32 and set(c) <= alphabet for c in samples) and len(set(samples)) == 500
    minted = [secrets.new_secret() for _ in range(500)]
    assert all(len(t) == 43 for t in minted) and len(set(minted)) == 500


def test_k5_fifty_parallel_redemptions_of_one_code_yield_one_success(
    api: TokenApi, ou: LinkedOu, serialized_dynamodb: None
) -> None:
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
    assert code_grant(api, ou, code)["statusCode"] == 200


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
    assert basic["statusCode"] == 200


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
    # Static: no handler of ours looks for a token in the query string except to refuse it.
    for path in TOKEN_SOURCES:
        source = path.read_text()
        uses = [m.start() for m in re.finditer(r"query_string_parameters", source)]
        if path.name == "app.py" and "userinfo" in str(path):
            assert uses, "userinfo refuses ?access_token= explicitly"
        else:
            assert not uses, path
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
    assert refresh_grant(api, ou, first["refresh_token"])["statusCode"] == 200


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
    # Handlers never log the incoming event either: tests/unit/test_tracing.py (observed).


def _explode(*_: object, **__: object) -> None:
    raise RuntimeError("storage exploded")
