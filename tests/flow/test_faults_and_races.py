"""Faults end with an RFC 6749 error to the integrator and leave nothing half-linked; single-use
things have exactly one winner under parallel use."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from orgconnect import runtime
from orgconnect.domain.errors import TemporarilyUnavailable
from tests.flow.harness import Browser, Client, FlowStack


def nothing_linked(flow: FlowStack, client: Client, secrets_before: int) -> None:
    """No OU, no connection, no provider-account link, the service account unlinked, no new secret."""
    assert not [o for o in flow.table_items("OU#") if o["client_id"] == client.client_id]
    assert not [c for c in flow.table_items("CONNECTION#") if c["client_id"] == client.client_id]
    assert not [p for p in flow.table_items("PROVIDERACCOUNT#") if p["client_id"] == client.client_id]
    (account,) = [a for a in flow.table_items("SERVICEACCOUNT#") if a["client_id"] == client.client_id]
    assert "organizational_unit_id" not in account
    assert not [c for c in flow.table_items("CODE#") if c["client_id"] == client.client_id]
    assert len(flow.connection_secrets()) == secrets_before


@pytest.fixture
def zoom(flow: FlowStack) -> Any:
    return flow.simulator("zoom")


@pytest.mark.parametrize(
    ("kind", "count", "error"),
    [
        ("500", 3, "temporarily_unavailable"),
        ("timeout", 3, "temporarily_unavailable"),
        ("invalid_grant", 1, "server_error"),
    ],
    ids=["5xx", "timeout", "invalid_grant"],
)
def test_provider_failure_during_the_code_exchange(
    flow: FlowStack, zoom: Any, kind: str, count: int, error: str
) -> None:
    client = flow.new_client(policy="never")
    secrets_before = len(flow.connection_secrets())
    # The timeout fault holds the request past orgconnect's 1 s provider timeout (tests/flow/conftest.py).
    zoom.add_fault("token", kind, count, delay_seconds=3)
    outcome = Browser(flow).run(flow.authorize_url(client))
    zoom.release_held_requests()
    assert outcome.kind == "error"
    assert outcome.params["error"] == error
    assert outcome.params["state"] == "st-1"
    nothing_linked(flow, client, secrets_before)


def test_a_transient_5xx_is_retried_and_the_flow_succeeds(flow: FlowStack, zoom: Any) -> None:
    client = flow.new_client(policy="never")
    zoom.clear_requests()
    zoom.add_fault("token", "500", 2)
    outcome = Browser(flow).run(flow.authorize_url(client))
    assert outcome.kind == "code"
    token_calls = [r for r in zoom.requests() if r["path"] == "/oauth/token"]
    assert len(token_calls) == 3


def test_a_4xx_is_not_retried(flow: FlowStack, zoom: Any) -> None:
    client = flow.new_client(policy="never")
    zoom.clear_requests()
    zoom.add_fault("token", "invalid_grant", 1)
    assert Browser(flow).run(flow.authorize_url(client)).kind == "error"
    assert len([r for r in zoom.requests() if r["path"] == "/oauth/token"]) == 1


@pytest.fixture
def at_consent(flow: FlowStack) -> tuple[Client, Browser, httpx.Response]:
    client = flow.new_client(policy="never")
    browser = Browser(flow)
    consent = browser.run(flow.authorize_url(client), stop_at_consent=True)
    assert "name=csrf" in consent.response.text
    return client, browser, consent.response


def test_secrets_manager_failure_at_approval(
    flow: FlowStack, at_consent: tuple[Client, Browser, httpx.Response], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, browser, consent = at_consent
    secrets_before = len(flow.connection_secrets())
    vault = runtime.get_connection_vault()

    def failing(*_: Any, **__: Any) -> str:
        raise TemporarilyUnavailable("CreateSecret: ThrottlingException")

    monkeypatch.setattr(vault, "create", failing)
    answer = browser.submit_consent(consent)
    outcome = browser.drive(answer)
    assert outcome.kind == "error"
    assert outcome.params["error"] == "temporarily_unavailable"
    assert outcome.params["state"] == "st-1"
    nothing_linked(flow, client, secrets_before)


def test_dynamodb_failure_at_approval_deletes_the_new_secret(
    flow: FlowStack, at_consent: tuple[Client, Browser, httpx.Response], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, browser, consent = at_consent
    secrets_before = len(flow.connection_secrets())
    db = runtime.get_store().client

    def throttled(**_: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "TransactWriteItems"
        )

    monkeypatch.setattr(db, "transact_write_items", throttled)
    created: list[str] = []
    vault = runtime.get_connection_vault()
    real_create = vault.create
    monkeypatch.setattr(
        vault, "create", lambda cid, tokens: created.append(real_create(cid, tokens)) or created[-1]
    )
    outcome = browser.drive(browser.submit_consent(consent))
    assert created, "the secret was created before the transaction"
    assert outcome.kind == "error"
    assert outcome.params["error"] == "temporarily_unavailable"
    nothing_linked(flow, client, secrets_before)


def test_unexpected_failure_at_approval_still_leaves_no_orphan(
    flow: FlowStack, at_consent: tuple[Client, Browser, httpx.Response], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, browser, consent = at_consent
    secrets_before = len(flow.connection_secrets())

    def broken(**_: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(runtime.get_store().client, "transact_write_items", broken)
    answer = browser.submit_consent(consent)
    assert answer.status_code == 500
    assert "boom" not in answer.text
    assert "Traceback" not in answer.text
    nothing_linked(flow, client, secrets_before)


def test_fifty_parallel_flow_starts_with_one_link_token_have_one_winner(
    flow_on_each_dynamodb: FlowStack,
) -> None:
    flow = flow_on_each_dynamodb
    client = flow.new_client(policy="never")
    url = flow.authorize_url(client)

    def start(_: int) -> str:
        with httpx.Client(timeout=60) as http:  # each a different browser
            location = http.get(url).headers.get("location", "")
        if location.endswith("/organizational_unit_oauth/continue"):
            return "won"
        return "refused" if "error=access_denied" in location else location

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(start, range(50)))
    assert results.count("won") == 1
    assert results.count("refused") == 49
    requests = [r for r in flow.table_items("AUTHREQ#") if r["client_id"] == client.client_id]
    assert len(requests) == 1


@pytest.mark.parametrize(
    "cookie",
    ["orgconnect_flow=arq_" + "a" * 3000 + ".x", "orgconnect_flow=arq_" + "é" * 1100 + ".x"],
    ids=["oversized", "multibyte"],
)
def test_an_oversized_flow_cookie_never_reaches_dynamodb(
    flow_on_each_dynamodb: FlowStack, cookie: str
) -> None:
    """Real DynamoDB refuses keys over 2048 bytes (moto does not): the cookie is checked first."""
    flow = flow_on_each_dynamodb
    client = flow.new_client(policy="never")
    with httpx.Client(timeout=60) as http:
        answer = http.get(flow.authorize_url(client), headers={"Cookie": cookie.encode()})
    assert answer.status_code == 302
    assert answer.headers["location"].endswith("/organizational_unit_oauth/continue")
