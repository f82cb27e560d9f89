"""In-memory fakes of the domain's ports (unit tests use these instead of mocks).

They keep DynamoDB's semantics where the code depends on them: conditional single-use writes,
``expires_at`` checked on every read and write, a transaction that touches one item twice or a
key over 2048 bytes is refused (DynamoDB's ValidationException), and all-or-nothing approval.
tests/contract/ runs the same tests against these and the DynamoDB repositories.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from orgconnect.domain.authorization import Approval, AuthorizationRequest, ProviderState, Step
from orgconnect.domain.codes import AuthorizationCode
from orgconnect.domain.model import (
    ApiKey,
    Client,
    Connection,
    LinkTokenGrant,
    OrganizationalUnit,
    ProviderAccountLink,
    ServiceAccount,
)
from orgconnect.domain.ports import (
    LinkTokenUnavailable,
    ServiceAccountNotFound,
    StartRead,
    StateUnavailable,
    StepConflict,
)
from orgconnect.domain.provider_model import ProviderAccount, ProviderTokens, Purpose
from tests.values import replace

MAX_KEY_BYTES = 2048


class KeyRefused(ValueError):
    """What real DynamoDB answers with a ValidationException (here: a key over 2048 bytes)."""


def _key(value: str) -> str:
    if len(value.encode()) > MAX_KEY_BYTES:
        raise KeyRefused("key over 2048 bytes")
    return value


@dataclass
class _LinkToken:
    grant: LinkTokenGrant
    used_by: str | None = None


class InMemoryStore:
    """Every repository port (the API's and the flow's) over dicts, with DynamoDB's conditions."""

    def __init__(self, clock: Callable[[], int] = lambda: 1_700_000_000) -> None:
        self.clock = clock
        self.clients: dict[str, Client] = {}
        self.api_keys: dict[str, ApiKey] = {}
        self.service_accounts: dict[str, ServiceAccount] = {}
        self.link_tokens: dict[str, LinkTokenGrant] = {}
        self._link_usage: dict[str, _LinkToken] = {}
        self.requests: dict[str, AuthorizationRequest] = {}
        self.states: dict[str, ProviderState] = {}
        self.ous: dict[str, OrganizationalUnit] = {}
        self.connections: dict[str, Connection] = {}
        self.links: dict[tuple[str, str, str], ProviderAccountLink] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self._lock = threading.Lock()
        # Tests make a write lose a race by raising from here (called inside the lock).
        self.before_write: Callable[[str], None] = lambda _: None

    # -- API ports (ClientStore, ServiceAccountStore, LinkTokenStore) ---------------------------

    def create_client(self, client: Client) -> None:
        with self._lock:
            assert client.client_id not in self.clients
            self.clients[client.client_id] = client
            self.api_keys[client.secret_digest] = ApiKey(client.client_id, client.secret_digest)

    def get_client(self, client_id: str) -> Client | None:
        return self.clients.get(_key(client_id))

    def get_api_key(self, secret_digest: str) -> ApiKey | None:
        return self.api_keys.get(_key(secret_digest))

    def create_service_account(self, service_account: ServiceAccount) -> None:
        self.service_accounts[service_account.service_account_id] = service_account

    def put_link_token(self, token_digest: str, grant: LinkTokenGrant) -> None:
        with self._lock:
            account = self.service_accounts.get(grant.service_account_id)
            if account is None or account.client_id != grant.client_id:
                raise ServiceAccountNotFound()
            self.link_tokens[token_digest] = grant
            self._link_usage[token_digest] = _LinkToken(grant)

    # -- FlowStateRepository --------------------------------------------------------------------

    def read_start(self, client_id: str | None, link_digest: str, request_id: str | None) -> StartRead:
        now = self.clock()
        client = self.clients.get(_key(client_id)) if client_id else None
        token = self._link_usage.get(_key(link_digest))
        grant = token.grant if token and token.grant.expires_at > now else None
        resumable = self.get_request(request_id) if request_id else None
        return StartRead(client, grant, bool(token and token.used_by), resumable)

    def start_request(self, request: AuthorizationRequest) -> None:
        with self._lock:
            self.before_write("start_request")
            token = self._link_usage.get(request.link_token_digest)
            if (
                token is None
                or token.used_by is not None
                or token.grant.expires_at <= request.created_at
                or token.grant.client_id != request.client_id
                or request.request_id in self.requests
            ):
                raise LinkTokenUnavailable()
            token.used_by = request.request_id
            self.requests[request.request_id] = request

    def get_request(self, request_id: str) -> AuthorizationRequest | None:
        request = self.requests.get(_key(request_id))
        return request if request is not None and request.expires_at > self.clock() else None

    def save_request(self, request: AuthorizationRequest, *, expected_step: Step) -> None:
        with self._lock:
            self.before_write("save_request")
            current = self.requests.get(request.request_id)
            if current is None or current.step is not expected_step or current.expires_at <= self.clock():
                raise StepConflict()
            self.requests[request.request_id] = request

    def end_request(self, request: AuthorizationRequest, *, outcome: str) -> None:
        with self._lock:
            self.before_write("end_request")
            current = self.requests.get(request.request_id)
            if current is None or current.step is Step.DONE:
                raise StepConflict()
            self.requests[request.request_id] = replace(
                current, step=Step.DONE, outcome=outcome, pending=None
            )

    def put_state(self, state_digest: str, state: ProviderState) -> None:
        with self._lock:
            assert _key(state_digest) not in self.states
            self.states[state_digest] = state

    def consume_state(self, state_digest: str) -> ProviderState:
        with self._lock:
            self.before_write("consume_state")
            state = self.states.pop(_key(state_digest), None)
            if state is None or state.expires_at <= self.clock():
                raise StateUnavailable()
            return state

    # -- ServiceAccountRepository, OrganizationalUnitRepository, ConnectionRepository ----------

    def get_with_client(
        self, client_id: str, service_account_id: str
    ) -> tuple[Client | None, ServiceAccount | None]:
        return self.clients.get(_key(client_id)), self.service_accounts.get(_key(service_account_id))

    def get_many(self, ou_ids: list[str]) -> list[OrganizationalUnit]:
        return [self.ous[i] for i in dict.fromkeys(ou_ids) if _key(i) in self.ous]

    def get_link(self, client_id: str, provider_name: str, account_id: str) -> ProviderAccountLink | None:
        return self.links.get((client_id, provider_name, _key(account_id)))

    # -- ApprovalRepository ---------------------------------------------------------------------

    def approve(self, approval: Approval) -> None:
        """All conditions first, then every write (all or nothing), as one transaction."""
        with self._lock:
            self.before_write("approve")
            self._check(approval)
            request, account, ou = approval.request, approval.service_account, approval.ou
            self.requests[request.request_id] = replace(
                self.requests[request.request_id], step=Step.DONE, outcome="approved", pending=None
            )
            if approval.ou_is_new:
                self.ous[ou.ou_id] = ou
            current = self.service_accounts[account.service_account_id]
            self.service_accounts[account.service_account_id] = replace(
                current, organizational_unit_id=ou.ou_id
            )
            member = approval.member
            if isinstance(member, Connection):
                kept = self.connections.get(member.connection_id)
                self.connections[member.connection_id] = (
                    replace(member, created_at=kept.created_at) if kept else member
                )
            elif isinstance(member, ServiceAccount):
                before = self.service_accounts.get(member.service_account_id)
                self.service_accounts[member.service_account_id] = (
                    replace(member, created_at=before.created_at) if before else member
                )
            link = approval.link
            self.links[(link.client_id, link.provider_name, link.account_id)] = link
            self.codes[approval.code_digest] = approval.code

    def _check(self, approval: Approval) -> None:
        request, account, ou = approval.request, approval.service_account, approval.ou
        touched = [request.request_id, ou.ou_id, account.service_account_id, approval.code_digest]
        member = approval.member
        if isinstance(member, Connection):
            touched.append(member.connection_id)
        elif isinstance(member, ServiceAccount) and member.service_account_id != account.service_account_id:
            touched.append(member.service_account_id)
        if len(set(touched)) != len(touched):
            raise ValueError("a transaction cannot touch one item twice")  # DynamoDB: ValidationException
        current = self.requests.get(request.request_id)
        if (
            current is None
            or current.step is not Step.CONSENT
            or current.expires_at <= self.clock()
            or current.browser_digest != request.browser_digest
        ):
            raise StepConflict()
        if approval.ou_is_new and ou.ou_id in self.ous:
            raise StepConflict()
        if not approval.ou_is_new and (
            ou.ou_id not in self.ous or self.ous[ou.ou_id].client_id != ou.client_id
        ):
            raise StepConflict()
        stored = self.service_accounts.get(account.service_account_id)
        if (
            stored is None
            or stored.client_id != request.client_id
            or stored.organizational_unit_id != account.organizational_unit_id
        ):
            raise StepConflict()
        link = approval.link
        if approval.link_is_new and (link.client_id, link.provider_name, link.account_id) in self.links:
            raise StepConflict()
        if approval.code_digest in self.codes:
            raise StepConflict()


