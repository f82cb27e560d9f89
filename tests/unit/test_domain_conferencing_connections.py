"""The OU-token connection rules (domain/conferencing_connections.py, connection_checks.py) with
in-memory ports: nothing is left behind on failure, removal is idempotent for its OU only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from orgconnect.domain.conferencing_connections import (
    AlreadyLinked,
    ConnectionManagement,
    ConnectionNotFound,
    ManagedConnection,
    RemovedConnection,
    RetestNotSupported,
    add_server_to_server_connection,
    remove_connection,
    retest_connection,
)
from orgconnect.domain.connection_checks import (
    CheckFailure,
    CheckName,
    ConnectionCheck,
    missing_scopes,
    run_steps,
)
from orgconnect.domain.errors import InvalidRequest, TemporarilyUnavailable
from orgconnect.domain.model import ConnectionStatus, OrganizationalUnit, ProviderAccountLink
from orgconnect.domain.secrets import new_id
from orgconnect.domain.server_to_server import AuthorizationType, ServerToServerCredentials

OU = OrganizationalUnit(new_id("ou"), new_id("cli"), "Acme")
BODY = {
    "provider_name": "zoom_enterprise",
    "server_to_server": {"account_id": "acc-1", "client_id": "app-1", "client_secret": "s3cret-value"},
}
PASSED = ConnectionCheck(run_steps(None, {}), None, account_id="acc-1", account_name="Example Corp")


@dataclass
class Connections:
    items: dict[str, ManagedConnection | RemovedConnection] = field(default_factory=dict)
    links: dict[tuple[str, str, str], ProviderAccountLink] = field(default_factory=dict)
    fail_add: Exception | None = None

    def get(self, connection_id: str) -> ManagedConnection | RemovedConnection | None:
        return self.items.get(connection_id)

    def get_organizational_unit(self, ou_id: str) -> OrganizationalUnit | None:
        return OU if ou_id == OU.ou_id else None

    def get_link(self, client_id: str, provider_name: str, account_id: str) -> ProviderAccountLink | None:
        return self.links.get((client_id, provider_name, account_id))

    def add(self, connection: ManagedConnection) -> None:
        if self.fail_add is not None:
            raise self.fail_add
        self.items[connection.connection_id] = connection
        link = connection.link()
        self.links[(link.client_id, link.provider_name, link.account_id)] = link

    def set_status(self, connection: ManagedConnection) -> None:
        self.items[connection.connection_id] = connection

    def remove(self, connection: ManagedConnection, *, now: int, keep_until: int) -> None:
        self.items[connection.connection_id] = RemovedConnection(
            connection.connection_id, connection.ou_id, connection.secret_arn
        )
        link = connection.link()
        self.links.pop((link.client_id, link.provider_name, link.account_id), None)


@dataclass
class Secrets:
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    destroyed: list[str] = field(default_factory=list)

    def create(self, connection_id: str, tokens: dict[str, Any]) -> str:
        arn = f"arn:secret:{connection_id}"
        self.stored[arn] = tokens
        return arn

    def read(self, secret_arn: str) -> dict[str, Any] | None:
        return self.stored.get(secret_arn)

    def delete(self, secret_arn: str) -> None:
        self.stored.pop(secret_arn, None)
        self.destroyed.append(secret_arn)


@dataclass
class Provider:
    result: ConnectionCheck = PASSED
    checked: list[ServerToServerCredentials] = field(default_factory=list)
    revoked: list[dict[str, Any]] = field(default_factory=list)

    def check(self, provider_name: str, credentials: ServerToServerCredentials) -> ConnectionCheck:
        self.checked.append(credentials)
        return self.result

    def revoke(self, provider_name: str, tokens: dict[str, Any]) -> bool:
        self.revoked.append(tokens)
        return True


def deps(provider: Provider | None = None, connections: Connections | None = None) -> ConnectionManagement:
    p = provider or Provider()
    return ConnectionManagement(connections or Connections(), Secrets(), p, p, now=1_900_000_000)


def test_a_failed_check_stores_nothing_and_names_the_field() -> None:
    failed = ConnectionCheck(run_steps(CheckName.PAID_PLAN, {}), CheckFailure.FREE_PLAN)
    d = deps(Provider(result=failed))
    with pytest.raises(InvalidRequest) as refused:
        add_server_to_server_connection(OU, BODY, d)
    assert [(e.field, e.key) for e in refused.value.errors] == [
        ("server_to_server.account_id", "errors.free_plan")
    ]
    assert d.secrets.stored == {}  # type: ignore[attr-defined]
    assert "s3cret-value" not in str(refused.value)


def test_losing_the_link_race_deletes_the_new_secret() -> None:
    d = deps(connections=Connections(fail_add=AlreadyLinked()))
    with pytest.raises(AlreadyLinked) as lost:
        add_server_to_server_connection(OU, BODY, d)
    assert lost.value.error is not None and lost.value.error.key == "errors.already_linked"
    secrets: Secrets = d.secrets  # type: ignore[assignment]
    assert secrets.stored == {} and len(secrets.destroyed) == 1


def test_a_store_outage_after_the_secret_deletes_it() -> None:
    d = deps(connections=Connections(fail_add=TemporarilyUnavailable("throttled")))
    with pytest.raises(TemporarilyUnavailable):
        add_server_to_server_connection(OU, BODY, d)
    assert d.secrets.stored == {}  # type: ignore[attr-defined]


def test_removal_repeats_for_its_ou_only_and_revokes_only_browser_tokens() -> None:
    d = deps()
    connection, _ = add_server_to_server_connection(OU, BODY, d)
    provider: Provider = d.revoker  # type: ignore[assignment]
    assert remove_connection(OU, connection.connection_id, d) is False
    assert provider.revoked == []  # Server-to-Server tokens cannot be revoked; they expire
    assert remove_connection(OU, connection.connection_id, d) is False  # repeated: still fine
    other = OrganizationalUnit(new_id("ou"), OU.client_id, "Other")
    with pytest.raises(ConnectionNotFound):
        remove_connection(other, connection.connection_id, d)
    with pytest.raises(ConnectionNotFound):
        retest_connection(OU, connection.connection_id, d)


def browser_linked(d: ConnectionManagement) -> ManagedConnection:
    """A connection of OU linked in the browser (OAuth), stored with its tokens' secret."""
    arn = d.secrets.create("cnx", {"access_token": "a", "refresh_token": "r"})
    connection = ManagedConnection(
        new_id("cnx"),
        OU.ou_id,
        OU.client_id,
        "zoom_enterprise",
        "acc",
        "Acme",
        ConnectionStatus.CONNECTED,
        arn,
        AuthorizationType.OAUTH,
    )
    d.connections.items[connection.connection_id] = connection  # type: ignore[attr-defined]
    return connection


