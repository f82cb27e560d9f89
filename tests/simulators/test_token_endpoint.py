"""The token-endpoint checks every simulator shares (token_endpoint.py): the rules, not a provider."""

from __future__ import annotations

import base64

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from devstack.simulators.clock import SimClock
from devstack.simulators.oauth_state import CodeStore, OAuthApp, TokenStore, pkce_challenge
from devstack.simulators.token_endpoint import (
    ClientAuthRules,
    CodeExchangeRules,
    Refusal,
    TokenRequestRefused,
    authenticate_token_client,
    redeem_authorization_code,
)

CALLBACK = "http://127.0.0.1:8000/cb"
VERIFIER = "v" * 43
APPS = {
    "app": OAuthApp("app", "secret", [CALLBACK]),
    "other": OAuthApp("other", "other-secret", [CALLBACK]),
    "s2s": OAuthApp("s2s", "s2s-secret", kind="server_to_server"),
}
FALLBACK = Refusal("invalid_client", "client {client_id} failed", 401)


def _request(
    form: dict[str, str], *, basic: tuple[str, str] | None = None, header: str | None = None
) -> Request:
    headers = {}
    if basic is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
    if header is not None:
        headers["Authorization"] = header
    return Request(EnvironBuilder(method="POST", data=form, headers=headers).get_environ())


def _auth(
    rules: ClientAuthRules,
    form: dict[str, str],
    *,
    basic: tuple[str, str] | None = None,
    header: str | None = None,
) -> str:
    request = _request(form, basic=basic, header=header)
    try:
        return authenticate_token_client(request, form, APPS, rules).client_id
    except TokenRequestRefused as refused:
        return refused.problem


BASIC_OR_BODY = ClientAuthRules(methods=frozenset({"basic", "body"}), fallback=FALLBACK)


def test_client_authentication_by_basic_or_body() -> None:
    assert _auth(BASIC_OR_BODY, {}, basic=("app", "secret")) == "app"
    assert _auth(BASIC_OR_BODY, {"client_id": "app", "client_secret": "secret"}) == "app"
    assert _auth(BASIC_OR_BODY, {"client_id": "app"}) == "missing_secret"
    assert _auth(BASIC_OR_BODY, {}) == "missing_client_id"
    assert _auth(BASIC_OR_BODY, {"client_id": "nobody", "client_secret": "x"}) == "unknown_client"
    assert _auth(BASIC_OR_BODY, {"client_id": "s2s", "client_secret": "s2s-secret"}) == "unknown_client"
    assert _auth(BASIC_OR_BODY, {"client_id": "app", "client_secret": "wrong"}) == "bad_secret"
    # RFC 6749 section 2.3: one method only.
    assert _auth(BASIC_OR_BODY, {"client_secret": "secret"}, basic=("app", "secret")) == "auth_conflict"


def test_both_methods_as_a_provider_allows_them() -> None:
    same = ClientAuthRules(methods=frozenset({"basic", "body"}), both="same_client", fallback=FALLBACK)
    assert _auth(same, {"client_id": "app", "client_secret": "x"}, basic=("app", "secret")) == "app"
    assert (
        _auth(same, {"client_id": "other", "client_secret": "x"}, basic=("app", "secret")) == "auth_conflict"
    )
    basic_wins = ClientAuthRules(methods=frozenset({"basic"}), both="basic", fallback=FALLBACK)
    assert _auth(basic_wins, {"client_secret": "ignored"}, basic=("app", "secret")) == "app"


def test_a_method_the_provider_does_not_take_is_refused() -> None:
    basic_only = ClientAuthRules(methods=frozenset({"basic"}), oauth_apps_only=False, fallback=FALLBACK)
    assert _auth(basic_only, {"client_id": "app", "client_secret": "secret"}) == "wrong_auth_method"
    assert _auth(basic_only, {"client_id": "app"}) == "no_credentials"
    assert _auth(basic_only, {}, basic=("s2s", "s2s-secret")) == "s2s"
    body_only = ClientAuthRules(methods=frozenset({"body"}), fallback=FALLBACK)
    assert _auth(body_only, {"client_id": "app", "client_secret": "secret"}, basic=("app", "secret")) == (
        "wrong_auth_method"
    )
    assert _auth(body_only, {"client_id": "app", "client_secret": "secret"}, header="Bearer x") == (
        "wrong_auth_method"
    )


def test_refusal_descriptions_name_the_client() -> None:
    request = _request({"client_id": "nobody", "client_secret": "x"})
    with pytest.raises(TokenRequestRefused) as caught:
        authenticate_token_client(request, {"client_id": "nobody", "client_secret": "x"}, APPS, BASIC_OR_BODY)
    assert caught.value.refusal == Refusal("invalid_client", "client nobody failed", 401)


