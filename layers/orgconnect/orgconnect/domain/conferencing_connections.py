"""Conferencing connections managed with an Organizational Unit token (SPEC 2.5; issue 11 item 1):
add one with Server-to-Server credentials (tested first), test it again, remove one.

Pure: the repository, the secrets, the provider check and the token revocation are ports
(:class:`ConnectionManagement`), implemented by ``orgconnect.store`` and ``orgconnect.providers``.
The client secret is held only in Secrets Manager; it is never returned, logged or put in an error.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import Any, Protocol

from msgspec import Struct
from msgspec.structs import replace

from orgconnect.domain.connection_checks import CheckFailure, CheckName, ConnectionCheck, run_steps
from orgconnect.domain.connection_credentials import (
    ConnectionCredentials,
    ConnectionNeedsReauthorization,
    CredentialsMissing,
)
from orgconnect.domain.errors import FieldError, InvalidRequest
from orgconnect.domain.model import ConnectionStatus, OrganizationalUnit, ProviderAccountLink
from orgconnect.domain.provider_model import AccessTokenRejected
from orgconnect.domain.secrets import id_pattern, new_id
from orgconnect.domain.server_to_server import (
    AuthorizationType,
    ServerToServerCredentials,
    parse_new_connection,
)

CONNECTION_ID = id_pattern("cnx")
# A removed connection answers a repeated DELETE with 204 for this long, then 404.
TOMBSTONE_SECONDS = 30 * 24 * 3600


class ConnectionNotFound(Exception):
    """No such connection in the caller's OU (unknown, another OU's, or removed): always 404."""


class AlreadyLinked(Exception):
    """The provider account is already linked for this client (to this OU or to another): 409."""

    def __init__(self, link: ProviderAccountLink | None = None, error: FieldError | None = None) -> None:
        super().__init__("provider account already linked")
        self.link = link
        self.error = error


class RetestNotSupported(Exception):
    """``/test`` of a connection linked in the browser flow (no stored credentials to test)."""


class ManagedConnection(Struct, frozen=True):
    """A conferencing connection of an OU, however it was linked."""

    connection_id: str
    ou_id: str
    client_id: str
    provider_name: str
    provider_account_id: str
    account_name: str
    status: ConnectionStatus
    secret_arn: str
    authorization_type: AuthorizationType
    created_at: int = 0
    updated_at: int = 0
    last_tested_at: int | None = None

    def link(self) -> ProviderAccountLink:
        """Its provider-account link (one per client, provider and account)."""
        return ProviderAccountLink(
            self.client_id,
            self.provider_name,
            self.provider_account_id,
            self.ou_id,
            connection_id=self.connection_id,
            secret_arn=self.secret_arn,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


class RemovedConnection(Struct, frozen=True):
    """What is left of a removed connection for a while: enough to answer a repeated DELETE."""

    connection_id: str
    ou_id: str
    secret_arn: str


class ConnectionRepository(Protocol):
    """Connections as this API reads and writes them (store/conferencing_connections.py)."""

    def get(self, connection_id: str) -> ManagedConnection | RemovedConnection | None: ...

    def get_organizational_unit(self, ou_id: str) -> OrganizationalUnit | None: ...

    def get_link(self, client_id: str, provider_name: str, account_id: str) -> ProviderAccountLink | None: ...

    def add(self, connection: ManagedConnection) -> None:
        """Put the connection and its link; AlreadyLinked if the link exists, ConnectionNotFound
        if the OU is gone. All or nothing."""
        ...

    def set_status(self, connection: ManagedConnection) -> None:
        """Write ``status``, ``account_name``, ``updated_at`` and ``last_tested_at`` (if still in the OU)."""
        ...

    def remove(self, connection: ManagedConnection, *, now: int, keep_until: int) -> None:
        """Leave the OU and drop the link, keeping a tombstone until ``keep_until``."""
        ...


class ConnectionSecrets(Protocol):
    """One Secrets Manager secret per connection."""

    def create(self, connection_id: str, tokens: dict[str, Any]) -> str: ...

    def read(self, secret_arn: str) -> dict[str, Any] | None:
        """The secret's JSON, or None when it is gone."""
        ...

    def delete(self, secret_arn: str) -> None:
        """Delete at once, without recovery; a secret already gone is fine."""
        ...


class ServerToServerChecker(Protocol):
    """Tests credentials against the provider (raises ProviderUnavailable when it cannot tell)."""

    def check(self, provider_name: str, credentials: ServerToServerCredentials) -> ConnectionCheck: ...


