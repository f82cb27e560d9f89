"""The relink page (web/flow_relink.py) over the in-memory fakes: it starts the OU flow for the
connection it names, accepts only that connection's provider account, restores it in place and
ends on a page; anything else is a page, and nothing reaches the integrator as a code."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from orgconnect.domain.authorization import AuthorizationRequest, PageError
from orgconnect.domain.model import ConnectionStatus
from orgconnect.domain.ports import FlowDependencies
from orgconnect.domain.provider_model import ProviderAccount
from orgconnect.domain.relink import RelinkTarget
from orgconnect.web import flow
from tests.unit.flow_driver import REDIRECT_URI, Browser, World, integrator_params
from tests.values import replace


class _Relinks:
    """RelinkStore over the world's in-memory store."""

    def __init__(self, world: World) -> None:
        self.world = world

    def target(self, connection_id: str) -> RelinkTarget | None:
        found = self.world.store.connections.get(connection_id)
        if found is None:
            return None
        accounts = [
            a for a in self.world.store.service_accounts.values() if a.organizational_unit_id == found.ou_id
        ]
        return RelinkTarget(
            found.connection_id,
            found.client_id,
            found.ou_id,
            found.provider_name,
            accounts[0].service_account_id if accounts else None,
        )

    def create_request(self, request: AuthorizationRequest) -> None:
        self.world.store.requests[request.request_id] = request

    def connection_status(self, connection_id: str) -> ConnectionStatus | None:
        found = self.world.store.connections.get(connection_id)
        return found.status if found else None


class _Publisher:
    def __init__(self) -> None:
        self.statuses: list[tuple[str, ConnectionStatus]] = []

    def connection_status_changed(
        self, connection_id: str, status: ConnectionStatus, *, change_key: str
    ) -> None:
        self.statuses.append((connection_id, status))

    def profile_changed(self, before: Any, after: Any, connection: Any) -> None:
        raise AssertionError("a relink changes no profile item")


class _RelinkWorld(World):
    publisher: _Publisher

    def deps(self) -> FlowDependencies:
        deps = super().deps()
        deps.load_relink = lambda: _Relinks(self)
        if not hasattr(self, "publisher"):
            self.publisher = _Publisher()
        deps.load_notifications = lambda: self.publisher
        return deps


class _Browser(Browser):
    def _dispatch(self, method: str, path: str, event: APIGatewayProxyEvent) -> Response[Any]:
        if path == "/organizational_unit_oauth/relink":
            try:
                return flow.relink(self.world.deps(), event)
            except PageError as error:
                return flow.page_for(error)
        return super()._dispatch(method, path, event)


def _linked() -> tuple[_RelinkWorld, str]:
    """A world whose OU linked Zoom (account acct-1) through the integrator's flow."""
    world = _RelinkWorld()
    browser = _Browser(world)
    assert "code" in integrator_params(browser.approve(browser.to_consent(world.authorize_url())))
    (connection_id,) = world.store.connections
    return world, connection_id


def _relink_url(world: World, connection_id: str) -> str:
    return f"{world.app_url}/organizational_unit_oauth/relink?connection_id={connection_id}"


def test_the_relink_url_restores_the_same_connection_and_ends_on_a_page() -> None:
    world, connection_id = _linked()
    before = world.store.connections[connection_id]
    world.store.connections[connection_id] = replace(before, status=ConnectionStatus.NEEDS_REAUTHORIZATION)
    browser = _Browser(world)
    consent = browser.to_consent(_relink_url(world, connection_id))
    assert "Acme Zoom" in str(consent.body)
    done = browser.approve(consent)
    assert done.status_code == 200 and "data-testid=relinked" in str(done.body), done.body
    after = world.store.connections[connection_id]
    assert (after.connection_id, after.status, after.secret_arn) == (
        connection_id,
        ConnectionStatus.CONNECTED,
        before.secret_arn,
    )
    assert list(world.store.connections) == [connection_id]
    assert world.vault.secrets[before.secret_arn]["access_token"] == "provider-access"
    assert not browser.cookies  # the flow's cookie is cleared
    assert world.publisher.statuses == [(connection_id, ConnectionStatus.CONNECTED)]


def test_relinking_a_connected_connection_tells_nobody() -> None:
    world, connection_id = _linked()
    browser = _Browser(world)
    done = browser.approve(browser.to_consent(_relink_url(world, connection_id)))
    assert done.status_code == 200 and "data-testid=relinked" in str(done.body)
    assert world.publisher.statuses == []  # the first link was new: nothing restored either


def test_l5_another_provider_account_is_refused_and_nothing_is_linked() -> None:
    world, connection_id = _linked()
    world.providers.clients["zoom"].account = ProviderAccount(
        "zoom", "acct-2", "Other Zoom", "admin@other.example", True, True, "other.example"
    )
    browser = _Browser(world)
    state = browser.to_provider(_relink_url(world, connection_id))
    answer = browser.callback(state, code="provider-code")
    # A page saying why, whose button returns to the client's redirect URI with access_denied.
    body = str(answer.body)
    assert answer.status_code == 403 and "Other Zoom is not the Zoom account of this connection" in body
    assert f"{REDIRECT_URI}?error=access_denied" in body and "code=" not in body
    (ended,) = [r for r in world.store.requests.values() if r.relink_connection_id == connection_id]
    assert ended.outcome == "failed" and ended.pending is None
    assert list(world.store.connections) == [connection_id]
    assert len(world.store.links) == 1


def test_an_unknown_or_malformed_connection_is_a_page() -> None:
    world, _ = _linked()
    for connection_id in ("cnx_5f2c8e1a9b3d4c6e7f8a9b0c", "nope", ""):
        answer = _Browser(world).get(_relink_url(world, connection_id))
        assert answer.status_code == 404 and "no longer exists" in str(answer.body)
    assert not [r for r in world.store.requests.values() if r.relink_connection_id]
