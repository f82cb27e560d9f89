"""The contract suite: the same tests against the in-memory fakes and the DynamoDB repositories,
so the fakes the flow's unit tests rely on cannot drift from what production does.

The DynamoDB side needs only the ``aws`` fixture of tests/conftest.py (whatever backend it runs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from orgconnect.domain.codes import CODE_PURPOSE, AuthorizationCode
from orgconnect.domain.model import Client, ServiceAccount
from orgconnect.domain.ports import (
    ApprovalRepository,
    ConnectionRepository,
    FlowStateRepository,
    OrganizationalUnitRepository,
    ServiceAccountRepository,
)

NOW = 1_700_000_000


class Clock:
    """The repositories' clock, moved by the tests (never the wall clock)."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> int:
        return self.now


@dataclass
class Backend:
    """One implementation of every flow repository, plus what the tests need to seed and inspect."""

    name: str
    clock: Clock
    create_client: Callable[[Client], None]
    create_service_account: Callable[[ServiceAccount], None]
    put_link_token: Callable[..., None]
    flow_state: FlowStateRepository
    service_accounts: ServiceAccountRepository
    organizational_units: OrganizationalUnitRepository
    connections: ConnectionRepository
    approvals: ApprovalRepository
    issued_code: Callable[[str], AuthorizationCode | None]
    raw_items: Callable[[], list[dict[str, Any]]]


def _fake() -> Backend:
    from tests.fakes import InMemoryStore

    clock = Clock()
    store = InMemoryStore(clock)

    def raw() -> list[dict[str, Any]]:
        return [vars(s) for s in store.states.values()]

    return Backend(
        "fake",
        clock,
        store.create_client,
        store.create_service_account,
        store.put_link_token,
        store,
        store,
        store,
        store,
        store,
        store.codes.get,
        raw,
    )


def _dynamodb() -> Backend:
    from orgconnect import runtime
    from orgconnect.domain.tokens import StoredCode
    from orgconnect.store.approvals import DynamoApprovals
    from orgconnect.store.clients import DynamoClients
    from orgconnect.store.dynamodb import DynamoStore, from_item
    from orgconnect.store.flow_state import DynamoFlowState
    from orgconnect.store.link_tokens import DynamoLinkTokens
    from orgconnect.store.organization import DynamoConnections, DynamoOrganizationalUnits
    from orgconnect.store.service_accounts import DynamoServiceAccounts
    from orgconnect.store.tokens import TokenStore

    clock = Clock()
    shared = runtime.get_store()
    store = DynamoStore(shared.table_name, shared.client, clock=clock)

    def issued_code(digest: str) -> AuthorizationCode | None:
        stored: StoredCode | None = TokenStore.sharing(store).get_code(digest)
        return stored.code if stored is not None else None

    def raw() -> list[dict[str, Any]]:
        return [from_item(i) for i in shared.client.scan(TableName=shared.table_name)["Items"]]

    return Backend(
        "dynamodb",
        clock,
        DynamoClients(store).create_client,
        DynamoServiceAccounts(store).create_service_account,
        DynamoLinkTokens(store).put_link_token,
        DynamoFlowState(store, clock=clock),
        DynamoServiceAccounts(store),
        DynamoOrganizationalUnits(store),
        DynamoConnections(store),
        DynamoApprovals(store, clock=clock),
        issued_code,
        raw,
    )


@pytest.fixture(params=["fake", "dynamodb"])
def backend(request: pytest.FixtureRequest, aws: dict[str, str]) -> Backend:
    """Each backend in turn. ``aws`` is asked for statically (even by the fake, which ignores it)
    so that however that fixture is parametrized, every contract test runs on each of its backends."""
    return _dynamodb() if request.param == "dynamodb" else _fake()


__all__ = ["CODE_PURPOSE", "NOW", "Backend", "Clock"]
