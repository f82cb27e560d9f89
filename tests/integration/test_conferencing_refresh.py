"""Refresh per conferencing provider, through the live-credentials service
(domain/connection_credentials.py with the DynamoDB lease, the versioned secret in Secrets
Manager and ProviderConnectionTokens) against each provider's simulator on 127.0.0.1, with an
administrator's tokens from the OU flow's authorization client:

- Microsoft rotates: a new refresh token is saved; the redeemed one still works for a while.
- Google does not rotate: its answer has no refresh token; the one sent is kept and still works.
- Webex answers with the same refresh token and its own expiry (``refresh_token_expires_in``).
- Indeed (the simulator's stricter default) rotates and retires the old one at once.
- ``invalid_grant`` (each provider's own error body) marks the connection needs_reauthorization
  and keeps the stored credentials; the provider is not asked again by the next caller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from devstack.simulators.demo import SECONDARY_DOMAIN, build_demo_directory
from devstack.simulators.google import GoogleSimulator
from devstack.simulators.indeed import IndeedSimulator
from devstack.simulators.microsoft import MicrosoftSimulator
from devstack.simulators.simulator import Simulator
from devstack.simulators.webex import WebexSimulator
from orgconnect import runtime
from orgconnect.domain.connection_credentials import (
    ConnectionCredentials,
    CredentialPolicy,
)
from orgconnect.domain.provider_model import ProviderTokens, Purpose, RefreshTokenRejected
from orgconnect.providers.base import OAuthProvider
from orgconnect.providers.connection_tokens import ProviderConnectionTokens
from orgconnect.providers.registry import ProviderRegistry
from orgconnect.store.conferencing_connections import DynamoConferencingConnections
from orgconnect.store.connection_leases import DynamoConnectionLeases
from tests.integration.expiring_connection import (
    ExpiringConnection,
    check_invalid_grant,
    store_expiring_connection,
)
from tests.integration.test_provider_api_paging import Served
from tests.simulators._provider_fixtures import frozen_clock, redirect_params, sign_in

DEMO = build_demo_directory(seed=7)
MS_ADMIN = next(p for p in DEMO.in_domain(SECONDARY_DOMAIN) if p.is_admin).email


@dataclass(frozen=True)
class Case:
    """One provider: its simulator, the connection's provider name and who links it."""

    provider_key: str
    provider_name: str
    make: Callable[[list[str]], Simulator]
    admin: str
    token_path: str


CASES = {
    "microsoft": Case(
        "microsoft",
        "ms_teams",
        lambda uris: MicrosoftSimulator(DEMO, clock=frozen_clock(), redirect_uris=uris),
        MS_ADMIN,
        "/oauth2/v2.0/token",
    ),
    "google": Case(
        "google",
        "google_meet",
        lambda uris: GoogleSimulator(DEMO, clock=frozen_clock(), redirect_uris=uris),
        DEMO.admin.email,
        "/token",
    ),
    "webex": Case(
        "webex",
        "webex_enterprise",
        lambda uris: WebexSimulator(DEMO, clock=frozen_clock(), redirect_uris=uris),
        DEMO.admin.email,
        "/v1/access_token",
    ),
    "indeed": Case(
        "indeed",
        "indeed",
        lambda uris: IndeedSimulator(DEMO, clock=frozen_clock(), redirect_uris=uris),
        DEMO.admin.email,
        "/oauth/v2/tokens",
    ),
}


@pytest.fixture(scope="module", params=list(CASES))
def served(request: pytest.FixtureRequest) -> Iterator[tuple[Case, Served]]:
    case = CASES[request.param]
    callback = f"http://127.0.0.1:8000/oauth/callback/{case.provider_key}"
    served = Served(case.make([callback]), callback)
    yield case, served
    served.close()


def admin_tokens(case: Case, served: Served, registry: ProviderRegistry) -> ProviderTokens:
    """The OU flow's exchange: the administrator signs in and approves (Indeed: and picks the
    employer, which the token request names)."""
    provider: OAuthProvider = registry.client(case.provider_key)
    verifier = "v" * 64
    url = provider.authorization_url(
        purpose=Purpose.CONFERENCING, state="st", redirect_uri=served.callback, code_verifier=verifier
    )
    parts = urlsplit(url)
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    answer = redirect_params(sign_in(served.http, f"{served.url}{parts.path}", params, user=case.admin))
    return provider.exchange_code(
        purpose=Purpose.CONFERENCING,
        code=answer["code"],
        redirect_uri=served.callback,
        code_verifier=verifier,
        extra=provider.callback_token_params(answer),
    )


