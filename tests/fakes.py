"""In-memory fakes of the domain's ports (tests/unit uses these instead of mocks)."""

from __future__ import annotations

import threading

from orgconnect.domain.model import ApiKey, Client, LinkTokenGrant, ServiceAccount
from orgconnect.domain.ports import ServiceAccountNotFound


class InMemoryStore:
    """ClientStore + ServiceAccountStore + LinkTokenStore, with the same conditions as DynamoDB."""

    def __init__(self) -> None:
        self.clients: dict[str, Client] = {}
        self.api_keys: dict[str, ApiKey] = {}
        self.service_accounts: dict[str, ServiceAccount] = {}
        self.link_tokens: dict[str, LinkTokenGrant] = {}
        self._lock = threading.Lock()

    def create_client(self, client: Client) -> None:
        with self._lock:
            assert client.client_id not in self.clients
            self.clients[client.client_id] = client
            self.api_keys[client.secret_digest] = ApiKey(client.client_id, client.secret_digest)

    def get_client(self, client_id: str) -> Client | None:
        return self.clients.get(client_id)

    def get_api_key(self, secret_digest: str) -> ApiKey | None:
        return self.api_keys.get(secret_digest)

    def create_service_account(self, service_account: ServiceAccount) -> None:
        self.service_accounts[service_account.service_account_id] = service_account

    def put_link_token(self, token_digest: str, grant: LinkTokenGrant) -> None:
        with self._lock:
            account = self.service_accounts.get(grant.service_account_id)
            if account is None or account.client_id != grant.client_id:
                raise ServiceAccountNotFound()
            self.link_tokens[token_digest] = grant
