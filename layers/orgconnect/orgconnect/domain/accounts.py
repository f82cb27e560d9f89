"""Calendar accounts provisioned through a service account (delegated access) and their calendar
profile. One account per service account and lower-cased email: a redelivered queue message
finds the account its first delivery created instead of making a second one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from msgspec import Struct, field

from orgconnect.domain.model import CalendarProvider, ServiceAccount

ACCOUNT_PREFIX = "acc"
PROFILE_PREFIX = "pro"


class DirectoryUser(Struct, frozen=True):
    """A user as the calendar tenant's directory knows them."""

    user_id: str  # the provider's stable id (kept: a later email change keeps the profile)
    email: str  # lower-cased primary address
    name: str | None = None
    #: ``DirectoryAttribute`` value -> what the directory holds (``active`` a boolean); only
    #: the attributes it gave a non-empty value (provisioning's attribute mapping reads them).
    attributes: Mapping[str, str | bool] = field(default_factory=dict)


class CalendarProfile(Struct, frozen=True):
    """The calendar profile of an account (Cronofy's ``profiles[]`` / ``linking_profile``)."""

    profile_id: str
    provider: CalendarProvider
    profile_name: str  # the mailbox address


class Account(Struct, frozen=True):
    """A calendar account (``acc_…``) of one client, provisioned through one service account."""

    account_id: str
    client_id: str
    service_account_id: str
    email: str  # lower-cased; the key with the service account
    name: str | None
    provider_user_id: str
    profile: CalendarProfile
    created_at: int = 0


class CalendarTenant(Struct, frozen=True):
    """A calendar service account that may hold the email, with where its admin credentials are."""

    service_account: ServiceAccount
    secret_arn: str | None
    delegated_scope: str | None = None


class AccountRepository(Protocol):
    """Accounts (``orgconnect.store.accounts``)."""

    def create_or_get(self, account: Account) -> tuple[Account, bool]:
        """Create ``account`` unless its service account already has one for its email; return
        the stored account and whether it was created (one conditional transaction)."""
        ...

    def get(self, account_id: str) -> Account | None: ...


class CalendarTenants(Protocol):
    """The service accounts delegated access searches (``orgconnect.store.accounts``)."""

    def get(self, service_account_id: str) -> CalendarTenant | None: ...

    def others_in_organizational_unit(self, tenant: CalendarTenant) -> list[CalendarTenant]:
        """The OU's other calendar service accounts (none when the tenant is in no OU)."""
        ...
