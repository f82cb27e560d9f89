"""The delegated-access worker's provisioning hook: after matching, each request provisions its
account in the service account's OU; a Zoom failure never costs the callback (the provisioner
logs it). Redelivery creating nothing twice: test_executor_simulator.py."""

from __future__ import annotations

from orgconnect.domain.accounts import DirectoryUser
from orgconnect.workers.provisioning import Provisioner
from tests.provisioning.fakes import (
    OU,
    MemoryDirectory,
    MemoryLog,
    MemoryPolicies,
    MemoryProfiles,
    connection,
)
from tests.unit.test_delegated_access_units import SER, Ports, request, tenant
from tests.values import replace


class RefusingTokens:
    def access_token(self, connection: object, *, rejected: str | None = None) -> str:
        from orgconnect.domain.provider_model import ProviderUnavailable

        raise ProviderUnavailable("Zoom token endpoint down")


def test_each_request_provisions_its_account_in_the_service_accounts_ou() -> None:
    ports = Ports(
        {SER: tenant(SER, "example.com", ou=OU)},
        {
            SER: {
                "ada@example.com": DirectoryUser(
                    "u1", "ada@example.com", "Ada Lovelace", {"job_title": "Analyst"}
                )
            }
        },
    )
    seen: list[tuple[str, str | None, object]] = []

    class Recording:
        def provision_account(
            self, account: object, ou_id: str | None, *, attributes: object = None
        ) -> list[object]:
            seen.append((getattr(account, "email", ""), ou_id, attributes))
            return []

    worker = replace(ports.worker(), provisioner=Recording())  # type: ignore[arg-type]
    assert worker.handle(request(), "m1") == "code"
    # The lookup's attributes go along: provisioning maps them (test_directory_attributes.py).
    assert seen == [("ada@example.com", OU, {"job_title": "Analyst"})]


def test_a_provider_failure_in_provisioning_still_delivers_the_callback() -> None:
    ports = Ports(
        {SER: tenant(SER, "example.com", ou=OU)},
        {SER: {"ada@example.com": DirectoryUser("u1", "ada@example.com", "Ada Lovelace")}},
    )
    policies, profiles = MemoryPolicies(), MemoryProfiles()
    profiles.linked.append(connection())
    from orgconnect.domain.provisioning_policy import ProvisioningPolicy

    policies.policies[connection().connection_id] = ProvisioningPolicy(enabled=True, create_users=True)
    log = MemoryLog()
    provisioner = Provisioner(
        profiles=profiles,
        policies=policies,
        directory=MemoryDirectory(),
        tokens=RefusingTokens(),
        users=lambda token, retries: (_ for _ in ()).throw(AssertionError("no token, no call")),
        log=log,
        now=lambda: 1_000,
    )
    worker = replace(ports.worker(), provisioner=provisioner)
    assert worker.handle(request(), "m1") == "code"
    assert len(ports.posts) == 1 and log.events == []