@dataclass
class Linked(ExpiringConnection):
    case: Case
    served: Served
    registry: ProviderRegistry
    first: ProviderTokens

    def service(self) -> ConnectionCredentials:
        store = runtime.get_store()
        return ConnectionCredentials(
            vault=self.vault,
            leases=DynamoConnectionLeases(store),
            statuses=DynamoConferencingConnections(store, clock=lambda: int(runtime.now())),
            refresher=ProviderConnectionTokens(lambda: self.registry, timeout=2.0),
            policy=CredentialPolicy(poll_seconds=0.05),
        )

    def refresh_grants(self) -> int:
        return sum(
            1
            for e in self.served.sim.requests()
            if str(e.get("path", "")).endswith(self.case.token_path)
            and (e.get("params") or {}).get("grant_type") == "refresh_token"
        )

    def raw_refresh(self, refresh_token: str) -> httpx.Response:
        """The refresh grant as the provider answers it (client credentials in the form body)."""
        api = self.registry.api_client(
            self.case.provider_key, None, tenant=self.connection.provider_account_id
        )
        return self.served.http.post(
            api.token_url(),
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": self.served.app.client_id,
                "client_secret": self.served.app.client_secret,
            },
        )


@pytest.fixture
def linked(aws: dict[str, str], served: tuple[Case, Served]) -> Linked:
    """A linked connection of the provider whose access token expires within the safety margin."""
    case, sim = served
    sim.sim.reset()
    registry = ProviderRegistry(
        {case.provider_key: sim.app}, overrides={case.provider_key: sim.url}, timeout=2.0
    )
    first = admin_tokens(case, sim, registry)
    assert first.refresh_token
    tenant = sim.sim.tenant_id if isinstance(sim.sim, MicrosoftSimulator) else "account"
    connection, vault = store_expiring_connection(first, case.provider_name, tenant, runtime.now)
    sim.sim.clear_requests()
    return Linked(connection, vault, case, sim, registry, first)


def test_the_refresh_stores_what_the_provider_made_current(linked: Linked) -> None:
    token = linked.service().access_token(linked.connection)
    assert token != linked.first.access_token and linked.refresh_grants() == 1
    stored = linked.stored()
    assert stored["access_token"] == token
    first = linked.first.refresh_token
    assert first is not None
    key = linked.case.provider_key
    if key == "microsoft":
        # Rotated; the redeemed token stays valid until it expires (Entra ID).
        assert stored["refresh_token"] not in (None, first)
        assert linked.raw_refresh(first).status_code == 200
    elif key == "google":
        # Not rotated: the answer carries no refresh token, the one sent stays current.
        assert stored["refresh_token"] == first
        again = linked.raw_refresh(first)
        assert again.status_code == 200 and "refresh_token" not in again.json()
    elif key == "webex":
        # The same refresh token, its lifetime started again (refresh_token_expires_in).
        assert stored["refresh_token"] == first
        again = linked.raw_refresh(first).json()
        assert again["refresh_token"] == first and again["refresh_token_expires_in"] > 0
        assert stored["refresh_expires_at"] > runtime.now()  # stated, so kept (docs/connections.md)
    else:
        # Indeed (rotation assumed, the stricter case): the old token is refused at once.
        assert stored["refresh_token"] not in (None, first)
        with pytest.raises(RefreshTokenRejected):
            linked.registry.api_client(key, None).refresh(first)
    if key != "webex":
        assert stored["refresh_expires_at"] is None  # the others do not say when it expires
    # The saved refresh token is the one that works next time.
    second = linked.service().access_token(linked.connection, rejected=token)
    assert second not in (token, linked.first.access_token)


def test_invalid_grant_marks_the_connection_needs_reauthorization(linked: Linked) -> None:
    check_invalid_grant(
        linked,
        linked.service,
        lambda: linked.served.sim.add_fault("token", "invalid_grant"),
        linked.refresh_grants,
    )