class TokenRevoker(Protocol):
    """Revokes a browser-linked connection's tokens where the provider offers it."""

    def revoke(self, provider_name: str, tokens: dict[str, Any]) -> bool:
        """True when the provider confirmed; False when it cannot (or refused). Never raises."""
        ...


class LinkedConnectionChecker(Protocol):
    """Tests a browser-linked connection with its access token (AccessTokenRejected on a 401,
    ProviderUnavailable when the provider cannot tell)."""

    def supports(self, provider_name: str) -> bool: ...

    def check(
        self, connection: ManagedConnection, access_token: str, scope: str | None
    ) -> ConnectionCheck: ...


class ConnectionManagement(Struct):
    """The ports this API uses (built by ``orgconnect.runtime``; fakes in unit tests).
    ``credentials`` and ``linked_checker``: testing browser-linked connections (None: not offered)."""

    connections: ConnectionRepository
    secrets: ConnectionSecrets
    checker: ServerToServerChecker
    revoker: TokenRevoker
    now: int
    credentials: ConnectionCredentials | None = None
    linked_checker: LinkedConnectionChecker | None = None
    # Deletes a Teams/Meet connection's user-change subscription before its credentials go
    # (best effort, never raises: domain/webhooks_subscriptions.py). None: nothing to delete.
    unsubscribe: Callable[[ManagedConnection], None] | None = None
    #: Queues a new connection's directory sync (docs/sync.md); None: not here. Never raises.
    request_sync: Callable[[str], bool] | None = None
    #: Called with a connection about to be removed, while its credentials still work
    #: (provisioning's ``deprovision_on_policy_removal``).
    before_removal: Callable[[ManagedConnection], None] | None = None


class RetestOutcome(Struct, frozen=True):
    """``/test``: the connection (status updated when it changed) and what the test found."""

    connection: ManagedConnection
    check: ConnectionCheck


def add_server_to_server_connection(
    ou: OrganizationalUnit, body: dict[str, Any], deps: ConnectionManagement
) -> tuple[ManagedConnection, ConnectionCheck]:
    """Test the credentials, then store them (one secret) and link the account to ``ou``.

    InvalidRequest when the body or the test fails; AlreadyLinked when the account is already
    linked for this client (to this OU or another); ProviderUnavailable when the provider cannot
    be asked. Nothing is left behind on failure.
    """
    provider_name, credentials = parse_new_connection(body)
    check = deps.checker.check(provider_name, credentials)
    if not check.passed:
        raise InvalidRequest(*check.errors())
    account_id = check.account_id or credentials.account_id
    existing = deps.connections.get_link(ou.client_id, provider_name, account_id)
    if existing is not None:
        raise _already_linked(ou, existing)
    connection_id = new_id("cnx")
    secret_arn = deps.secrets.create(connection_id, credentials.to_secret())
    connection = ManagedConnection(
        connection_id=connection_id,
        ou_id=ou.ou_id,
        client_id=ou.client_id,
        provider_name=provider_name,
        provider_account_id=account_id,
        account_name=check.account_name or account_id,
        status=ConnectionStatus.CONNECTED,
        secret_arn=secret_arn,
        authorization_type=AuthorizationType.SERVER_TO_SERVER,
        created_at=deps.now,
        updated_at=deps.now,
        last_tested_at=deps.now,
    )
    try:
        deps.connections.add(connection)
    except AlreadyLinked as lost:  # a concurrent request linked it first
        deps.secrets.delete(secret_arn)
        raise _already_linked(ou, lost.link) from None
    except BaseException:
        # The first failure is what the caller must see, even if the cleanup fails too.
        with suppress(Exception):
            deps.secrets.delete(secret_arn)
        raise
    if deps.request_sync is not None:
        deps.request_sync(connection_id)  # its directory and profiles, like a browser link's
    return connection, check


def _already_linked(ou: OrganizationalUnit, link: ProviderAccountLink | None) -> AlreadyLinked:
    """AlreadyLinked with the error the integrator sees (409): which OU, only when it is this one."""
    if link is not None and link.ou_id == ou.ou_id and link.connection_id:
        where = f"this Organizational Unit as {link.connection_id}"
    else:
        where = "another Organizational Unit of this application"
    error = FieldError(
        "server_to_server.account_id",
        "errors.already_linked",
        f"This provider account is already linked to {where}; remove that connection first.",
    )
    return AlreadyLinked(link, error)


def owned_connection(
    ou: OrganizationalUnit, connection_id: str, deps: ConnectionManagement
) -> ManagedConnection:
    """The OU's live connection, or ConnectionNotFound (malformed, unknown, other OU's, removed)."""
    if not CONNECTION_ID.fullmatch(connection_id):
        raise ConnectionNotFound()
    return _owned(ou, deps.connections.get(connection_id))


