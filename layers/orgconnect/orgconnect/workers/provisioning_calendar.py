"""Which calendar accounts left their calendar directory, or are suspended there, checked at a
connection sync's provisioning (docs/provisioning.md, "Reconcile"): each service account's
directory is listed once per sync (Google ``users.list``, Graph ``/users``; one call per 500 /
999 users) and compared with its accounts.

An account is **gone** when neither its directory user id nor its address is listed (a renamed
user keeps its id; a reused address keeps it here, so a listing never removes someone by
mistake). A listing that fails, is empty, or would make more than half of a service account's
accounts gone is not trusted: none of its accounts is gone (logged), only erasure departures act.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from msgspec import Struct

from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.domain.provider_model import ProviderError
from orgconnect.observability import logger
from orgconnect.providers.directory import TenantUnusable

if TYPE_CHECKING:
    from orgconnect.domain.accounts import Account, CalendarTenant
    from orgconnect.providers.directory import TenantUser


class Tenants(Protocol):
    def get(self, service_account_id: str) -> CalendarTenant | None: ...


class TenantListing(Protocol):
    """``ProviderDirectory.list_users``."""

    def list_users(self, tenant: CalendarTenant) -> list[TenantUser]: ...


class CalendarStanding(Struct, frozen=True):
    """Account ids gone from their calendar directory, and those suspended there."""

    gone: frozenset[str] = frozenset()
    suspended: frozenset[str] = frozenset()


class CalendarDirectoryCheck(Struct):
    """Lists each service account's directory once and compares its accounts."""

    tenants: Tenants
    listing: TenantListing

    def standing(self, accounts: Sequence[Account]) -> CalendarStanding:
        """Who is gone or suspended, per the listings that could be trusted."""
        by_tenant: dict[str, list[Account]] = defaultdict(list)
        for account in accounts:
            by_tenant[account.service_account_id].append(account)
        gone: set[str] = set()
        suspended: set[str] = set()
        for service_account_id, members in by_tenant.items():
            tenant = self.tenants.get(service_account_id)
            if tenant is None:
                continue
            try:
                users = self.listing.list_users(tenant)
            except (TenantUnusable, ProviderError, TemporarilyUnavailable) as problem:
                logger.warning(
                    "calendar directory not listed",
                    extra={"service_account_id": service_account_id, "why": type(problem).__name__},
                )
                continue
            by_id = {u.user_id: u for u in users}
            by_email = {u.email: u for u in users}
            left: set[str] = set()
            for account in members:
                user = by_id.get(account.provider_user_id) or by_email.get(account.email.strip().lower())
                if user is None:
                    left.add(account.account_id)
                elif not user.active:
                    suspended.add(account.account_id)
            if not users or len(left) * 2 > len(members):
                logger.warning(
                    "calendar directory listing not trusted",
                    extra={"service_account_id": service_account_id, "listed": len(users), "gone": len(left)},
                )
                continue
            gone |= left
        return CalendarStanding(frozenset(gone), frozenset(suspended))
