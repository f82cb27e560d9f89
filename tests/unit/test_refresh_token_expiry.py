"""A refresh token's stated expiry (Webex's ``refresh_token_expires_in``): parsed at the code
exchange and at each refresh, kept when the provider does not restate it for the same token, and
read back from a secret written before the field existed."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from orgconnect.domain.model import ProviderApp
from orgconnect.domain.provider_model import ProviderTokens, Purpose
from orgconnect.providers import answers
from orgconnect.providers.answers import TokenAnswer
from orgconnect.providers.google import GoogleApi
from orgconnect.providers.webex import WebexApi, WebexProvider
from orgconnect.providers.zoom import ZoomApi

NOW = 1_700_000_000
NINETY_DAYS = 90 * 86_400
BASE = "https://provider.test"
APP = ProviderApp("client-1", "secret-1")


def answer(**fields: Any) -> TokenAnswer:
    return TokenAnswer.model_validate({"access_token": "at-1", **fields})


def test_a_stated_lifetime_counts_from_when_the_answer_came() -> None:
    tokens = answer(refresh_token="rt-1", expires_in=14_400, refresh_token_expires_in=NINETY_DAYS).tokens(
        now=NOW
    )
    assert tokens.expires_at == NOW + 14_400
    assert tokens.refresh_expires_at == NOW + NINETY_DAYS


def test_no_statement_keeps_the_held_expiry_only_while_the_refresh_token_is_the_same() -> None:
    held = ProviderTokens("at-0", "rt-0", NOW, refresh_expires_at=NOW + 100)
    same = answer(refresh_token="rt-0").tokens(keep_refresh_token="rt-0", held=held, now=NOW)
    omitted = answer().tokens(keep_refresh_token="rt-0", held=held, now=NOW)  # Google omits it
    rotated = answer(refresh_token="rt-1").tokens(keep_refresh_token="rt-0", held=held, now=NOW)
    assert same.refresh_expires_at == omitted.refresh_expires_at == NOW + 100
    assert (rotated.refresh_token, rotated.refresh_expires_at) == ("rt-1", None)  # a new one: unknown
    assert answer(refresh_token="rt-1").tokens(now=NOW).refresh_expires_at is None


@pytest.mark.parametrize("junk", ["soon", -5, True, None, [1], 1e400])
def test_a_junk_lifetime_reads_as_not_stated_and_the_tokens_are_kept(junk: Any) -> None:
    tokens = answer(refresh_token="rt-1", refresh_token_expires_in=junk).tokens(now=NOW)
    assert (tokens.access_token, tokens.refresh_token, tokens.refresh_expires_at) == ("at-1", "rt-1", None)


def test_a_lifetime_sent_as_a_string_of_digits_is_read() -> None:
    assert answer(refresh_token_expires_in="7776000").tokens(now=NOW).refresh_expires_at == NOW + NINETY_DAYS


def test_the_secret_round_trip_and_a_secret_written_before_the_field() -> None:
    tokens = ProviderTokens("at", "rt", NOW + 10, "spark:people_read", refresh_expires_at=NOW + NINETY_DAYS)
    assert ProviderTokens.from_dict(tokens.to_dict()) == tokens
    old = {"access_token": "at", "refresh_token": "rt", "expires_at": NOW + 10, "scope": None}
    assert ProviderTokens.from_dict(old) == ProviderTokens("at", "rt", NOW + 10, None)
    odd = ProviderTokens.from_dict({**old, "refresh_expires_at": True, "expires_at": "tomorrow"})
    assert (odd.expires_at, odd.refresh_expires_at) == (None, None)


def test_expired_and_expiring_by_our_clock() -> None:
    tokens = ProviderTokens("at", "rt", refresh_expires_at=NOW)
    assert tokens.refresh_expired(NOW) and not tokens.refresh_expired(NOW - 1)
    assert tokens.refresh_expires_within(NOW - 60, 60) and not tokens.refresh_expires_within(NOW - 61, 60)
    unknown = ProviderTokens("at", "rt")
    assert not unknown.refresh_expired(NOW) and not unknown.refresh_expires_within(NOW, 10**9)


def token_transport(body: dict[str, Any], seen: list[dict[str, list[str]]]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(parse_qs(request.read().decode()))
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handle)


def test_webex_code_exchange_keeps_the_stated_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(answers, "time", SimpleNamespace(time=lambda: float(NOW)))  # the exchange's clock
    body = {
        "access_token": "at-1",
        "expires_in": 14_400,
        "refresh_token": "rt-1",
        "refresh_token_expires_in": NINETY_DAYS,
        "token_type": "Bearer",
    }
    seen: list[dict[str, list[str]]] = []
    provider = WebexProvider(APP, base_url=BASE, transport=token_transport(body, seen))
    tokens = provider.exchange_code(
        purpose=Purpose.CONFERENCING, code="code-1", redirect_uri=f"{BASE}/cb", code_verifier="v" * 43
    )
    assert seen[0]["grant_type"] == ["authorization_code"]
    assert (tokens.refresh_token, tokens.refresh_expires_at) == ("rt-1", NOW + NINETY_DAYS)
    assert ProviderTokens.from_dict(tokens.to_dict()) == tokens  # as sealed, then stored


def api(cls: type[WebexApi | GoogleApi | ZoomApi], tokens: ProviderTokens, body: dict[str, Any]) -> Any:
    seen: list[dict[str, list[str]]] = []
    return cls(APP, tokens, base_url=BASE, transport=token_transport(body, seen), clock=lambda: float(NOW))


def test_webex_refresh_restates_the_expiry_of_the_same_refresh_token() -> None:
    held = ProviderTokens("at-0", "rt-0", NOW - 1, refresh_expires_at=NOW + 3600)
    body = {"access_token": "at-1", "refresh_token": "rt-0", "refresh_token_expires_in": NINETY_DAYS}
    tokens = api(WebexApi, held, body).refresh()
    assert (tokens.refresh_token, tokens.refresh_expires_at) == ("rt-0", NOW + NINETY_DAYS)


def test_a_refresh_that_does_not_restate_it_keeps_or_forgets_it() -> None:
    held = ProviderTokens("at-0", "rt-0", NOW - 1, refresh_expires_at=NOW + 3600)
    kept = api(GoogleApi, held, {"access_token": "at-1"}).refresh()
    rotated = api(ZoomApi, held, {"access_token": "at-1", "refresh_token": "rt-1"}).refresh()
    assert (kept.refresh_token, kept.refresh_expires_at) == ("rt-0", NOW + 3600)
    assert (rotated.refresh_token, rotated.refresh_expires_at) == ("rt-1", None)
