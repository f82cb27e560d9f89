"""Provisioning at Zoom (issue 11 item 3; docs/provisioning.md): the plan of domain/provisioning.py
carried out with the connection's live credentials, each action recorded in the provisioning log.

Entry points: ``provision_account`` (delegated access, after matching), ``deprovision_account``
(an account revoked with ``request_pii_erasure``) and ``apply`` (the reconcile, with a plan it
built). Idempotent under redelivery: every plan compares the current state afresh, and a create
repeated after a lost answer is answered 409 / 1005 and adopts the user it made. A provider
failure ends in the log (and the worker's log), never in the delegated-access callback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from msgspec import Struct
from msgspec.structs import replace

from orgconnect.domain.conferencing import DirectoryUser, UserStatus
from orgconnect.domain.matching import AccessTokens, ConferencingProfile, with_connection_token
from orgconnect.domain.model import ConnectionStatus
from orgconnect.domain.provider_model import ProviderError, ProviderRefused, ProviderUnavailable
from orgconnect.domain.provisioning import ActionKind, CalendarUser, ProvisioningAction, ZoomUser, plan
from orgconnect.domain.provisioning_log import (
    EventResult,
    ProvisioningEvent,
    ProvisioningEventLog,
    short_error,
)
from orgconnect.domain.provisioning_policy import (
    PROVISIONING_PROVIDERS,
    DirectoryAttribute,
    ProvisioningPolicy,
    RemoveAction,
)
from orgconnect.domain.provisioning_policy_management import PolicySubject
from orgconnect.domain.secrets import new_id
from orgconnect.observability import logger
from orgconnect.workers.connection_calls import CONNECTION_SKIPPED, log_connection_skipped

if TYPE_CHECKING:
    from orgconnect.domain.accounts import Account
    from orgconnect.domain.conferencing_connections import ManagedConnection
    from orgconnect.providers.zoom_users import ZoomUsers

EMAIL_LIMIT = "Zoom's email-change limit for this user is reached (3 a day); not retried"
NOT_MANAGED = "Zoom refused the email change: the domain is not a managed domain of the account (1116)"
#: Zoom's users client of a connection: (access token, io_retries) -> ZoomUsers.
UsersFactory = Callable[[str, int], "ZoomUsers"]


class EmailChangeRefused(ProviderRefused):
    """Zoom refused an email change for a reason retrying cannot fix (limit, unmanaged domain)."""


class Profiles(Protocol):
    """``DynamoConferencingProfiles``: profiles by account, and the OU's connections."""

    def for_account(self, account_id: str) -> list[ConferencingProfile]: ...

    def save(self, profile: ConferencingProfile) -> ConferencingProfile: ...

    def connections(self, ou_id: str) -> list[ManagedConnection]: ...


class Policies(Protocol):
    """``DynamoProvisioningPolicies.get``."""

    def get(self, connection_id: str) -> PolicySubject | None: ...


class Directory(Protocol):
    """``DynamoDirectory.store``: what matching reads first."""

    def store(self, connection_id: str, users: Iterable[DirectoryUser]) -> int: ...


def calendar_user(
    account: Account,
    *,
    departed: bool = False,
    zoom_user_id: str | None = None,
    active: bool = True,
    directory: Mapping[str, str | bool] | None = None,
) -> CalendarUser:
    """An account as the planner sees it: its address, and its name split into given and family
    names at the first space; ``active`` False when its calendar directory lists it suspended.
    ``directory``: what delegated access's lookup found (``DirectoryUser.attributes``); its values
    win over the name split, and its ``user_principal_name`` over the address."""
    attributes: dict[str, str | bool] = {"email": account.email, "user_principal_name": account.email}
    if not active:
        attributes["active"] = False
    if account.name:
        given, _, family = account.name.strip().partition(" ")
        attributes["display_name"] = account.name.strip()
        attributes["given_name"] = given
        if family.strip():
            attributes["family_name"] = family.strip()
    for key, value in (directory or {}).items():
        if key != DirectoryAttribute.EMAIL and (isinstance(value, bool) or value.strip()):
            attributes[key] = value
    return CalendarUser(account.account_id, account.email, attributes, departed, zoom_user_id)


