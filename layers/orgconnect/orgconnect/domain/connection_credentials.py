"""A conferencing connection's live provider credentials: one service that hands a caller a valid
access token, refreshing it at most once at a time per connection (issue 8 item 6, issue 9 item 4).

Zoom and Microsoft rotate the refresh token on every refresh (the old one stops working), so two
refreshes from the same refresh token cannot both succeed and a rotated token that is not saved
is lost. The algorithm (docs/connections.md, "Live credentials"):

1. Read the secret. An access token valid for at least the safety margin is returned.
2. Else take the connection's lease (a conditional write with an expiry, checked in the
   condition because TTL deletion is lazy). A caller that finds it held polls the secret
   (bounded) and never refreshes in parallel.
3. Holding the lease: read the secret again (the previous holder may have refreshed), refresh,
   and save the rotated tokens only if the version we refreshed from is still the current one
   (a compare-and-swap), then release the lease.
4. ``invalid_grant`` marks the connection ``needs_reauthorization`` and raises
   :class:`ConnectionNeedsReauthorization`; an unreachable provider keeps the credentials and
   raises ProviderUnavailable. Either outcome is kept on the lease briefly, so the callers
   waiting on it fail at once instead of each trying again.
5. A refresh token whose stated expiry (Webex's ``refresh_token_expires_in``) has passed by our
   clock takes the ``invalid_grant`` path without a call to the provider; the scheduled reconcile
   refreshes a connection whose refresh token expires within :data:`REFRESH_RENEWAL_MARGIN`
   (``renew_within``), so one that is never used otherwise still starts a new lifetime.

Pure: the secret, the lease, the status and the provider are ports implemented by
``orgconnect.store`` and ``orgconnect.providers``; tests use in-memory fakes.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any, Protocol

from msgspec import Struct

from orgconnect.domain.errors import DomainError, TemporarilyUnavailable
from orgconnect.domain.model import ConnectionStatus
from orgconnect.domain.notifications import NO_NOTIFICATIONS, NotificationPublisher
from orgconnect.domain.provider_model import (
    ProviderAnswerMalformed,
    ProviderRefused,
    ProviderTokens,
    ProviderUnavailable,
    RefreshTokenRejected,
)
from orgconnect.domain.redacted import Redacted

#: What a lease left behind by a failed refresh says, so its waiters fail the same way.
NEEDS_REAUTHORIZATION = "needs_reauthorization"
PROVIDER_UNAVAILABLE = "provider_unavailable"

#: Seconds before a refresh token's stated expiry the reconcile renews it: a week of failed
#: attempts (provider outages, ~28 runs of the 6-hourly schedule) still ends before it expires.
REFRESH_RENEWAL_MARGIN = 7 * 86_400


class LinkedConnection(Protocol):
    """What the service needs to know of a connection (ManagedConnection and Connection fit)."""

    @property
    def connection_id(self) -> str: ...

    @property
    def provider_name(self) -> str: ...

    @property
    def provider_account_id(self) -> str: ...

    @property
    def secret_arn(self) -> str: ...


class StoredCredentials(Redacted, frozen=True):
    """The connection's secret as read: its version id (the compare-and-swap token) and JSON."""

    __redacted__ = frozenset({"data"})

    version: str
    data: dict[str, Any]

    @property
    def tokens(self) -> ProviderTokens:
        """The provider tokens of the secret (``ProviderTokens.to_dict()`` shape)."""
        return ProviderTokens.from_dict(self.data)

    def usable(
        self, now: int, margin: int, rejected: str | None = None, *, renew_within: int | None = None
    ) -> bool:
        """An access token that is not ``rejected`` and stays valid for ``margin`` more seconds
        (one without a known expiry counts as valid until the provider rejects it); with
        ``renew_within``, also a refresh token that does not expire within that many seconds."""
        tokens = self.tokens
        if not tokens.access_token or tokens.access_token == rejected:
            return False
        if renew_within is not None and tokens.refresh_expires_within(now, renew_within):
            return False
        return tokens.expires_at is None or tokens.expires_at - margin > now


class StaleCredentials(Exception):
    """The secret's current version is no longer the one the tokens were refreshed from."""


class CredentialsVault(Protocol):
    """The connection's secret, versioned (store/vault.py)."""

    def read_current(self, secret_arn: str) -> StoredCredentials | None:
        """The current version, or None when the secret is gone."""
        ...

    def replace_current(self, secret_arn: str, base_version: str, data: dict[str, Any]) -> str:
        """Make ``data`` the current version if ``base_version`` still is; StaleCredentials if
        not. Returns the new version id."""
        ...


class Lease(Struct, frozen=True):
    """Who refreshes a connection's tokens until ``expires_at``, from which secret version;
    ``failure`` is set when a failed refresh left the lease to tell its waiters."""

    connection_id: str
    holder: str
    expires_at: int
    base_version: str
    failure: str | None = None


