"""Credential shapes checked before storage (issue 7, 1g), PKCE verification (RFC 7636) and the
code's client binding before replay handling (1d), in the domain over the in-memory repository."""

from __future__ import annotations

import pytest

from orgconnect.domain.client_authentication import ClientCredentials
from orgconnect.domain.credential_syntax import (
    is_bearer_credential,
    is_id,
    is_subject,
    is_vschar_credential,
)
from orgconnect.domain.errors import AuthenticationFailed
from orgconnect.domain.oauth_errors import InvalidClient, InvalidGrant, InvalidOAuthRequest
from orgconnect.domain.pkce import is_code_verifier, s256_challenge, verifier_matches
from orgconnect.domain.revocation import revoke
from orgconnect.domain.tokens import authenticate_access_token
from tests.unit.token_doubles import HASHER, NOW, InMemoryTokens, add_client, is_live, issue_code, redeem

OVERSIZED = "a" * 3000
MULTIBYTE = "é" * 1100
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 appendix B


@pytest.fixture
def store() -> InMemoryTokens:
    return InMemoryTokens()


@pytest.mark.parametrize("value", [OVERSIZED, MULTIBYTE, "", "a\nb", None, 12], ids=repr)
def test_values_that_cannot_be_credentials(value: object) -> None:
    assert not is_vschar_credential(value)
    assert not is_bearer_credential(value)


def test_credential_shapes() -> None:
    assert is_vschar_credential("a b~!" * 10) and is_vschar_credential("x" * 512)
    assert not is_vschar_credential("x" * 513)
    assert is_bearer_credential("3A5SrdVsnoM0RmKfO0I2bXIfE5mlkdB47ZDezyzFr28") and is_bearer_credential(
        "ab+/=="
    )
    assert not is_bearer_credential("a b") and not is_bearer_credential("=ab")


def test_id_shapes() -> None:
    assert is_id("cli_0123456789abcdef01234567", "cli") and is_subject("ou_0123456789abcdef01234567")
    for bad in (
        "cli_0123456789abcdef01234567\n",
        "cli_0123456789ABCDEF01234567",
        "ser_0123456789abcdef01234567",
    ):
        assert not is_id(bad, "cli")
    assert not is_subject("ou_" + "é" * 24) and not is_subject(OVERSIZED)


@pytest.mark.parametrize("secret", [OVERSIZED, MULTIBYTE], ids=["3000-chars", "multibyte"])
def test_malformed_client_credentials_are_refused_before_any_read(store: InMemoryTokens, secret: str) -> None:
    client = add_client(store)
    for credentials in (
        ClientCredentials(client.client_id, secret),
        ClientCredentials(secret, client.client_secret),
    ):
        with pytest.raises(InvalidClient):
            redeem(store, credentials, "code")
    assert store.reads == 0


@pytest.mark.parametrize("value", [OVERSIZED, MULTIBYTE], ids=["3000-chars", "multibyte"])
def test_malformed_codes_tokens_and_subs_are_refused_before_any_read(
    store: InMemoryTokens, value: str
) -> None:
    client = add_client(store)
    with pytest.raises(InvalidOAuthRequest):
        redeem(store, client, value)
    for params in ({"token": value, "sub": None}, {"token": None, "sub": value}):
        with pytest.raises(InvalidOAuthRequest):
            revoke(client, **params, store=store, hasher=HASHER, now=NOW)
    with pytest.raises(AuthenticationFailed) as refused:
        authenticate_access_token(value, store=store, hasher=HASHER, now=NOW)
    assert refused.value.credentials_presented
    assert store.reads == 0


def test_a_missing_bearer_token_is_told_apart_from_a_refused_one(store: InMemoryTokens) -> None:
    with pytest.raises(AuthenticationFailed) as missing:
        authenticate_access_token(None, store=store, hasher=HASHER, now=NOW)
    assert not missing.value.credentials_presented


def test_s256_and_verifier_shapes() -> None:
    assert s256_challenge(VERIFIER) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert verifier_matches(VERIFIER, s256_challenge(VERIFIER))
    assert not verifier_matches("b" * 43, s256_challenge(VERIFIER))
    assert is_code_verifier("a" * 43) and is_code_verifier("-._~" * 32)
    for bad in ("a" * 42, "a" * 129, "a" * 42 + "=", "a" * 42 + "é", "a" * 43 + "\n"):
        assert not is_code_verifier(bad)


def test_a_code_with_a_challenge_needs_its_verifier(store: InMemoryTokens) -> None:
    client = add_client(store)
    code = issue_code(store, client, code_challenge=s256_challenge(VERIFIER))
    for wrong in (None, "b" * 43):
        with pytest.raises(InvalidGrant):
            redeem(store, client, code, code_verifier=wrong)
    with pytest.raises(InvalidOAuthRequest):
        redeem(store, client, code, code_verifier="short")
    assert is_live(store, redeem(store, client, code, code_verifier=VERIFIER).access_token)


def test_a_verifier_for_a_code_without_a_challenge_is_refused(store: InMemoryTokens) -> None:
    client = add_client(store)
    code = issue_code(store, client)
    with pytest.raises(InvalidGrant, match="without a code_challenge"):
        redeem(store, client, code, code_verifier=VERIFIER)
    assert redeem(store, client, code).sub.startswith("ou_")


def test_another_client_presenting_a_used_code_revokes_nothing(store: InMemoryTokens) -> None:
    owner, other = add_client(store), add_client(store)
    code = issue_code(store, owner)
    tokens = redeem(store, owner, code)
    with pytest.raises(InvalidGrant, match="another client"):
        redeem(store, other, code)
    assert is_live(store, tokens.access_token)
    assert store.grants[tokens.grant_id].revoked_at is None
