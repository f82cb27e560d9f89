"""app_deauthorized: revoke, then delete the secret, then forget it; idempotent; resumable."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.domain.model import ProviderAccountLink
from orgconnect.domain.webhooks_deauthorization import Revocation, deauthorize_account
from tests.values import replace

LINKED_AT, EVENT_AT, NOW = 1000, 2000, 2001


@dataclass
class Accounts:
    """In-memory connections and links, with the store's conditions, and a log of every step."""

    links: dict[str, ProviderAccountLink] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)

    def add(
        self, client_id: str, account_id: str = "ZA1", updated_at: int = LINKED_AT
    ) -> ProviderAccountLink:
        connection_id = f"cnx_{client_id}"
        link = ProviderAccountLink(
            client_id,
            "zoom_enterprise",
            account_id,
            f"ou_{client_id}",
            connection_id=connection_id,
            secret_arn=f"arn:secret:{connection_id}",
            created_at=updated_at,
            updated_at=updated_at,
        )
        self.links[client_id] = link
        self.statuses[connection_id] = "connected"
        return link

    def links_of_account(self, provider_name: str, account_id: str) -> list[ProviderAccountLink]:
        return [
            link
            for link in self.links.values()
            if (link.provider_name, link.account_id) == (provider_name, account_id)
        ]

    def _unchanged(self, link: ProviderAccountLink, event_time: int) -> bool:
        current = self.links[link.client_id]
        return current.connection_id == link.connection_id and current.updated_at <= event_time

    def revoke(self, link: ProviderAccountLink, *, event_time: int, now: int) -> Revocation:
        assert link.connection_id
        if not self._unchanged(link, event_time):
            return Revocation.RELINKED
        if self.statuses[link.connection_id] == "revoked":
            return Revocation.ALREADY_REVOKED
        self.statuses[link.connection_id] = "revoked"
        self.steps.append(f"revoke {link.connection_id}")
        return Revocation.REVOKED

    def forget_secret(self, link: ProviderAccountLink, *, event_time: int) -> None:
        current = self.links[link.client_id]
        if self._unchanged(link, event_time) and current.secret_arn == link.secret_arn:
            self.links[link.client_id] = replace(current, secret_arn=None)
            self.steps.append(f"forget {link.connection_id}")


@dataclass
class Vault:
    secrets: set[str]
    steps: list[str]
    failures: int = 0

    def create(self, connection_id: str, tokens: dict[str, Any]) -> str:
        raise AssertionError("a deauthorization creates nothing")

    def replace(self, secret_arn: str, tokens: dict[str, Any]) -> None:
        raise AssertionError("a deauthorization writes no credentials")

    def delete(self, secret_arn: str) -> None:
        if self.failures:
            self.failures -= 1
            raise TemporarilyUnavailable("DeleteSecret: InternalServiceError")
        self.secrets.discard(secret_arn)
        self.steps.append(f"delete {secret_arn}")


@pytest.fixture
def accounts() -> Accounts:
    return Accounts()


@pytest.fixture
def vault(accounts: Accounts) -> Vault:
    return Vault(set(), accounts.steps)


def run(accounts: Accounts, vault: Vault, account_id: str = "ZA1", event_time: int = EVENT_AT) -> Any:
    return deauthorize_account(
        provider_names=["zoom_enterprise"],
        account_id=account_id,
        event_time=event_time,
        connections=accounts,
        vault=vault,
        now=NOW,
    )


def test_every_clients_connection_to_the_account_is_revoked_before_its_secret_goes(
    accounts: Accounts, vault: Vault
) -> None:
    for client in ("a", "b"):
        vault.secrets.add(str(accounts.add(client).secret_arn))
    accounts.add("c", account_id="ZA2")
    vault.secrets.add("arn:secret:cnx_c")

    outcome = run(accounts, vault)

    assert sorted(outcome.revoked) == ["cnx_a", "cnx_b"]
    assert outcome.secrets_deleted == 2
    assert vault.secrets == {"arn:secret:cnx_c"}
    assert accounts.statuses == {"cnx_a": "revoked", "cnx_b": "revoked", "cnx_c": "connected"}
    for connection_id in ("cnx_a", "cnx_b"):
        order = [s.split()[0] for s in accounts.steps if s.endswith(connection_id)]
        assert order == ["revoke", "delete", "forget"]


def test_a_replay_or_duplicate_changes_nothing(accounts: Accounts, vault: Vault) -> None:
    accounts.add("a")
    run(accounts, vault)
    steps = list(accounts.steps)

    outcome = run(accounts, vault)

    assert outcome.already_revoked == ["cnx_a"]
    assert (outcome.revoked, outcome.secrets_deleted) == ([], 0)
    assert accounts.steps == steps


def test_a_failed_deletion_leaves_a_revoked_connection_naming_its_secret_and_the_retry_finishes(
    accounts: Accounts, vault: Vault
) -> None:
    vault.secrets.add(str(accounts.add("a").secret_arn))
    vault.failures = 1

    with pytest.raises(TemporarilyUnavailable):
        run(accounts, vault)
    assert accounts.statuses["cnx_a"] == "revoked"  # never connected without its secret
    assert accounts.links["a"].secret_arn == "arn:secret:cnx_a"

    outcome = run(accounts, vault)  # the provider retries after our 503

    assert outcome.already_revoked == ["cnx_a"]
    assert outcome.secrets_deleted == 1
    assert vault.secrets == set()
    assert accounts.links["a"].secret_arn is None


def test_a_link_made_after_the_event_is_left_alone(accounts: Accounts, vault: Vault) -> None:
    accounts.add("a", updated_at=EVENT_AT + 1)
    outcome = run(accounts, vault)
    assert outcome.relinked == ["cnx_a"]
    assert accounts.statuses["cnx_a"] == "connected"
    assert accounts.steps == []


def test_a_relink_between_reading_and_revoking_is_left_alone(accounts: Accounts, vault: Vault) -> None:
    accounts.add("a")

    class RelinkedMeanwhile(Accounts):
        def links_of_account(self, provider_name: str, account_id: str) -> list[ProviderAccountLink]:
            found = accounts.links_of_account(provider_name, account_id)
            accounts.links["a"] = replace(accounts.links["a"], updated_at=EVENT_AT + 5)
            return found

    racing = RelinkedMeanwhile(accounts.links, accounts.statuses, accounts.steps)
    outcome = run(racing, vault)
    assert outcome.relinked == ["cnx_a"]
    assert accounts.statuses["cnx_a"] == "connected"


def test_an_unknown_account_finds_nothing(accounts: Accounts, vault: Vault) -> None:
    accounts.add("a")
    outcome = run(accounts, vault, account_id="nobody")
    assert not outcome.found
    assert accounts.steps == []


def test_a_calendar_link_has_no_connection_to_revoke(accounts: Accounts, vault: Vault) -> None:
    accounts.links["cal"] = ProviderAccountLink(
        "cal", "zoom_enterprise", "ZA1", "ou_cal", service_account_id="ser_1", updated_at=LINKED_AT
    )
    assert not run(accounts, vault).found
