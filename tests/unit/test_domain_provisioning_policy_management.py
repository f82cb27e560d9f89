"""domain/provisioning_policy_management.py: reading and replacing a connection's policy over an
in-memory repository: defaults at version 0, versions, the body's shape, 404 for anything not
this OU's (no existence oracle), 422 for a provider without provisioning."""

from __future__ import annotations

import pytest

from orgconnect.domain.conferencing_connections import ConnectionNotFound
from orgconnect.domain.errors import InvalidRequest
from orgconnect.domain.model import OrganizationalUnit
from orgconnect.domain.provisioning_policy import ProvisioningPolicy, StoredPolicy
from orgconnect.domain.provisioning_policy_management import (
    PolicyManagement,
    ProvisioningNotSupported,
    StaleVersion,
    read_policy,
    replace_policy,
)
from orgconnect.domain.secrets import new_id
from tests.provisioning_fakes import MemoryPolicies


@pytest.fixture
def ou() -> OrganizationalUnit:
    return OrganizationalUnit(new_id("ou"), new_id("cli"), "Acme", 1)


@pytest.fixture
def deps(ou: OrganizationalUnit) -> PolicyManagement:
    policies = MemoryPolicies()
    policies.add_organizational_unit(ou)
    return PolicyManagement(policies, now=1_900_000_000)


def repo(deps: PolicyManagement) -> MemoryPolicies:
    assert isinstance(deps.policies, MemoryPolicies)
    return deps.policies


def test_a_policy_never_set_reads_as_the_defaults_at_version_0(
    ou: OrganizationalUnit, deps: PolicyManagement
) -> None:
    assert read_policy(ou, repo(deps).add(ou), deps) == StoredPolicy(ProvisioningPolicy(), 0, None)


def test_replacing_bumps_the_version_and_a_stale_version_is_refused(
    ou: OrganizationalUnit, deps: PolicyManagement
) -> None:
    cnx = repo(deps).add(ou)
    first = replace_policy(ou, cnx, {"provisioning": {"enabled": True, "version": 0}}, deps)
    assert (first.version, first.updated_at, first.policy.enabled) == (1, deps.now, True)
    second = replace_policy(ou, cnx, {"provisioning": {"create_users": True}}, deps)  # last writer wins
    assert second.version == 2 and second.policy == ProvisioningPolicy(create_users=True)
    with pytest.raises(StaleVersion) as stale:
        replace_policy(ou, cnx, {"provisioning": {"enabled": False, "version": 1}}, deps)
    assert (stale.value.sent, stale.value.current) == (1, 2)
    assert read_policy(ou, cnx, deps) == second


def test_the_body_holds_only_provisioning(ou: OrganizationalUnit, deps: PolicyManagement) -> None:
    cnx = repo(deps).add(ou)
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
    cnx = repo(deps).add(stranger)
    with pytest.raises(ConnectionNotFound):
        read_policy(ou, cnx, deps)
    with pytest.raises(ConnectionNotFound):
        replace_policy(ou, cnx, {"provisioning": {"page_size": 1}}, deps)


def test_only_zoom_connections_have_provisioning(ou: OrganizationalUnit, deps: PolicyManagement) -> None:
    cnx = repo(deps).add(ou, "webex_enterprise")
    with pytest.raises(ProvisioningNotSupported) as refused:
        read_policy(ou, cnx, deps)
    assert refused.value.provider_name == "webex_enterprise"
    with pytest.raises(ProvisioningNotSupported):
        replace_policy(ou, cnx, {"provisioning": {"enabled": True}}, deps)
