"""The delegated-access worker's application logic: one queued request in, one callback out.

Find the email in the service account's calendar tenant, else in the other calendar service
accounts of its Organizational Unit; create or reuse the account (``acc_``) and its calendar
profile (``pro_``); issue an account code whose redirect_uri is the callback_url; POST
``{"authorization": {"code", "state"}}`` (or an error) to the callback_url. A provider outage or
an undeliverable callback raises, so the message fails and SQS redelivers it (then the DLQ).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from msgspec import Struct

from orgconnect.domain.accounts import (
    Account,
    CalendarProfile,
    CalendarTenant,
    CalendarTenants,
    DirectoryUser,
)
from orgconnect.domain.codes import CODE_PURPOSE, AuthorizationCode, GrantKind, new_code
from orgconnect.domain.delegated_access import DelegatedAccessRequest
from orgconnect.domain.secrets import SecretHasher, new_id
from orgconnect.observability import logger
from orgconnect.providers.directory import TenantUnusable
from orgconnect.workers.directory_sync import ConferencingMatcher
from orgconnect.workers.provisioning import Provisioner

# Cronofy documents the callback's fields but not their values: these are orgconnect's.
UNKNOWN_EMAIL = ("not_found", "account_not_found")
SERVICE_ACCOUNT_GONE = ("access_denied", "service_account_not_found")
REAUTHORIZATION_REQUIRED = ("access_denied", "service_account_reauthorization_required")


class Directory(Protocol):
    def find(self, tenant: CalendarTenant, email: str) -> DirectoryUser | None: ...


class WorkerAccounts(Protocol):
    """What the worker writes (``orgconnect.store.accounts.DynamoAccounts``)."""

    def create_or_get(self, account: Account) -> tuple[Account, bool]: ...

    def issue_code(self, code_digest: str, code: AuthorizationCode, profile_name: str) -> None: ...

    def callback_delivered(self, message_id: str) -> bool: ...

    def mark_delivered(self, message_id: str) -> None: ...


class DelegatedAccessWorker(Struct):
    """The worker's ports, built by ``orgconnect.delegated_runtime`` (fakes in unit tests)."""

    tenants: CalendarTenants
    directory: Directory
    accounts: WorkerAccounts
    hasher: SecretHasher
    deliver: Callable[[str, dict[str, Any]], None]
    now: Callable[[], int]
    code_ttl_seconds: int
    #: Matches each new or reused account against its OU's conferencing connections (None: no matching).
    matcher: ConferencingMatcher | None = None
    #: Provisions Zoom users per each connection's policy, after matching (None: no provisioning).
    provisioner: Provisioner | None = None

    def handle(self, request: DelegatedAccessRequest, message_id: str) -> str:
        """Process one request; returns the outcome (``code``, an error key, or ``already_delivered``)."""
        if self.accounts.callback_delivered(message_id):
            return "already_delivered"  # a redelivery after a delivered callback
        outcome, body = self._decide(request)
        self.deliver(request.callback_url, {"authorization": {**body, "state": request.state}})
        self.accounts.mark_delivered(message_id)
        return outcome

    def _decide(self, request: DelegatedAccessRequest) -> tuple[str, dict[str, Any]]:
        own = self.tenants.get(request.service_account_id)
        if own is None or own.service_account.client_id != request.client_id:
            return _error(SERVICE_ACCOUNT_GONE, "The service account no longer exists.")
        found, unusable = self._find(own, request.email)
        if found is None:
            if unusable:
                return _error(
                    REAUTHORIZATION_REQUIRED,
                    "The service account's administrator must authorize it again (Enterprise Connect).",
                )
            return _error(
                UNKNOWN_EMAIL, "No calendar account with this email was found for the service account."
            )
        tenant, user = found
        account, created = self._account(request, tenant, user)
        if self.matcher is not None:  # idempotent: a redelivery finds the same profiles
            self.matcher.match_account(account, own.service_account.organizational_unit_id)
        if self.provisioner is not None:  # idempotent too: each plan compares Zoom afresh
            ou_id = own.service_account.organizational_unit_id
            self.provisioner.provision_account(account, ou_id, attributes=user.attributes)
        code = new_code()
        now = self.now()
        self.accounts.issue_code(
            self.hasher.digest(CODE_PURPOSE, code),
            AuthorizationCode(
                client_id=request.client_id,
                redirect_uri=request.callback_url,
                kind=GrantKind.ACCOUNT,
                sub=account.account_id,
                scope=request.scope,
                created_at=now,
                expires_at=now + self.code_ttl_seconds,
            ),
            account.profile.profile_name,
        )
        logger.info(
            "delegated access granted",
            extra={
                "client_id": request.client_id,
                "service_account_id": request.service_account_id,
                "account_id": account.account_id,
                "new_account": created,
                "found_in": tenant.service_account.service_account_id,
            },
        )
        return "code", {"code": code}

    def _find(
        self, own: CalendarTenant, email: str
    ) -> tuple[tuple[CalendarTenant, DirectoryUser] | None, bool]:
        """The first tenant that knows the email (own first); and whether the own one was unusable."""
        unusable = False
        for tenant in [own, *self.tenants.others_in_organizational_unit(own)]:
            try:
                user = self.directory.find(tenant, email)
            except TenantUnusable as problem:
                unusable = unusable or tenant is own
                logger.warning(
                    "calendar tenant unusable",
                    extra={
                        "service_account_id": tenant.service_account.service_account_id,
                        "why": str(problem),
                    },
                )
                continue
            if user is not None:
                return (tenant, user), unusable
        return None, unusable

    def _account(
        self, request: DelegatedAccessRequest, tenant: CalendarTenant, user: DirectoryUser
    ) -> tuple[Account, bool]:
        return self.accounts.create_or_get(
            Account(
                account_id=new_id("acc"),
                client_id=request.client_id,
                service_account_id=request.service_account_id,
                email=request.email,
                name=user.name,
                provider_user_id=user.user_id,
                profile=CalendarProfile(new_id("pro"), tenant.service_account.provider, user.email),
                created_at=self.now(),
            )
        )


def _error(kind: tuple[str, str], description: str) -> tuple[str, dict[str, Any]]:
    error, key = kind
    return key, {"error": error, "error_key": key, "error_description": description}