class LeaseAttempt(Struct, frozen=True):
    """The outcome of trying to take a lease: taken (``taken_over``: the expired lease of a holder
    that never released it), or held by ``current`` (None when it was released meanwhile)."""

    acquired: bool
    current: Lease | None = None
    taken_over: Lease | None = None


class ConnectionLeases(Protocol):
    """One lease per connection (store/connection_leases.py)."""

    def acquire(self, lease: Lease, *, now: int) -> LeaseAttempt:
        """Take ``lease`` unless another one is live at ``now``."""
        ...

    def release(self, connection_id: str, holder: str) -> None:
        """Drop the lease if ``holder`` still holds it."""
        ...

    def hold_failure(self, connection_id: str, holder: str, *, failure: str, until: int) -> None:
        """Keep the lease until ``until`` with ``failure``, if ``holder`` still holds it."""
        ...


class ConnectionStatusWriter(Protocol):
    """Records that a connection's authorization is gone (read by userinfo and the OU views)."""

    def mark_needs_reauthorization(self, connection_id: str, *, now: int) -> None: ...


class TokenRefresher(Protocol):
    """The provider's refresh grant for a connection (orgconnect.providers.connection_tokens).
    Raises RefreshTokenRejected, ProviderRefused, ProviderUnavailable or ProviderAnswerMalformed."""

    def refresh(self, connection: LinkedConnection, tokens: ProviderTokens) -> ProviderTokens: ...


class ConnectionNeedsReauthorization(DomainError):
    """The provider refused the refresh token (``invalid_grant``): an administrator must link the
    account again. ``rotation_lost``: a previous holder's refresh was interrupted before its
    rotated token was saved, which is the likely cause."""

    def __init__(self, connection_id: str, *, rotation_lost: bool = False) -> None:
        super().__init__(f"{connection_id} needs reauthorization")
        self.connection_id = connection_id
        self.rotation_lost = rotation_lost


class CredentialsBusy(TemporarilyUnavailable):
    """Another caller held the connection's lease for longer than this caller may wait."""


class CredentialsMissing(DomainError):
    """The connection's secret is gone (the connection was removed or revoked meanwhile)."""


class CredentialPolicy(Struct, frozen=True):
    """Seconds. The lease outlives the longest refresh (timeouts and retries of the refresher),
    so a live holder is never overtaken; waiters give up well inside API Gateway's 29 s."""

    safety_margin: int = 300
    lease_seconds: int = 30
    wait_seconds: float = 12.0
    poll_seconds: float = 0.2
    failure_hold_seconds: int = 5


