"""Reading and replacing a conferencing connection's provisioning policy (``GET|PUT
…/conferencing_connections/{connection_id}/provisioning``; SPEC 2.5; issue 11 item 2): the
connection must be a live one of the caller's OU (else 404, whichever OU it belongs to) and a
Zoom one (else 422). Pure: the repository is a port (store/provisioning_policy.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from msgspec import Struct
from msgspec.structs import replace

from orgconnect.domain.conferencing_connections import CONNECTION_ID, ConnectionNotFound
from orgconnect.domain.errors import FieldError, InvalidRequest
from orgconnect.domain.model import OrganizationalUnit
from orgconnect.domain.provisioning_policy import (
    PROVISIONING_PROVIDERS,
    PendingRemoval,
    ProvisioningPolicy,
    StoredPolicy,
    parse_policy,
)


class PolicySubject(Struct, frozen=True):
    """The connection a policy belongs to, with its current policy."""

    connection_id: str
    ou_id: str
    client_id: str
    provider_name: str
    stored: StoredPolicy


class ProvisioningNotSupported(Exception):
    """The connection's provider has no provisioning (only Zoom today): 422."""

    def __init__(self, provider_name: str) -> None:
        super().__init__(provider_name)
        self.provider_name = provider_name


class StaleVersion(Exception):
    """``version`` in a PUT is not the stored one (another PUT came first): 409."""

    def __init__(self, sent: int, current: int) -> None:
        super().__init__(f"version {sent} is not the current {current}")
        self.sent = sent
        self.current = current


class ProvisioningPolicyRepository(Protocol):
    """Policies on their connections (store/provisioning_policy.py)."""

    def get_organizational_unit(self, ou_id: str) -> OrganizationalUnit | None:
        """The OU of an access token (one consistent read)."""
        ...

    def get(self, connection_id: str) -> PolicySubject | None:
        """The live connection and its policy; None when unknown or removed."""
        ...

    def replace(
        self, subject: PolicySubject, policy: ProvisioningPolicy, *, expected_version: int | None, now: int
    ) -> StoredPolicy:
        """Write ``policy`` with the next version (one conditional write). StaleVersion when
        ``expected_version`` is given and not the stored one; ConnectionNotFound when the
        connection left its OU."""
        ...


class PolicyManagement(Struct):
    """The ports of the policy routes (``orgconnect.runtime``; fakes in unit tests)."""

    policies: ProvisioningPolicyRepository
    now: int
    #: (connection id, the policy turned off, the policy now stored): removes the users orgconnect
    #: created through it; the pending removal it recorded when it could not finish, else None.
    on_policy_removed: Callable[[str, ProvisioningPolicy, StoredPolicy], PendingRemoval | None] | None = None


def policy_subject(ou: OrganizationalUnit, connection_id: str, deps: PolicyManagement) -> PolicySubject:
    """The OU's connection and its policy: ConnectionNotFound for a malformed, unknown, removed or
    other OU's id (no existence oracle); ProvisioningNotSupported for another provider than Zoom."""
    if not CONNECTION_ID.fullmatch(connection_id):
        raise ConnectionNotFound()
    subject = deps.policies.get(connection_id)
    if subject is None or subject.ou_id != ou.ou_id or subject.client_id != ou.client_id:
        raise ConnectionNotFound()
    if subject.provider_name not in PROVISIONING_PROVIDERS:
        raise ProvisioningNotSupported(subject.provider_name)
    return subject


def read_policy(ou: OrganizationalUnit, connection_id: str, deps: PolicyManagement) -> StoredPolicy:
    """``GET …/provisioning``: the stored policy, or the defaults (version 0) if never set."""
    return policy_subject(ou, connection_id, deps).stored


def replace_policy(
    ou: OrganizationalUnit, connection_id: str, body: dict[str, Any], deps: PolicyManagement
) -> StoredPolicy:
    """``PUT …/provisioning`` with ``{"provisioning": {…}}``: replace the whole policy (fields left
    out take their defaults). With ``version``, only if it is still the stored one (StaleVersion).
    Turning ``enabled`` off a policy with ``deprovision_on_policy_removal`` then removes the users
    orgconnect created, per that policy's ``remove_action`` (``on_policy_removed``); what is left
    is the answer's ``pending_removal`` (the syncs finish it). Any PUT drops an earlier one."""
    subject = policy_subject(ou, connection_id, deps)
    unknown = [
        FieldError(name, "errors.unknown", "the body holds only provisioning")
        for name in body
        if name != "provisioning"
    ]
    try:
        policy, version = parse_policy(body.get("provisioning"))
    except InvalidRequest as invalid:
        raise InvalidRequest(*unknown, *invalid.errors) from None
    if unknown:
        raise InvalidRequest(*unknown)
    if version is not None and version != subject.stored.version:
        raise StaleVersion(version, subject.stored.version)
    stored = deps.policies.replace(subject, policy, expected_version=version, now=deps.now)
    before = subject.stored.policy
    turned_off = before.enabled and not policy.enabled
    if turned_off and before.deprovision_on_policy_removal and deps.on_policy_removed is not None:
        pending = deps.on_policy_removed(connection_id, before, stored)
        if pending is not None:
            return replace(stored, pending_removal=pending)
    return stored
