"""Seeding helpers shared by the contract tests (they go through the ports, like the flow)."""

from __future__ import annotations

from dataclasses import dataclass

from orgconnect.domain.authorization import FLOW_TTL_SECONDS, AuthorizationRequest, PendingAccount, Step
from orgconnect.domain.model import CalendarProvider, Client, LinkTokenGrant, ServiceAccount
from orgconnect.domain.secrets import new_id, new_secret
from tests.contract.conftest import Backend


@dataclass(frozen=True)
class Seed:
    client: Client
    account: ServiceAccount
    link_digest: str


def seed(backend: Backend, *, link_ttl: int = 1800) -> Seed:
    """A client, its Google service account and an unused link token for it."""
    now = backend.clock()
    client = Client(new_id("cli"), "Acme", new_secret(), ("https://app.example/cb",), created_at=now)
    backend.create_client(client)
    account = ServiceAccount(
        new_id("ser"), client.client_id, CalendarProvider.GOOGLE_WORKSPACE, "example.com", None, None, now
    )
    backend.create_service_account(account)
    digest = new_secret()
    backend.put_link_token(
        digest, LinkTokenGrant(client.client_id, account.service_account_id, now, now + link_ttl)
    )
    return Seed(client, account, digest)


def new_request(
    s: Seed, backend: Backend, *, step: Step = Step.CHOOSE, **changes: object
) -> AuthorizationRequest:
    now = backend.clock()
    request = AuthorizationRequest(
        request_id=new_id("arq"),
        client_id=s.client.client_id,
        redirect_uri=s.client.redirect_uris[0],
        state="st",
        capability="conferencing",
        service_account_id=s.account.service_account_id,
        link_token_digest=s.link_digest,
        browser_digest="b" * 64,
        step=step,
        created_at=now,
        expires_at=now + FLOW_TTL_SECONDS,
    )
    return request.advanced(**changes)


def at_consent(
    s: Seed, backend: Backend, *, option: str = "zoom_enterprise", domain: str | None = None
) -> AuthorizationRequest:
    """A started request moved to the consent step with a pending provider account."""
    request = new_request(s, backend)
    backend.flow_state.start_request(request)
    pending = PendingAccount(
        option, "zoom", "acct-1", "Acme Zoom", "admin@example.com", domain, "v1.k1.sealed"
    )
    moved = request.advanced(step=Step.CONSENT, pending=pending)
    backend.flow_state.save_request(moved, expected_step=Step.CHOOSE)
    return moved