def _owned(ou: OrganizationalUnit, found: ManagedConnection | RemovedConnection | None) -> ManagedConnection:
    if not isinstance(found, ManagedConnection) or found.ou_id != ou.ou_id or found.client_id != ou.client_id:
        raise ConnectionNotFound()
    return found


def retest_connection(
    ou: OrganizationalUnit, connection_id: str, deps: ConnectionManagement
) -> RetestOutcome:
    """Run the connection test again; record the status when it changed (ProviderUnavailable:
    the status is left as it was)."""
    connection = owned_connection(ou, connection_id, deps)
    stored = deps.secrets.read(connection.secret_arn)
    if stored is None:
        raise ConnectionNotFound()  # removed while we read it
    # The secret says how the connection is held now (the browser flow may relink an account).
    if stored.get("authorization_type") == AuthorizationType.SERVER_TO_SERVER:
        check = deps.checker.check(connection.provider_name, ServerToServerCredentials.from_secret(stored))
    else:
        check = _check_linked(connection, deps)
    status = ConnectionStatus.CONNECTED if check.passed else ConnectionStatus.NEEDS_REAUTHORIZATION
    updated = replace(
        connection,
        status=status,
        account_name=check.account_name or connection.account_name,
        updated_at=deps.now,
        last_tested_at=deps.now,
    )
    deps.connections.set_status(updated)
    return RetestOutcome(updated, check)


def _check_linked(connection: ManagedConnection, deps: ConnectionManagement) -> ConnectionCheck:
    """A browser-linked connection: a valid access token (refreshed when needed, once per
    connection at a time), then the provider's read; a refused refresh token fails the test."""
    credentials, checker = deps.credentials, deps.linked_checker
    if credentials is None or checker is None or not checker.supports(connection.provider_name):
        raise RetestNotSupported()
    try:
        tokens = credentials.credentials(connection).tokens
        try:
            return checker.check(connection, tokens.access_token, tokens.scope)
        except AccessTokenRejected:  # revoked or expired early: refresh once, then ask again
            tokens = credentials.credentials(connection, rejected=tokens.access_token).tokens
            return checker.check(connection, tokens.access_token, tokens.scope)
    except ConnectionNeedsReauthorization as gone:
        lost = " (a refresh was interrupted before its rotated token was saved)" if gone.rotation_lost else ""
        return _reauthorization_check(lost)
    except AccessTokenRejected:  # even a freshly refreshed token: the authorization is gone
        return _reauthorization_check("")
    except CredentialsMissing:
        raise ConnectionNotFound() from None


def _reauthorization_check(detail: str) -> ConnectionCheck:
    steps = run_steps(
        CheckName.CREDENTIALS, {CheckName.CREDENTIALS: "the provider refused the refresh token"}
    )
    return ConnectionCheck(steps, CheckFailure.NEEDS_REAUTHORIZATION, detail=detail, linked=True)


def remove_connection(ou: OrganizationalUnit, connection_id: str, deps: ConnectionManagement) -> bool:
    """Remove the OU's connection: revoke browser-linked tokens where the provider allows, leave
    the OU, delete the secret. A repeat of a completed removal is True again (and deletes the
    secret again, in case the first attempt failed after leaving the OU); another OU's id, an
    unknown one or an old tombstone is ConnectionNotFound. Returns whether tokens were revoked."""
    if not CONNECTION_ID.fullmatch(connection_id):
        raise ConnectionNotFound()
    found = deps.connections.get(connection_id)
    if isinstance(found, RemovedConnection):
        if found.ou_id != ou.ou_id:
            raise ConnectionNotFound()
        if found.secret_arn:  # a revoked connection's secret may be gone already
            deps.secrets.delete(found.secret_arn)
        return False
    connection = _owned(ou, found)
    if deps.before_removal is not None:
        deps.before_removal(connection)  # before the tokens are revoked and the secret deleted
    if deps.unsubscribe is not None and connection.secret_arn:
        deps.unsubscribe(connection)  # with the credentials: before they are revoked and deleted
    stored = deps.secrets.read(connection.secret_arn) if connection.secret_arn else None
    revoked = False
    if stored and stored.get("authorization_type") != AuthorizationType.SERVER_TO_SERVER:
        # Server-to-Server tokens cannot be revoked by a third party; they expire within the hour.
        revoked = deps.revoker.revoke(connection.provider_name, stored)
    deps.connections.remove(connection, now=deps.now, keep_until=deps.now + TOMBSTONE_SECONDS)
    if connection.secret_arn:
        deps.secrets.delete(connection.secret_arn)
    return revoked
