"""The interfaces the domain needs from the outside world, implemented in ``orgconnect.store``.

Tests pass in-memory fakes (tests/fakes.py); production passes the DynamoDB repositories.
"""

from __future__ import annotations

from typing import Protocol

from orgconnect.domain.model import ApiKey, Client, LinkTokenGrant, ServiceAccount


class ServiceAccountNotFound(Exception):
    """The service account does not exist, or belongs to another client (indistinguishable on purpose)."""


class ClientStore(Protocol):
    """Integrator applications and their API keys."""

    def create_client(self, client: Client) -> None: ...

    def get_client(self, client_id: str) -> Client | None: ...

    def get_api_key(self, secret_digest: str) -> ApiKey | None: ...


class ServiceAccountStore(Protocol):
    """Enterprise Connect service accounts."""

    def create_service_account(self, service_account: ServiceAccount) -> None: ...


class LinkTokenStore(Protocol):
    """Single-use OU link tokens, stored by digest."""

    def put_link_token(self, token_digest: str, grant: LinkTokenGrant) -> None:
        """Store the grant, atomically checking that the service account belongs to the client.

        Raises ServiceAccountNotFound when it does not (or does not exist).
        """
        ...
