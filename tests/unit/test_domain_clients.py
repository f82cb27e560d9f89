"""Client registration (R3) and API-key authentication (T1-style constant-time lookup)."""

from __future__ import annotations

import pytest

from orgconnect.domain.clients import (
    authenticate_api_key,
    bearer_token,
    register_client,
    validate_redirect_uri,
)
from orgconnect.domain.errors import AuthenticationFailed, InvalidRequest
from orgconnect.domain.model import ConferencingCategory
from orgconnect.domain.secrets import SecretHasher
from tests.fakes import InMemoryStore

HASHER = SecretHasher(b"p" * 32)


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example/callback",
        "https://app.example:8443/cb?tenant=1",
        "http://127.0.0.1:4011/callback",
        "http://localhost:3000/cb",
        "http://[::1]:3000/cb",
    ],
)
def test_r3_accepts_https_and_loopback_http(uri: str) -> None:
    assert validate_redirect_uri(uri) == uri


@pytest.mark.parametrize(
    "uri",
    [
        "http://app.example/callback",
        "https://app.example/cb#frag",
        "https://app.example/cb#",
        "/relative/cb",
        "app.example/cb",
        "javascript:alert(1)",
        "ftp://app.example/cb",
        "https://user:pass@app.example/cb",
        "http://10.0.0.1/cb",
    ],
)
def test_r3_rejects_non_https_fragments_and_relative_uris(uri: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        validate_redirect_uri(uri)
    assert raised.value.errors[0].field == "redirect_uri"


def test_registration_stores_only_a_digest_of_the_secret() -> None:
    store = InMemoryStore()
    created = register_client(
        name=" Acme ", redirect_uris=["https://a.example/cb"], store=store, hasher=HASHER, now=1
    )
    client = store.clients[created.client.client_id]
    assert client.name == "Acme"
    assert created.client_secret not in repr(client)
    assert client.secret_digest == HASHER.digest("client_secret", created.client_secret)
    assert client.categories == (ConferencingCategory.GENERAL,)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"name": "  "}, "name"), ({"redirect_uris": []}, "redirect_uri"), ({"categories": []}, "categories")],
)
def test_registration_needs_name_uri_and_category(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"name": "Acme", "redirect_uris": ["https://a.example/cb"], **kwargs}
    with pytest.raises(InvalidRequest) as raised:
        register_client(**args, store=InMemoryStore(), hasher=HASHER, now=1)  # type: ignore[arg-type]
    assert raised.value.errors[0].field == field


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer abc", "abc"),
        ("bearer abc", "abc"),
        ("  Bearer   abc  ", "abc"),
        ("Bearer", None),
        ("Bearer ", None),
        ("Basic abc", None),
        ("Bearer a b", None),
        (None, None),
        ("", None),
    ],
)
def test_bearer_token_parsing(header: str | None, expected: str | None) -> None:
    assert bearer_token(header) == expected


def test_authenticates_the_right_client_and_refuses_everything_else() -> None:
    store = InMemoryStore()
    a = register_client(name="A", redirect_uris=["https://a.example/cb"], store=store, hasher=HASHER, now=1)
    b = register_client(name="B", redirect_uris=["https://b.example/cb"], store=store, hasher=HASHER, now=1)
    assert authenticate_api_key(a.client_secret, store=store, hasher=HASHER).client_id == a.client.client_id
    assert authenticate_api_key(b.client_secret, store=store, hasher=HASHER).client_id == b.client.client_id
    for wrong in (None, "", a.client_secret[:-1], a.client.client_id, "x" * 10_000):
        with pytest.raises(AuthenticationFailed):
            authenticate_api_key(wrong, store=store, hasher=HASHER)
    # A secret is worthless under another deployment's pepper.
    with pytest.raises(AuthenticationFailed):
        authenticate_api_key(a.client_secret, store=store, hasher=SecretHasher(b"q" * 32))
