"""A provider account uninstalled orgconnect's app (Zoom's ``app_deauthorized``): every connection
linked to that account, under any client, becomes ``revoked`` and its credentials are deleted.

Order, per connection (docs/webhooks.md):

1. **revoke**: the connection's status becomes ``revoked`` (condition: its provider-account link
   was not relinked after the event). Nothing uses a revoked connection's credentials, and the
   provider already revoked its tokens, so from here on the secret is dead weight.
2. **delete the secret** (Secrets Manager, without a recovery window; one already gone is fine).
3. **forget the secret**: ``secret_arn`` is removed from the connection and its link.

A connected connection therefore never loses its secret, and a failure after step 1 leaves a
revoked connection that still names its secret: the provider retries the event (we answer 5xx)
and the retry, finding it revoked, resumes at step 2. A replay, a duplicate or a retry of an
event already applied changes nothing, and costs one read: a link without a secret is done.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Protocol

from msgspec import Struct, field

from orgconnect.domain.model import ConnectionStatus, ProviderAccountLink
from orgconnect.domain.notifications import NO_NOTIFICATIONS, NotificationPublisher
from orgconnect.domain.ports import CredentialVault


class Revocation(StrEnum):
    """What step 1 found."""

    REVOKED = "revoked"  # it was connected (or needed reauthorization): revoked now
    ALREADY_REVOKED = "already_revoked"  # a replay, a duplicate, or a retry resuming at step 2
    RELINKED = "relinked"  # the account was linked again after the event: left alone


class AccountConnections(Protocol):
    """The connections of a provider account, through its provider-account links."""

    def links_of_account(self, provider_name: str, account_id: str) -> list[ProviderAccountLink]:
        """Every client's link to ``account_id`` at ``provider_name`` (a connection's provider name)."""
        ...

    def revoke(self, link: ProviderAccountLink, *, event_time: int, now: int) -> Revocation:
        """Step 1 for ``link``'s connection, unless the link was updated after ``event_time``."""
        ...

    def forget_secret(self, link: ProviderAccountLink, *, event_time: int) -> None:
        """Step 3: remove ``secret_arn`` from the connection and the link (no-op if already done,
        or if the link was relinked after ``event_time``)."""
        ...


class DeauthorizationOutcome(Struct):
    """What one event did: the connection ids per outcome, and the secrets deleted."""

    revoked: list[str] = field(default_factory=list)
    already_revoked: list[str] = field(default_factory=list)
    relinked: list[str] = field(default_factory=list)
    secrets_deleted: int = 0

    @property
    def found(self) -> bool:
        """Whether the account had any connection at all."""
        return bool(self.revoked or self.already_revoked or self.relinked)


def deauthorize_account(
    *,
    provider_names: Iterable[str],
    account_id: str,
    event_time: int,
    connections: AccountConnections,
    vault: CredentialVault,
    now: int,
    notifications: NotificationPublisher = NO_NOTIFICATIONS,
) -> DeauthorizationOutcome:
    """Revoke every connection of ``account_id`` and delete its credentials (module docstring).

    ``provider_names`` are the connection provider names the webhook's provider serves
    (Zoom: ``zoom_enterprise``); ``event_time`` is when the provider says it happened.
    """
    outcome = DeauthorizationOutcome()
    for provider_name in provider_names:
        for link in connections.links_of_account(provider_name, account_id):
            if link.connection_id is None:
                continue  # a calendar tenant's link: no conferencing connection
            if link.secret_arn is None:
                # Step 3 ran: revoked and its secret gone (a relink would have named a new one).
                outcome.already_revoked.append(link.connection_id)
                continue
            if link.updated_at > event_time:
                outcome.relinked.append(link.connection_id)
                continue
            found = connections.revoke(link, event_time=event_time, now=now)
            if found is Revocation.RELINKED:
                outcome.relinked.append(link.connection_id)
                continue
            (outcome.revoked if found is Revocation.REVOKED else outcome.already_revoked).append(
                link.connection_id
            )
            # Before the secret goes: a failure here is retried by the provider, resuming here.
            notifications.connection_status_changed(
                link.connection_id, ConnectionStatus.REVOKED, change_key=f"{link.updated_at}"
            )
            vault.delete(link.secret_arn)
            connections.forget_secret(link, event_time=event_time)
            outcome.secrets_deleted += 1
    return outcome