class ConnectionCredentials:
    """Valid access tokens for connections; at most one refresh at a time per connection."""

    def __init__(
        self,
        *,
        vault: CredentialsVault,
        leases: ConnectionLeases,
        statuses: ConnectionStatusWriter,
        refresher: TokenRefresher,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Any] = time.sleep,
        policy: CredentialPolicy | None = None,
        notifications: NotificationPublisher = NO_NOTIFICATIONS,
    ) -> None:
        self._vault = vault
        self._leases = leases
        self._statuses = statuses
        self._refresher = refresher
        self._clock = clock
        self._sleep = sleep
        self.policy = policy or CredentialPolicy()
        self._notifications = notifications

    def access_token(self, connection: LinkedConnection, *, rejected: str | None = None) -> str:
        """A valid access token for ``connection``; ``rejected``: a token the provider just
        refused (401), which is never handed out again. Raises ConnectionNeedsReauthorization,
        ProviderUnavailable (credentials kept), CredentialsBusy or CredentialsMissing."""
        return self.credentials(connection, rejected=rejected).tokens.access_token

    def renew_refresh_token(
        self, connection: LinkedConnection, *, within: int = REFRESH_RENEWAL_MARGIN
    ) -> None:
        """Refresh when the refresh token's stated expiry is less than ``within`` seconds away, so
        the provider starts a new lifetime (the scheduled reconcile); nothing when it is further
        or unknown. Raises like :meth:`access_token` (an expired one: ConnectionNeedsReauthorization)."""
        self.credentials(connection, renew_within=within)

    def credentials(
        self, connection: LinkedConnection, *, rejected: str | None = None, renew_within: int | None = None
    ) -> StoredCredentials:
        """Like :meth:`access_token`, with the rest of the secret (its scope, its version);
        ``renew_within``: see :meth:`renew_refresh_token`."""
        deadline = self._clock() + self.policy.wait_seconds
        holder = secrets.token_urlsafe(12)
        while True:
            stored = self._read(connection)
            if stored.usable(self._now(), self.policy.safety_margin, rejected, renew_within=renew_within):
                return stored
            now = self._now()
            lease = Lease(connection.connection_id, holder, now + self.policy.lease_seconds, stored.version)
            attempt = self._leases.acquire(lease, now=now)
            if attempt.acquired:
                refreshed = self._refresh_holding(
                    connection, lease, attempt.taken_over, rejected, renew_within
                )
                if refreshed is not None:
                    return refreshed
                continue  # a newer version appeared meanwhile: read it
            if attempt.current is not None and attempt.current.failure is not None:
                raise self._failure(connection, attempt.current, now)
            if self._clock() >= deadline:
                raise CredentialsBusy(f"{connection.connection_id}: another refresh is still running")
            self._sleep(self.policy.poll_seconds)

    def _now(self) -> int:
        return int(self._clock())

    def _read(self, connection: LinkedConnection) -> StoredCredentials:
        stored = self._vault.read_current(connection.secret_arn)
        if stored is None:
            raise CredentialsMissing(connection.connection_id)
        return stored

    def _refresh_holding(
        self,
        connection: LinkedConnection,
        lease: Lease,
        taken_over: Lease | None,
        rejected: str | None,
        renew_within: int | None = None,
    ) -> StoredCredentials | None:
        """Under the lease: re-read, refresh, save with a compare-and-swap, release. None when the
        save lost to a newer version (the caller reads again)."""
        try:
            current = self._read(connection)
        except BaseException:
            self._release(lease)
            raise
        if current.usable(self._now(), self.policy.safety_margin, rejected, renew_within=renew_within):
            self._release(lease)
            return current
        if current.tokens.refresh_expired(self._now()):
            # The provider said when it expires: it would refuse it, so it is not asked.
            raise self._needs_reauthorization(connection, lease, current)
        # A holder that never released, whose refresh started from this very version: its
        # request may have reached the provider and rotated the token we are about to send.
        rotation_lost = (
            taken_over is not None
            and taken_over.failure is None
            and taken_over.base_version == current.version
        )
        try:
            tokens = self._refresher.refresh(connection, current.tokens)
        except RefreshTokenRejected:
            latest = self._read(connection)
            if latest.version != current.version:
                self._release(lease)  # a relink or an overtaken holder saved newer tokens
                return None
            raise self._needs_reauthorization(
                connection, lease, current, rotation_lost=rotation_lost
            ) from None
        except ProviderUnavailable:
            self._hold_failure(lease, PROVIDER_UNAVAILABLE)
            raise
        except (ProviderRefused, ProviderAnswerMalformed) as error:
            # Not the connection's fault (our app's credentials, a provider bug): keep the tokens.
            self._hold_failure(lease, PROVIDER_UNAVAILABLE)
            raise ProviderUnavailable(error.description) from None
        except BaseException:
            self._release(lease)
            raise
        data = {**current.data, **tokens.to_dict()}
        try:
            version = self._vault.replace_current(connection.secret_arn, current.version, data)
        except StaleCredentials:
            self._release(lease)
            return None
        except BaseException:
            # The provider answered but the rotated token may not be saved: the next refresh tells.
            self._release(lease)
            raise
        self._release(lease)
        return StoredCredentials(version, data)

    def _needs_reauthorization(
        self,
        connection: LinkedConnection,
        lease: Lease,
        current: StoredCredentials,
        *,
        rotation_lost: bool = False,
    ) -> ConnectionNeedsReauthorization:
        """Mark the connection, leave the outcome on the lease for its waiters, tell the integrator;
        the error for the caller to raise."""
        self._statuses.mark_needs_reauthorization(connection.connection_id, now=self._now())
        self._hold_failure(lease, NEEDS_REAUTHORIZATION)
        with suppress(TemporarilyUnavailable):  # logged; the next refusal of these tokens retries it
            self._notifications.connection_status_changed(
                connection.connection_id,
                ConnectionStatus.NEEDS_REAUTHORIZATION,
                change_key=current.version,
            )
        return ConnectionNeedsReauthorization(connection.connection_id, rotation_lost=rotation_lost)

    def _release(self, lease: Lease) -> None:
        with suppress(TemporarilyUnavailable):  # the lease expires by itself
            self._leases.release(lease.connection_id, lease.holder)

    def _hold_failure(self, lease: Lease, failure: str) -> None:
        # If this write fails, waiters find no lease and try once more themselves.
        with suppress(TemporarilyUnavailable):
            self._leases.hold_failure(
                lease.connection_id,
                lease.holder,
                failure=failure,
                until=self._now() + self.policy.failure_hold_seconds,
            )

    @staticmethod
    def _failure(connection: LinkedConnection, lease: Lease, now: int) -> Exception:
        if lease.failure == NEEDS_REAUTHORIZATION:
            return ConnectionNeedsReauthorization(connection.connection_id)
        return ProviderUnavailable(
            f"{connection.connection_id}: the provider did not answer the last refresh",
            retry_after=float(max(1, lease.expires_at - now)),
        )
