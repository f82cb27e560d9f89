"""An in-memory ProvisioningPolicyRepository for the unit tests; the contract test
(tests/contract/test_provisioning_policy_contract.py) holds it to the DynamoDB one."""

from __future__ import annotations

from orgconnect.domain.conferencing_connections import ConnectionNotFound
from orgconnect.domain.model import OrganizationalUnit
from orgconnect.domain.provisioning_policy import ProvisioningPolicy, StoredPolicy
from orgconnect.domain.provisioning_policy_management import PolicySubject, StaleVersion
from orgconnect.domain.secrets import new_id
from tests.values import replace


class MemoryPolicies:
    """Policies on connections, in memory, with the DynamoDB repository's conditions."""

    def __init__(self) -> None:
        self.organizational_units: dict[str, OrganizationalUnit] = {}
        self.subjects: dict[str, PolicySubject] = {}

    def add_organizational_unit(self, ou: OrganizationalUnit) -> None:
        self.organizational_units[ou.ou_id] = ou

    def add(self, ou: OrganizationalUnit, provider_name: str = "zoom_enterprise") -> str:
        """A new connection of ``ou`` with no policy set; its id."""
        connection_id = new_id("cnx")
        self.subjects[connection_id] = PolicySubject(
            connection_id, ou.ou_id, ou.client_id, provider_name, StoredPolicy(ProvisioningPolicy())
        )
        return connection_id

    def remove(self, connection_id: str) -> None:
        del self.subjects[connection_id]

    def get_organizational_unit(self, ou_id: str) -> OrganizationalUnit | None:
        return self.organizational_units.get(ou_id)

    def get(self, connection_id: str) -> PolicySubject | None:
        return self.subjects.get(connection_id)

    def replace(
        self, subject: PolicySubject, policy: ProvisioningPolicy, *, expected_version: int | None, now: int
    ) -> StoredPolicy:
        current = self.subjects.get(subject.connection_id)
        if current is None or (current.ou_id, current.client_id) != (subject.ou_id, subject.client_id):
            raise ConnectionNotFound()
        if expected_version is not None and expected_version != current.stored.version:
            raise StaleVersion(expected_version, current.stored.version)
        stored = StoredPolicy(policy, current.stored.version + 1, now)
        self.subjects[subject.connection_id] = replace(current, stored=stored)
        return stored
