"""The interfaces the domain and the flow need from the outside world.

``orgconnect.store`` implements the repositories over DynamoDB and Secrets Manager, the
``orgconnect.providers`` clients implement the provider ports, and ``orgconnect.runtime`` wires
them into :class:`FlowDependencies`. Tests pass in-memory fakes (tests/fakes.py); the contract
suite (tests/contract/) runs the same tests against both, so the fakes cannot drift.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from msgspec import Struct

from orgconnect.domain.model import (
    ApiKey,
    Client,
    Connection,
    LinkTokenGrant,
    OrganizationalUnit,
    ProviderAccountLink,
    ServiceAccount,
)
from orgconnect.domain.provider_model import ProviderAccount, ProviderTokens, Purpose

if TYPE_CHECKING:
    from orgconnect.domain.authorization import Approval, AuthorizationRequest, ProviderState, Step
    from orgconnect.domain.enterprise_connect import EnterpriseConnectRepository
    from orgconnect.domain.notifications import NotificationPublisher
    from orgconnect.domain.relink import RelinkStore
    from orgconnect.domain.sealing import Sealer
    from orgconnect.domain.secrets import SecretHasher


class ServiceAccountNotFound(Exception):
    """The service account does not exist, or belongs to another client (indistinguishable on purpose)."""


class LinkTokenUnavailable(Exception):
    """The link token is unknown, expired, already used, or bound to another client."""


class StateUnavailable(Exception):
    """The provider state is unknown, expired or already used."""


class StepConflict(Exception):
    """The authorization request is no longer where this request expected it (replay, lost race)."""


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


# -- the authorization flow ---------------------------------------------------------------------


class StartRead(Struct, frozen=True):
    """What the flow's first request needs, read at once: the client, the link token (if alive)
    and whether it was used, and this browser's current request (if alive)."""

    client: Client | None
    link_token: LinkTokenGrant | None
    link_token_used: bool
    resumable: AuthorizationRequest | None


class FlowStateRepository(Protocol):
    """Authorization requests and provider OAuth states (every read honours ``expires_at``)."""

    def read_start(self, client_id: str | None, link_digest: str, request_id: str | None) -> StartRead:
        """The client, the link token and the browser's request in one read (ids already validated)."""
        ...

    def start_request(self, request: AuthorizationRequest) -> None:
        """Consume the link token and create the request atomically (LinkTokenUnavailable if lost)."""
        ...

    def get_request(self, request_id: str) -> AuthorizationRequest | None: ...

    def save_request(self, request: AuthorizationRequest, *, expected_step: Step) -> None:
        """Replace the request if it is alive and still at ``expected_step`` (else StepConflict)."""
        ...

    def end_request(self, request: AuthorizationRequest, *, outcome: str) -> None:
        """Mark the request done without linking anything (StepConflict if it already was)."""
        ...

    def put_state(self, state_digest: str, state: ProviderState) -> None: ...

    def consume_state(self, state_digest: str) -> ProviderState:
        """Delete the state and return it, once (StateUnavailable if unknown, expired or used)."""
        ...


class ServiceAccountRepository(Protocol):
    """Service accounts as the flow reads them."""

    def get_with_client(
        self, client_id: str, service_account_id: str
    ) -> tuple[Client | None, ServiceAccount | None]:
        """The client and the service account, in one read."""
        ...


class OrganizationalUnitRepository(Protocol):
    """Organizational units."""

    def get_many(self, ou_ids: list[str]) -> list[OrganizationalUnit]:
        """The OUs that exist among ``ou_ids``, in one read."""
        ...


class ConnectionRepository(Protocol):
    """Provider-account links (which OU a conferencing account or calendar tenant belongs to)."""

    def get_link(self, client_id: str, provider_name: str, account_id: str) -> ProviderAccountLink | None: ...


class ApprovalRepository(Protocol):
    """SPEC 3 step 7 as one atomic write."""

    def approve(self, approval: Approval) -> None:
        """Finish the request, create or check the OU, link the service account, write the member
        and its link, issue the code; all or nothing. StepConflict when a condition no longer holds."""
        ...


