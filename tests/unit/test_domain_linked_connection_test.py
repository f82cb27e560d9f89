"""``/test`` of a browser-linked connection (domain/conferencing_connections.py): a token from the
live-credentials service, then the provider's read; a refused refresh token or a refused fresh
token records ``needs_reauthorization``; errors name ``connection_id``; a vanished secret is 404."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from orgconnect.domain.conferencing_connections import (
    ConnectionManagement,
    ConnectionNotFound,
    ManagedConnection,
    RetestNotSupported,
    retest_connection,
)
from orgconnect.domain.connection_checks import CheckFailure, ConnectionCheck, run_steps
from orgconnect.domain.connection_credentials import (
    ConnectionNeedsReauthorization,
    CredentialsMissing,
    StoredCredentials,
)
from orgconnect.domain.model import ConnectionStatus
from orgconnect.domain.provider_model import AccessTokenRejected, ProviderUnavailable
from orgconnect.domain.secrets import new_id
from orgconnect.domain.server_to_server import AuthorizationType
from tests.unit.test_domain_conferencing_connections import OU, deps

LINKED_PASS = ConnectionCheck(
    run_steps(None, {}), None, account_id="acc", account_name="Acme Zoom", linked=True
)


@dataclass
class Credentials:
    """Hands out ``tokens`` in order; a ``rejected`` token moves to the next one."""

    tokens: list[str]
    failure: Exception | None = None
    asked: list[str | None] = field(default_factory=list)

    def credentials(self, connection: object, *, rejected: str | None = None) -> StoredCredentials:
        self.asked.append(rejected)
        if self.failure is not None:
            raise self.failure
        if rejected is not None:
            self.tokens.remove(rejected)
        return StoredCredentials("v1", {"access_token": self.tokens[0], "scope": "user:read:admin"})


@dataclass
class Checker:
    refuse: set[str] = field(default_factory=set)
    seen: list[str] = field(default_factory=list)
    supported: bool = True

    def supports(self, provider_name: str) -> bool:
        return self.supported

    def check(self, connection: ManagedConnection, access_token: str, scope: str | None) -> ConnectionCheck:
        self.seen.append(access_token)
        if access_token in self.refuse:
            raise AccessTokenRejected("Zoom GET /v2/users/me answered 401", error="124", status=401)
        return LINKED_PASS


def linked(
    credentials: Credentials, checker: Checker, status: ConnectionStatus = ConnectionStatus.CONNECTED
) -> tuple[ConnectionManagement, ManagedConnection]:
    d = deps()
    arn = d.secrets.create("cnx", {"access_token": "a0", "refresh_token": "r0"})
    connection = ManagedConnection(
        new_id("cnx"), OU.ou_id, OU.client_id, "zoom_enterprise", "acc", "Acme", status, arn,
        AuthorizationType.OAUTH,
    )  # fmt: skip
    d.connections.items[connection.connection_id] = connection  # type: ignore[attr-defined]
    d.credentials = credentials  # type: ignore[assignment]
    d.linked_checker = checker
    return d, connection


def test_a_linked_connection_passes_and_is_recorded_connected() -> None:
    d, connection = linked(Credentials(["a1"]), Checker(), ConnectionStatus.NEEDS_REAUTHORIZATION)
    outcome = retest_connection(OU, connection.connection_id, d)
    assert outcome.check.passed and outcome.connection.status is ConnectionStatus.CONNECTED
    assert outcome.connection.account_name == "Acme Zoom"
    assert d.connections.items[connection.connection_id].status is ConnectionStatus.CONNECTED  # type: ignore[attr-defined]


def test_a_401_gets_one_fresh_token_then_passes() -> None:
    credentials, checker = Credentials(["a1", "a2"]), Checker(refuse={"a1"})
    d, connection = linked(credentials, checker)
    assert retest_connection(OU, connection.connection_id, d).check.passed
    assert checker.seen == ["a1", "a2"] and credentials.asked == [None, "a1"]


def test_a_fresh_token_refused_too_needs_reauthorization() -> None:
    d, connection = linked(Credentials(["a1", "a2"]), Checker(refuse={"a1", "a2"}))
    outcome = retest_connection(OU, connection.connection_id, d)
    assert outcome.check.failure is CheckFailure.NEEDS_REAUTHORIZATION
    assert outcome.connection.status is ConnectionStatus.NEEDS_REAUTHORIZATION


def test_a_refused_refresh_token_fails_the_test_naming_the_connection() -> None:
    gone = ConnectionNeedsReauthorization("cnx", rotation_lost=True)
    d, connection = linked(Credentials([], failure=gone), Checker())
    outcome = retest_connection(OU, connection.connection_id, d)
    assert outcome.connection.status is ConnectionStatus.NEEDS_REAUTHORIZATION
    [error] = outcome.check.errors()
    assert (error.field, error.key) == ("connection_id", "errors.needs_reauthorization")
    assert "interrupted" in error.description
    assert [s.passed for s in outcome.check.steps] == [False, None, None, None]


def test_an_unreachable_provider_leaves_the_status_alone() -> None:
    d, connection = linked(Credentials([], failure=ProviderUnavailable("Zoom: 503", status=503)), Checker())
    with pytest.raises(ProviderUnavailable):
        retest_connection(OU, connection.connection_id, d)
    assert d.connections.items[connection.connection_id].status is ConnectionStatus.CONNECTED  # type: ignore[attr-defined]


def test_a_vanished_secret_is_not_found() -> None:
    d, connection = linked(Credentials([], failure=CredentialsMissing("cnx")), Checker())
    with pytest.raises(ConnectionNotFound):
        retest_connection(OU, connection.connection_id, d)


def test_a_provider_without_a_linked_test_is_still_not_supported() -> None:
    d, connection = linked(Credentials(["a1"]), Checker(supported=False))
    with pytest.raises(RetestNotSupported):
        retest_connection(OU, connection.connection_id, d)