class Exchange:
    """A code store, a token store and a clock that only moves when told."""

    def __init__(self, rules: CodeExchangeRules) -> None:
        self.clock = SimClock(lambda: 1_700_000_000.0)
        self.codes = CodeStore(self.clock)
        self.tokens = TokenStore(self.clock)
        self.rules = rules

    def code(self, *, challenge: str | None = None, grant_id: str = "g1") -> str:
        return self.codes.issue_for_request(
            {"code_challenge": challenge},
            client_id="app",
            redirect_uri=CALLBACK,
            subject="u1",
            ttl_seconds=300,
            extra={"grant_id": grant_id},
        ).code

    def redeem(self, code: str, client_id: str = "app", **params: str) -> str:
        form = {"code": code, "redirect_uri": CALLBACK, **params}
        try:
            redeem_authorization_code(form, client_id, self.codes, self.tokens, self.rules)
        except TokenRequestRefused as refused:
            return refused.problem
        return "ok"


PLAIN = CodeExchangeRules(fallback=Refusal("invalid_grant", "no"))


def test_codes_are_single_use_expire_and_need_the_same_redirect_uri() -> None:
    ex = Exchange(PLAIN)
    code = ex.code()
    assert ex.redeem(code, redirect_uri=CALLBACK + "/") == "redirect_uri_mismatch"
    assert ex.redeem(code) == "used_code"  # a refused redemption spends the code too
    late = ex.code()
    ex.clock.advance(300)
    assert ex.redeem(late) == "expired_code"
    assert ex.redeem("") == "missing_code"
    assert ex.redeem("never-issued") == "unknown_code"
    assert ex.redeem(ex.code(), redirect_uri="") == "redirect_uri_mismatch"


def test_a_required_redirect_uri_is_checked_before_the_code_is_spent() -> None:
    ex = Exchange(CodeExchangeRules(fallback=Refusal("invalid_grant", "no"), redirect_uri_required=True))
    code = ex.code()
    assert ex.redeem(code, redirect_uri="") == "missing_redirect_uri"
    assert ex.redeem(code) == "ok"


def test_pkce_is_verified_and_an_empty_verifier_counts_as_absent() -> None:
    ex = Exchange(PLAIN)
    challenge = pkce_challenge(VERIFIER, "plain")
    assert ex.redeem(ex.code(challenge=challenge)) == "verifier_missing"
    assert ex.redeem(ex.code(challenge=challenge), code_verifier="w" * 43) == "verifier_mismatch"
    assert ex.redeem(ex.code(challenge=challenge), code_verifier=VERIFIER) == "ok"
    assert ex.redeem(ex.code(), code_verifier=VERIFIER) == "verifier_unexpected"
    assert ex.redeem(ex.code(), code_verifier="") == "ok"


def test_replay_revokes_the_grant_only_for_the_client_the_code_belongs_to() -> None:
    ex = Exchange(CodeExchangeRules(fallback=Refusal("invalid_grant", "no"), revoke_on_replay=True))
    code = ex.code(grant_id="g1")
    assert ex.redeem(code) == "ok"
    token = ex.tokens.mint("access", client_id="app", subject="u1", ttl_seconds=60, grant_id="g1")
    # Another client replaying the code is refused before replay handling: nothing is revoked.
    assert ex.redeem(code, client_id="other") == "wrong_client"
    assert ex.tokens.valid(token.value, "access") is not None
    assert ex.redeem(code) == "used_code"
    assert ex.tokens.valid(token.value, "access") is None


def test_refusals_fall_back_and_fill_in_the_redirect_uri() -> None:
    rules = CodeExchangeRules(
        fallback=Refusal("invalid_grant", "generic"),
        refusals={"redirect_uri_mismatch": Refusal("invalid_grant", "'{redirect_uri}' differs", 400, 50011)},
    )
    ex = Exchange(rules)
    form = {"code": ex.code(), "redirect_uri": "http://evil.example/{client_id}"}
    with pytest.raises(TokenRequestRefused) as caught:
        redeem_authorization_code(form, "app", ex.codes, ex.tokens, rules)
    assert caught.value.refusal == Refusal(
        "invalid_grant", "'http://evil.example/{client_id}' differs", 400, 50011
    )
    with pytest.raises(TokenRequestRefused) as caught:
        redeem_authorization_code({"code": "x"}, "app", ex.codes, ex.tokens, rules)
    assert caught.value.refusal.description == "generic"