class CredentialVault(Protocol):
    """Where a connection's provider tokens live (one secret per connection)."""

    def create(self, connection_id: str, tokens: dict[str, Any]) -> str:
        """Create the secret and return its ARN."""
        ...

    def replace(self, secret_arn: str, tokens: dict[str, Any]) -> None: ...

    def delete(self, secret_arn: str) -> None: ...


class AuthorizationClient(Protocol):
    """orgconnect as an OAuth client of one provider (``orgconnect.providers.base.OAuthProvider``)."""

    @property
    def label(self) -> str: ...

    @property
    def supports_pkce(self) -> bool: ...

    def authorization_url(
        self,
        *,
        purpose: Purpose,
        state: str,
        redirect_uri: str,
        code_verifier: str | None,
        domain: str | None = None,
    ) -> str: ...

    def callback_token_params(self, callback_query: Mapping[str, str]) -> dict[str, str]: ...

    def exchange_code(
        self,
        *,
        purpose: Purpose,
        code: str,
        redirect_uri: str,
        code_verifier: str | None,
        domain: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> ProviderTokens: ...

    def read_account(
        self, tokens: ProviderTokens, purpose: Purpose, *, domain: str | None
    ) -> ProviderAccount: ...


class AuthorizationClients(Protocol):
    """The providers orgconnect has an OAuth app for."""

    def configured(self, provider_key: str) -> bool: ...

    def client(self, provider_key: str) -> AuthorizationClient: ...


class FlowDependencies(Struct):
    """Everything the browser flow uses, built by ``orgconnect.runtime`` (fakes in unit tests).

    The keyring, the provider apps and the vault are loaded on first use (each is a Secrets Manager
    read at cold start), so a step that does not need them does not pay for them.
    """

    flow_state: FlowStateRepository
    service_accounts: ServiceAccountRepository
    organizational_units: OrganizationalUnitRepository
    connections: ConnectionRepository
    approvals: ApprovalRepository
    hasher: SecretHasher
    app_url: str
    code_ttl_seconds: int
    now: int
    load_sealer: Callable[[], Sealer]
    load_providers: Callable[[], AuthorizationClients]
    load_vault: Callable[[], CredentialVault]
    # Enterprise Connect: its repository and the vault of service-account credentials.
    load_enterprise_connect: Callable[[], EnterpriseConnectRepository] | None = None
    load_service_account_vault: Callable[[], CredentialVault] | None = None
    # Queue a newly linked conferencing connection's directory sync (docs/sync.md); never raises.
    request_connection_sync: Callable[[str], bool] | None = None
    # A profile's relink url (domain/relink.py): the connection it names, and its requests.
    load_relink: Callable[[], RelinkStore] | None = None
    # Integrator notifications (a relink that restores a connection); None: nobody is told.
    load_notifications: Callable[[], NotificationPublisher] | None = None
    # Teams/Meet user-change subscription of a linked connection (connection, API base URL);
    # best effort, never raises (domain/webhooks_subscriptions.py). None: not subscribed.
    subscribe_user_changes: Callable[[Connection, str], None] | None = None

    @property
    def notifications(self) -> NotificationPublisher:
        from orgconnect.domain.notifications import NO_NOTIFICATIONS

        return self.load_notifications() if self.load_notifications is not None else NO_NOTIFICATIONS

    @property
    def relink(self) -> RelinkStore:
        if self.load_relink is None:
            raise RuntimeError("relinking is not wired")
        return self.load_relink()

    @property
    def enterprise_connect(self) -> EnterpriseConnectRepository:
        if self.load_enterprise_connect is None:
            raise RuntimeError("Enterprise Connect is not wired")
        return self.load_enterprise_connect()

    @property
    def service_account_vault(self) -> CredentialVault:
        if self.load_service_account_vault is None:
            raise RuntimeError("Enterprise Connect is not wired")
        return self.load_service_account_vault()

    @property
    def sealer(self) -> Sealer:
        return self.load_sealer()

    @property
    def providers(self) -> AuthorizationClients:
        return self.load_providers()

    @property
    def vault(self) -> CredentialVault:
        return self.load_vault()