def test_a_browser_linked_connection_is_revoked_on_removal_and_cannot_be_retested() -> None:
    d = deps()
    connection = browser_linked(d)
    with pytest.raises(RetestNotSupported):
        retest_connection(OU, connection.connection_id, d)
    assert remove_connection(OU, connection.connection_id, d) is True
    assert d.revoker.revoked == [{"access_token": "a", "refresh_token": "r"}]  # type: ignore[attr-defined]


def test_retest_records_needs_reauthorization_then_connected() -> None:
    provider = Provider()
    d = deps(provider)
    connection, _ = add_server_to_server_connection(OU, BODY, d)
    provider.result = ConnectionCheck(
        run_steps(CheckName.CREDENTIALS, {}), CheckFailure.BAD_CLIENT_CREDENTIALS
    )
    assert (
        retest_connection(OU, connection.connection_id, d).connection.status
        is ConnectionStatus.NEEDS_REAUTHORIZATION
    )
    provider.result = PASSED
    assert retest_connection(OU, connection.connection_id, d).connection.status is ConnectionStatus.CONNECTED
    assert provider.checked[-1] == ServerToServerCredentials("acc-1", "app-1", "s3cret-value")


@pytest.mark.parametrize(
    ("granted", "missing"),
    [
        ("user:read:list_users:admin user:read:user:admin meeting:write:meeting:admin", []),
        ("user:read:admin meeting:write:admin", []),  # classic scopes cover the same
        ("user:read:list_users:admin", ["user:read:user:admin", "meeting:write:meeting:admin"]),
        (None, ["user:read:list_users:admin", "user:read:user:admin", "meeting:write:meeting:admin"]),
    ],
)
def test_missing_scopes_accept_granular_or_classic_names(granted: str | None, missing: list[str]) -> None:
    assert missing_scopes(granted) == missing


def test_checks_after_a_failure_are_not_run() -> None:
    steps = run_steps(CheckName.SCOPES, {CheckName.SCOPES: "missing: x"})
    assert [(s.name, s.passed) for s in steps] == [
        (CheckName.CREDENTIALS, True),
        (CheckName.SCOPES, False),
        (CheckName.ACCOUNT, None),
        (CheckName.PAID_PLAN, None),
    ]