class Provisioner(Struct):
    """Carries out provisioning plans for the OU's Zoom connections."""

    profiles: Profiles
    policies: Policies
    directory: Directory
    tokens: AccessTokens
    users: UsersFactory
    log: ProvisioningEventLog
    now: Callable[[], int]

    def provision_account(
        self, account: Account, ou_id: str | None, *, attributes: Mapping[str, str | bool] | None = None
    ) -> list[ProvisioningEvent]:
        """After matching: create the account's Zoom user where the policy says so, refresh a
        pending profile's status, update its attributes (``attributes``: the calendar directory's,
        see :func:`calendar_user`). Never raises for a provider failure."""
        return self._for_account(account, ou_id, departed=False, directory=attributes)

    def deprovision_account(self, account: Account, ou_id: str | None) -> list[ProvisioningEvent]:
        """The account left (revoked with ``request_pii_erasure``): remove its Zoom users per policy."""
        return self._for_account(account, ou_id, departed=True)

    def apply(
        self, connection: ManagedConnection, policy: ProvisioningPolicy, actions: Sequence[ProvisioningAction]
    ) -> list[ProvisioningEvent]:
        """Carry out ``actions`` (a plan of ``domain.provisioning.plan``) with the connection's
        credentials; every action is logged. ProviderError / TemporarilyUnavailable when no
        token can be had (nothing was done; the reconcile tries again next run)."""
        if not actions:
            return []
        return with_connection_token(
            self.tokens, connection, lambda token: self._execute(connection, policy, actions, token)
        )

    # -- one account ------------------------------------------------------------------------------

    def _for_account(
        self,
        account: Account,
        ou_id: str | None,
        *,
        departed: bool,
        directory: Mapping[str, str | bool] | None = None,
    ) -> list[ProvisioningEvent]:
        if not ou_id:
            return []
        events: list[ProvisioningEvent] = []
        profiles = {p.connection_id: p for p in self.profiles.for_account(account.account_id)}
        for connection in self.profiles.connections(ou_id):
            if connection.provider_name not in PROVISIONING_PROVIDERS:
                continue
            if connection.status is ConnectionStatus.REVOKED:
                continue
            subject = self.policies.get(connection.connection_id)
            if subject is None or not subject.stored.policy.enabled:
                continue
            policy, profile = subject.stored.policy, profiles.get(connection.connection_id)
            try:
                cal = calendar_user(
                    account,
                    departed=departed,
                    zoom_user_id=profile.provider_user_id if profile else None,
                    directory=directory,
                )
                events.extend(self._with_token(connection, policy, cal, profile))
            except CONNECTION_SKIPPED as e:
                log_connection_skipped("provisioning skipped", connection.connection_id, e)
        return events

    def _with_token(
        self,
        connection: ManagedConnection,
        policy: ProvisioningPolicy,
        cal: CalendarUser,
        profile: ConferencingProfile | None,
    ) -> list[ProvisioningEvent]:
        return with_connection_token(
            self.tokens, connection, lambda token: self._one(connection, policy, cal, profile, token)
        )

    def _one(
        self,
        connection: ManagedConnection,
        policy: ProvisioningPolicy,
        cal: CalendarUser,
        profile: ConferencingProfile | None,
        token: str,
    ) -> list[ProvisioningEvent]:
        users = self.users(token, policy.io_retries)
        zoom: ZoomUser | None = None
        if profile is not None:
            if cal.departed or policy.update_users or profile.status is not UserStatus.ACTIVE:
                zoom = users.get(profile.provider_user_id)  # its status and attributes now
                if zoom is not None:
                    self._keep(connection, replace(profile, profile_name=zoom.email, status=zoom.status))
            else:
                zoom = ZoomUser(profile.provider_user_id, profile.profile_name, profile.status)
        actions = plan(policy, [cal], [zoom] if zoom else [])
        return self._execute(connection, policy, actions, token, users)

    # -- carrying out -----------------------------------------------------------------------------

    def _execute(
        self,
        connection: ManagedConnection,
        policy: ProvisioningPolicy,
        actions: Sequence[ProvisioningAction],
        token: str,
        users: ZoomUsers | None = None,
    ) -> list[ProvisioningEvent]:
        client = users or self.users(token, policy.io_retries)
        return [self._carry_out(connection, policy, action, client) for action in actions]

    def _carry_out(
        self,
        connection: ManagedConnection,
        policy: ProvisioningPolicy,
        action: ProvisioningAction,
        users: ZoomUsers,
    ) -> ProvisioningEvent:
        kind, user_id = action.kind, action.provider_user_id
        if action.skip_reason:
            return self._record(
                connection, action, str(kind), user_id, EventResult.SKIPPED, action.skip_reason
            )
        try:
            if kind is ActionKind.CREATE:
                kind, created = self._create(policy, action, users)
                user_id = created.user_id
                self._profile_for(connection, action, created)
            elif kind is ActionKind.UPDATE:
                self._update(action, users)
            elif user_id is not None:
                how = action.remove_action or RemoveAction.DEACTIVATE
                if kind is ActionKind.DISABLE or how is RemoveAction.DEACTIVATE:
                    users.set_status(user_id, "deactivate")
                    if action.logout:
                        users.logout(user_id)
                else:
                    users.remove(user_id, how)
                self._profile_for(connection, action, ZoomUser(user_id, action.email, UserStatus.INACTIVE))
        except ProviderError as error:
            if isinstance(error, ProviderRefused) and error.status == 401:
                raise  # the token: with_connection_token gets a fresh one and plans again
            why = _why(action, error)
            logger.warning(
                "provisioning action failed",
                extra={"connection_id": connection.connection_id, "action": str(kind), "why": why},
            )
            return self._record(connection, action, str(kind), user_id, EventResult.FAILED, why)
        return self._record(connection, action, str(kind), user_id, EventResult.OK, None)

    @staticmethod
    def _create(
        policy: ProvisioningPolicy, action: ProvisioningAction, users: ZoomUsers
    ) -> tuple[ActionKind, ZoomUser]:
        from orgconnect.providers.zoom_users import UserAlreadyExists

        first, last = action.changes.get("first_name"), action.changes.get("last_name")
        try:
            created = users.create(
                action.email,
                action=policy.create_action,
                user_type=policy.user_type,
                first_name=first if isinstance(first, str) else None,
                last_name=last if isinstance(last, str) else None,
            )
            return ActionKind.CREATE, created
        except UserAlreadyExists as exists:
            found = users.get(action.email)  # seed 004: the duplicate's id, looked up by email
            if found is None:
                raise ProviderRefused(
                    "Zoom: 409 for an email it then did not find", error=exists.error
                ) from None
            return ActionKind.ADOPT, found

    @staticmethod
    def _update(action: ProvisioningAction, users: ZoomUsers) -> None:
        user_id = action.provider_user_id or action.email
        changes = dict(action.changes)
        if changes.pop("status", None) == "active":
            users.set_status(user_id, "activate")  # first: Zoom updates active users only
        users.update(user_id, changes)
        email = changes.get("email")
        if isinstance(email, str):
            try:
                users.change_email(user_id, email)
            except ProviderUnavailable as limited:
                if limited.status == 429:
                    raise EmailChangeRefused(EMAIL_LIMIT, error="email_limit", status=429) from None
                raise
            except ProviderRefused as refused:
                if refused.error == "1116":
                    raise EmailChangeRefused(NOT_MANAGED, error="1116", status=refused.status) from None
                raise

    def _profile_for(self, connection: ManagedConnection, action: ProvisioningAction, user: ZoomUser) -> None:
        """The account's profile at the connection now shows ``user`` (matching reads it)."""
        if action.account_id is None:
            self.directory.store(
                connection.connection_id, [DirectoryUser(user.user_id, user.email, user.email, user.status)]
            )
            return
        current = {p.connection_id: p for p in self.profiles.for_account(action.account_id)}
        before = current.get(connection.connection_id)
        profile = ConferencingProfile(
            profile_id=before.profile_id if before else new_id("pro"),
            account_id=action.account_id,
            connection_id=connection.connection_id,
            provider_name="zoom",
            provider_user_id=user.user_id,
            profile_name=user.email,
            status=user.status,
        )
        self._keep(connection, profile)

    def _keep(self, connection: ManagedConnection, profile: ConferencingProfile) -> None:
        self.profiles.save(profile)
        self.directory.store(
            connection.connection_id,
            [
                DirectoryUser(
                    profile.provider_user_id, profile.profile_name, profile.profile_name, profile.status
                )
            ],
        )

    def _record(
        self,
        connection: ManagedConnection,
        action: ProvisioningAction,
        kind: str,
        user_id: str | None,
        result: EventResult,
        error: str | None,
    ) -> ProvisioningEvent:
        event = ProvisioningEvent(
            event_id=new_id("pev"),
            ou_id=connection.ou_id,
            connection_id=connection.connection_id,
            occurred_at=self.now(),
            action=kind,
            account_id=action.account_id,
            provider_user_id=user_id,
            result=result,
            error=short_error(error) if error else None,
        )
        logger.info(
            "provisioning action",
            extra={
                "connection_id": connection.connection_id,
                "action": kind,
                "result": str(result),
                "account_id": action.account_id,
                "provider_user_id": user_id,
            },
        )
        self.log.record(event)  # after the worker's log line: a failed write still leaves that
        return event


def _why(action: ProvisioningAction, error: ProviderError) -> str:
    """The log's error: what Zoom answered, never a path (it may hold an email) nor a body."""
    if isinstance(error, EmailChangeRefused):
        return error.description
    if isinstance(error, ProviderUnavailable):
        status = f"answered {error.status}" if error.status else "did not answer"
        return f"Zoom {status} after the retries (io_retries)"
    if isinstance(error, ProviderRefused):
        return f"Zoom refused: HTTP {error.status}, code {error.error}"
    return f"Zoom's answer was not usable ({type(error).__name__})"
