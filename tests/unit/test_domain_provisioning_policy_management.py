"""domain/provisioning_policy_management.py: reading and replacing a connection's policy over an
in-memory repository: defaults at version 0, versions, the body's shape, 404 for anything not
this OU's (no existence oracle), 422 for a provider without provisioning."""

from __future__ import annotations

from dataclasses import replace

import pytest

from orgconnect.domain.conferencing_connections import ConnectionNotFound
from orgconnect.domain.errors import InvalidRequest
from orgconnect.domain.model import OrganizationalUnit
from orgconnect.domain.provisioning_policy import ProvisioningPolicy, StoredPolicy
from orgconnect.domain.provisioning_policy_management import (
    PolicyManagement,
    PolicySubject,
    ProvisioningNotSupported,
    StaleVersion,
    read_policy,
    replace_policy,
)
from orgconnect.domain.secrets import new_id


class MemoryPolicies:
    """An in-memory ProvisioningPolicyRepository."""

    def __init__(self, ou: OrganizationalUnit) -> None:
        self.ou = ou
        self.subjects: dict[str, PolicySubject] = {}

    def add(self, provider_name: str = "zoom_enterprise", ou: OrganizationalUnit | None = None) -> str:
        owner = ou or self.ou
        connection_id = new_id("cnx")
        self.subjects[connection_id] = PolicySubject(
            connection_id, owner.ou_id, owner.client_id, provider_name, StoredPolicy(ProvisioningPolicy())
        )
        return connection_id

    def get_organizational_unit(self, ou_id: str) -> OrganizationalUnit | None:
        return self.ou if ou_id == self.ou.ou_id else None

    def get(self, connection_id: str) -> PolicySubject | None:
        return self.subjects.get(connection_id)

    def replace(
        self, subject: PolicySubject, policy: ProvisioningPolicy, *, expected_version: int | None, now: int
    ) -> StoredPolicy:
        current = self.subjects[subject.connection_id].stored
        if expected_version is not None and expected_version != current.version:
            raise StaleVersion(expected_version, current.version)
        stored = StoredPolicy(policy, current.version + 1, now)
        self.subjects[subject.connection_id] = replace(subject, stored=stored)
        return stored


@pytest.fixture
def ou() -> OrganizationalUnit:
    return OrganizationalUnit(new_id("ou"), new_id("cli"), "Acme", 1)


@pytest.fixture
def deps(ou: OrganizationalUnit) -> PolicyManagement:
    return PolicyManagement(MemoryPolicies(ou), now=1_900_000_000)


def repo(deps: PolicyManagement) -> MemoryPolicies:
    assert isinstance(deps.policies, MemoryPolicies)
    return deps.policies


def test_a_policy_never_set_reads_as_the_defaults_at_version_0(
    ou: OrganizationalUnit, deps: PolicyManagement
) -> None:
    assert read_policy(ou, repo(deps).add(), deps) == StoredPolicy(ProvisioningPolicy(), 0, None)


def test_replacing_bumps_the_version_and_a_stale_version_is_refused(
    ou: OrganizationalUnit, deps: PolicyManagement
) -> None:
    cnx = repo(deps).add()
    first = replace_policy(ou, cnx, {"provisioning": {"enabled": True, "version": 0}}, deps)
    assert (first.version, first.updated_at, first.policy.enabled) == (1, deps.now, True)
    second = replace_policy(ou, cnx, {"provisioning": {"create_users": True}}, deps)  # last writer wins
    assert second.version == 2 and second.policy == ProvisioningPolicy(create_users=True)
    with pytest.raises(StaleVersion) as stale:
        replace_policy(ou, cnx, {"provisioning": {"enabled": False, "version": 1}}, deps)
    assert (stale.value.sent, stale.value.current) == (1, 2)
    assert read_policy(ou, cnx, deps) == second


def test_the_body_holds_only_provisioning(ou: OrganizationalUnit, deps: PolicyManagement) -> None:
    cnx = repo(deps).add()
    with pytest.raises(InvalidRequest) as invalid:
        replace_policy(ou, cnx, {"enabled": True, "provisioning": {"page_size": 1}}, deps)
    assert [(e.field, e.key) for e in invalid.value.errors] == [
        ("enabled", "errors.unknown"),
        ("provisioning.page_size", "errors.invalid"),
    ]
    with pytest.raises(InvalidRequest) as missing:
        replace_policy(ou, cnx, {}, deps)
    assert [(e.field, e.key) for e in missing.value.errors] == [("provisioning", "errors.required")]
    assert read_policy(ou, cnx, deps).version == 0


@pytest.mark.parametrize("connection_id", ["cnx_unknown", "cnx_" + "0" * 24, "../cnx", "x" * 3000])
def test_unknown_and_malformed_connections_are_not_found(
    ou: OrganizationalUnit, deps: PolicyManagement, connection_id: str
) -> None:
    with pytest.raises(ConnectionNotFound):
        read_policy(ou, connection_id, deps)
    with pytest.raises(ConnectionNotFound):
        replace_policy(ou, connection_id, {"provisioning": {}}, deps)


def test_another_ous_connection_is_not_found_even_with_a_bad_body(
    ou: OrganizationalUnit, deps: PolicyManagement
) -> None:
    stranger = OrganizationalUnit(new_id("ou"), ou.client_id, "Other", 1)
    cnx = repo(deps).add(ou=stranger)
    with pytest.raises(ConnectionNotFound):
        read_policy(ou, cnx, deps)
    with pytest.raises(ConnectionNotFound):
        replace_policy(ou, cnx, {"provisioning": {"page_size": 1}}, deps)


def test_only_zoom_connections_have_provisioning(ou: OrganizationalUnit, deps: PolicyManagement) -> None:
    cnx = repo(deps).add("webex_enterprise")
    with pytest.raises(ProvisioningNotSupported) as refused:
        read_policy(ou, cnx, deps)
    assert refused.value.provider_name == "webex_enterprise"
    with pytest.raises(ProvisioningNotSupported):
        replace_policy(ou, cnx, {"provisioning": {"enabled": True}}, deps)
