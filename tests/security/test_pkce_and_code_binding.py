"""PKCE at our own token endpoint (anchors P1, P3, P4; RFC 7636, RFC 9700) and a code's client
binding checked before its replay handling (issue 7, 1d), through the real handler on moto."""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import decode_body

if TYPE_CHECKING:
    from tests.integration.token_fixtures import LinkedOu, TokenApi

pytest_plugins = ["tests.integration.token_fixtures"]

# RFC 7636 appendix B.
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def redeem(api: TokenApi, ou: LinkedOu, code: str, **extra: Any) -> dict[str, Any]:
    return api.token(
        ou.body(grant_type="authorization_code", code=code, redirect_uri=ou.redirect_uri, **extra)
    )


def error_of(response: dict[str, Any]) -> tuple[int, str]:
    return response["statusCode"], decode_body(response)["error"]


def works(api: TokenApi, access_token: str) -> bool:
    return int(api.get("/v1/userinfo", access_token)["statusCode"]) == 200


def test_the_rfc_7636_example_pair_matches() -> None:
    assert s256(VERIFIER) == CHALLENGE


def test_p1_a_code_with_a_challenge_redeems_with_its_verifier(api: TokenApi, ou: LinkedOu) -> None:
    code = ou.issue_code(code_challenge=CHALLENGE)
    response = redeem(api, ou, code, code_verifier=VERIFIER)
    ou.tokens_from(response)
    assert works(api, decode_body(response)["access_token"])


def test_p1_the_verifier_is_accepted_form_encoded_with_basic(api: TokenApi, ou: LinkedOu) -> None:
    verifier = "~." + "a" * 126  # 128 characters, the longest allowed
    code = ou.issue_code(code_challenge=s256(verifier))
    params = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": ou.redirect_uri,
        "code_verifier": verifier,
    }
    ou.tokens_from(api.token(params, form=True, basic=(ou.client_id, ou.client_secret)))


@pytest.mark.parametrize(
    "verifier",
    [None, "x" * 43, VERIFIER[:-1] + "9"],
    ids=["missing", "another-verifier", "one-character-off"],
)
def test_p1_a_missing_or_wrong_verifier_is_invalid_grant_and_keeps_the_code(
    api: TokenApi, ou: LinkedOu, verifier: str | None
) -> None:
    code = ou.issue_code(code_challenge=CHALLENGE)
    extra = {} if verifier is None else {"code_verifier": verifier}
    assert error_of(redeem(api, ou, code, **extra)) == (400, "invalid_grant")
    # The failed attempt did not consume the code: its rightful holder still redeems it.
    ou.tokens_from(redeem(api, ou, code, code_verifier=VERIFIER))


def test_p3_a_verifier_for_a_code_issued_without_a_challenge_is_invalid_grant(
    api: TokenApi, ou: LinkedOu
) -> None:
    code = ou.issue_code()
    assert error_of(redeem(api, ou, code, code_verifier=VERIFIER)) == (400, "invalid_grant")
    # Cronofy-style clients send neither a challenge nor a verifier: unchanged.
    ou.tokens_from(redeem(api, ou, code))


@pytest.mark.parametrize(
    "verifier",
    ["a" * 42, "a" * 129, VERIFIER[:-1] + "=", VERIFIER[:-1] + "é", VERIFIER[:-1] + " "],
    ids=["42-chars", "129-chars", "padding", "multibyte", "space"],
)
def test_p4_a_malformed_verifier_is_invalid_request(api: TokenApi, ou: LinkedOu, verifier: str) -> None:
    code = ou.issue_code(code_challenge=CHALLENGE)
    assert error_of(redeem(api, ou, code, code_verifier=verifier)) == (400, "invalid_request")
    ou.tokens_from(redeem(api, ou, code, code_verifier=VERIFIER))


def test_a_used_code_presented_by_another_client_revokes_nothing(api: TokenApi, ou: LinkedOu) -> None:
    code = ou.issue_code()
    mine = decode_body(redeem(api, ou, code))
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
    # Another client cannot use a code it saw to revoke the grant of the client it belongs to.
    assert works(api, mine["access_token"])
    refreshed = api.token(ou.body(grant_type="refresh_token", refresh_token=mine["refresh_token"]))
    ou.tokens_from(refreshed)
    # The replay by the code's own client still revokes (K1).
    assert error_of(redeem(api, ou, code)) == (400, "invalid_grant")
    assert not works(api, decode_body(refreshed)["access_token"])
