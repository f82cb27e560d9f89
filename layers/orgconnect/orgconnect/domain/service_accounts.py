"""Enterprise Connect service accounts: registration by an operator (until Enterprise Connect lands)."""

from __future__ import annotations

import re

from orgconnect.domain.errors import InvalidRequest
from orgconnect.domain.model import CalendarProvider, ServiceAccount
from orgconnect.domain.ports import ClientStore, ServiceAccountStore
from orgconnect.domain.secrets import new_id

_DOMAIN = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def is_domain_name(value: str) -> bool:
    """Whether ``value`` is a lowercase DNS domain name with at least two labels."""
    return _DOMAIN.match(value) is not None


def register_service_account(
    *,
    client_id: str,
    provider: CalendarProvider,
    domain: str,
    admin_email: str | None,
    clients: ClientStore,
    store: ServiceAccountStore,
    now: int,
) -> ServiceAccount:
    """Record a calendar service account for a client and return it."""
    domain = domain.strip().lower()
    if not _DOMAIN.fullmatch(domain):
        raise InvalidRequest.single("domain", "errors.invalid", f"{domain!r} is not a domain name")
    if admin_email is not None and not _EMAIL.fullmatch(admin_email):
        raise InvalidRequest.single("admin_email", "errors.invalid", "not an email address")
    if clients.get_client(client_id) is None:
        raise InvalidRequest.single("client_id", "errors.invalid", "no such client")
    account = ServiceAccount(
        service_account_id=new_id("ser"),
        client_id=client_id,
        provider=provider,
        domain=domain,
        admin_email=admin_email.lower() if admin_email else None,
        created_at=now,
    )
    store.create_service_account(account)
    return account