class InMemoryVault:
    """CredentialVault: secrets by ARN."""

    def __init__(self) -> None:
        self.secrets: dict[str, dict[str, Any]] = {}

    def create(self, connection_id: str, tokens: dict[str, Any]) -> str:
        arn = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:connections/{connection_id}"
        self.secrets[arn] = dict(tokens)
        return arn

    def replace(self, secret_arn: str, tokens: dict[str, Any]) -> None:
        self.secrets[secret_arn] = dict(tokens)

    def delete(self, secret_arn: str) -> None:
        self.secrets.pop(secret_arn, None)


class FakeProvider:
    """An AuthorizationClient whose answers the test decides (``fail_with`` raises at the exchange)."""

    label = "Zoom"
    supports_pkce = True

    def __init__(self, key: str = "zoom") -> None:
        self.key = key
        self.fail_with: Exception | None = None
        self.account = ProviderAccount(
            key, "acct-1", "Acme Zoom", "admin@example.com", True, True, "example.com"
        )
        self.verifiers: list[str | None] = []  # received at the code exchange
        self.sent_verifiers: list[str | None] = []  # given for the authorization URL
        self.urls: list[str] = []

    def authorization_url(
        self,
        *,
        purpose: Purpose,
        state: str,
        redirect_uri: str,
        code_verifier: str | None,
        domain: str | None = None,
    ) -> str:
        query = urlencode({"state": state, "purpose": str(purpose)})
        url = f"https://provider.example/{self.key}/authorize?{query}"
        self.urls.append(url)
        self.sent_verifiers.append(code_verifier)
        return url

    def callback_token_params(self, callback_query: Mapping[str, str]) -> dict[str, str]:
        return {}

    def exchange_code(
        self,
        *,
        purpose: Purpose,
        code: str,
        redirect_uri: str,
        code_verifier: str | None,
        domain: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> ProviderTokens:
        self.verifiers.append(code_verifier)
        if self.fail_with is not None:
            raise self.fail_with
        return ProviderTokens(access_token="provider-access", refresh_token="provider-refresh")

    def read_account(
        self, tokens: ProviderTokens, purpose: Purpose, *, domain: str | None
    ) -> ProviderAccount:
        return self.account


class FakeProviders:
    """AuthorizationClients: the fake providers by key."""

    def __init__(self, *keys: str) -> None:
        self.clients = {key: FakeProvider(key) for key in keys}

    def configured(self, provider_key: str) -> bool:
        return provider_key in self.clients

    def client(self, provider_key: str) -> FakeProvider:
        return self.clients[provider_key]
