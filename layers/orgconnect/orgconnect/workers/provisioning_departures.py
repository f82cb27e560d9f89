"""An account that leaves: revoked with ``request_pii_erasure`` (``POST /oauth/token/revoke``).
The token function queues an AccountDeparture on the delegated-access queue; the worker removes
the account's Zoom users per each connection's policy (``deprovision_users``, ``remove_action``;
docs/provisioning.md). Redelivery is harmless: a removed user is not found again, a deactivated
one is inactive already.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from msgspec import Struct

from orgconnect.domain.accounts import ACCOUNT_PREFIX, CalendarTenants
from orgconnect.observability import logger
from orgconnect.workers.provisioning import Provisioner

if TYPE_CHECKING:
    from orgconnect.domain.accounts import Account

DEPARTURE_KIND = "account_departure"


class AccountDeparture(Struct, frozen=True):
    """A queued departure: the client whose account it is, and the account."""

    client_id: str
    account_id: str

    def to_message(self) -> dict[str, str]:
        """The queue message (ids only)."""
        return {"kind": DEPARTURE_KIND, "client_id": self.client_id, "account_id": self.account_id}

    @classmethod
    def from_message(cls, body: Mapping[str, Any]) -> AccountDeparture:
        """KeyError / ValueError for a message that is not a departure."""
        if body.get("kind") != DEPARTURE_KIND:
            raise ValueError("not an account departure")
        account_id = str(body["account_id"])
        if not account_id.startswith(f"{ACCOUNT_PREFIX}_"):
            raise ValueError("not an account id")
        return cls(str(body["client_id"]), account_id)


def is_departure(body: Any) -> bool:
    """Whether a queue message is a departure (the others are delegated-access requests)."""
    return isinstance(body, dict) and body.get("kind") == DEPARTURE_KIND


class Accounts(Protocol):
    def get(self, account_id: str) -> Account | None: ...


class DepartedAccounts(Protocol):
    """``orgconnect.store.provisioning_departed.DynamoDepartedAccounts``."""

    def record(self, ou_id: str, account_id: str, *, now: int) -> None: ...

    def account_ids(self, ou_id: str) -> frozenset[str]: ...


class DepartureWorker(Struct):
    """Handles AccountDeparture messages (``orgconnect.delegated_runtime.departures``)."""

    accounts: Accounts
    tenants: CalendarTenants
    provisioner: Provisioner
    #: Where the departure is kept, so the reconcile never creates the account's user again.
    departed: DepartedAccounts | None = None

    def handle(self, departure: AccountDeparture) -> str:
        """Remove the account's Zoom users per policy; the outcome for the worker's log."""
        account = self.accounts.get(departure.account_id)
        if account is None or account.client_id != departure.client_id:
            return "account_not_found"
        tenant = self.tenants.get(account.service_account_id)
        ou_id = tenant.service_account.organizational_unit_id if tenant else None
        if ou_id and self.departed is not None:
            self.departed.record(ou_id, account.account_id, now=self.provisioner.now())
        events = self.provisioner.deprovision_account(account, ou_id)
        logger.info(
            "account departure",
            extra={"account_id": account.account_id, "provisioning_actions": len(events)},
        )
        return "departed"
