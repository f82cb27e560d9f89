"""Registering a calendar service account (the operator CLI's create-service-account)."""

from __future__ import annotations

import pytest

from orgconnect.domain.clients import register_client
from orgconnect.domain.errors import InvalidRequest
from orgconnect.domain.model import CalendarProvider
from orgconnect.domain.secrets import SecretHasher
from orgconnect.domain.service_accounts import register_service_account
from tests.fakes import InMemoryStore


@pytest.mark.parametrize(
    ("domain", "admin_email"),
    [
        ("example.com", "it@example.com\n"),
        ("exa mple.com", None),
        ("-bad.example", None),
        ("example.com", "no-at"),
    ],
)
def test_a_malformed_domain_or_admin_email_is_refused(domain: str, admin_email: str | None) -> None:
    store = InMemoryStore()
    client = register_client(
        name="Acme",
        redirect_uris=["https://app.example/cb"],
        store=store,
        hasher=SecretHasher(b"p" * 32),
        now=0,
    )
    with pytest.raises(InvalidRequest):
        register_service_account(
            client_id=client.client.client_id,
            provider=CalendarProvider.GOOGLE_WORKSPACE,
            domain=domain,
            admin_email=admin_email,
            clients=store,
            store=store,
            now=0,
        )
