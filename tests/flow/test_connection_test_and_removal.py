"""Test connection, removal and authentication of the OU-token connection API (SPEC 2.5; issue
11 item 1), through the local API Gateway (local IAM enforced) against the Zoom simulator."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from orgconnect.domain.secrets import new_id
from tests.flow.harness import Browser, Client, FlowStack
from tests.flow.s2s_helpers import (
    COLLECTION,
    OuToken,
    add_connection,
    make_ou_token,
    redeem,
    zoom_credentials,
)


def call(flow: FlowStack, method: str, path: str, token: str | None, **kwargs: Any) -> httpx.Response:
    headers = {**kwargs.pop("headers", {}), **({"Authorization": f"Bearer {token}"} if token else {})}
    return flow.api.request(method, f"{flow.info['api_url']}{path}", headers=headers, **kwargs)


def statuses(flow: FlowStack, token: str) -> dict[str, str]:
    info = call(flow, "GET", "/v1/userinfo", token).json()
    return {c["connection_id"]: c["status"] for c in info["cronofy.data"]["conferencing_connections"]}


@pytest.fixture
def connected(flow: FlowStack) -> tuple[Client, OuToken, str]:
    """A client's OU with a Server-to-Server Zoom connection: (client, OU token, connection id)."""
    client = flow.new_client()
    ou = make_ou_token(flow, client)
    response = add_connection(flow, ou.access_token, zoom_credentials(flow))
    assert response.status_code == 201, response.text
    connection_id = response.json()["conferencing_connection"]["connection_id"]
    flow.wait_sync_ended(connection_id)  # the sync the add queued takes no fault meant for a test
    return client, ou, connection_id


def test_test_connection_reports_each_check_and_updates_the_status(
    flow: FlowStack, connected: tuple[Client, OuToken, str]
) -> None:
    _, ou, connection_id = connected
    path = f"{COLLECTION}/{connection_id}/test"

    passed = call(flow, "POST", path, ou.access_token)
    assert passed.status_code == 200, passed.text
    assert passed.json()["test"]["passed"] is True
    assert passed.json()["conferencing_connection"]["status"] == "connected"

    # Zoom now refuses the app's credentials (e.g. its secret was regenerated).
    flow.simulator("zoom").add_fault("token", "invalid_client")
    failed = call(flow, "POST", path, ou.access_token)
    assert failed.status_code == 200, failed.text
    result = failed.json()
    assert result["conferencing_connection"]["status"] == "needs_reauthorization"
    assert result["test"]["passed"] is False
    assert [(c["name"], c["passed"]) for c in result["test"]["checks"]] == [
        ("credentials", False),
        ("scopes", None),
        ("account", None),
        ("paid_plan", None),
    ]
    assert list(result["test"]["errors"]) == ["server_to_server.client_secret"]
    assert statuses(flow, ou.access_token) == {connection_id: "needs_reauthorization"}

    again = call(flow, "POST", path, ou.access_token)
    assert again.json()["conferencing_connection"]["status"] == "connected"
    assert statuses(flow, ou.access_token) == {connection_id: "connected"}


def test_test_connection_with_zoom_down_is_503_and_keeps_the_status(
    flow: FlowStack, connected: tuple[Client, OuToken, str]
) -> None:
    _, ou, connection_id = connected
    flow.simulator("zoom").add_fault("token", "503", count=4)
    response = call(flow, "POST", f"{COLLECTION}/{connection_id}/test", ou.access_token)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "10"
    assert statuses(flow, ou.access_token) == {connection_id: "connected"}


def test_removal_deletes_the_secret_leaves_the_ou_and_is_idempotent(
    flow: FlowStack, connected: tuple[Client, OuToken, str]
) -> None:
    _, ou, connection_id = connected
    (secret,) = [s for s in flow.connection_secrets() if s.endswith(connection_id)]

    first = call(flow, "DELETE", f"{COLLECTION}/{connection_id}", ou.access_token)
    assert first.status_code == 204, first.text
    assert statuses(flow, ou.access_token) == {}
    assert (
        call(flow, "GET", "/v1/organizational_unit", ou.access_token).json()["conferencing_connections"] == []
    )
    assert secret not in flow.connection_secrets()

    assert call(flow, "DELETE", f"{COLLECTION}/{connection_id}", ou.access_token).status_code == 204
    assert call(flow, "POST", f"{COLLECTION}/{connection_id}/test", ou.access_token).status_code == 404
    # The account can be linked again once it was removed.
    assert add_connection(flow, ou.access_token, zoom_credentials(flow)).status_code == 201


def test_another_ous_connection_is_404_for_everything(
    flow: FlowStack, connected: tuple[Client, OuToken, str]
) -> None:
    client, ou, connection_id = connected
    sibling = make_ou_token(flow, client, link_service_account=False)
    stranger = make_ou_token(flow, flow.new_client())
    unknown, malformed = new_id("cnx"), "cnx_" + "x" * 3000
    for token in (sibling.access_token, stranger.access_token):
        for method, path in (("DELETE", ""), ("POST", "/test")):
            response = call(flow, method, f"{COLLECTION}/{connection_id}{path}", token)
            assert response.status_code == 404, response.text
            assert response.json() == {
                "error": "not_found",
                "error_description": "No such conferencing connection.",
            }
    for other in (unknown, malformed):
        assert call(flow, "DELETE", f"{COLLECTION}/{other}", ou.access_token).status_code == 404
        assert call(flow, "POST", f"{COLLECTION}/{other}/test", ou.access_token).status_code == 404
    assert statuses(flow, ou.access_token) == {connection_id: "connected"}


def test_removing_a_browser_linked_zoom_connection_revokes_its_tokens(
    flow: FlowStack, browser: Browser
) -> None:
    client = flow.new_client()
    outcome = browser.run(flow.authorize_url(client))
    assert outcome.kind == "code", outcome.text
    token = redeem(flow, client, outcome.params["code"])
    (connection_id,) = statuses(flow, token)
    (secret,) = [s for s in flow.connection_secrets() if s.endswith(connection_id)]
    tokens = json.loads(flow.aws("secretsmanager").get_secret_value(SecretId=secret)["SecretString"])
    sim = flow.simulator("zoom")
    sim.clear_requests()

    response = call(flow, "DELETE", f"{COLLECTION}/{connection_id}", token)

    assert response.status_code == 204, response.text
    revocations = [r for r in sim.requests() if r.get("path") == "/oauth/revoke"]
    assert [r["status"] for r in revocations] == [200]
    assert sim.tokens.valid(tokens["refresh_token"], "refresh") is None
    assert secret not in flow.connection_secrets()
    assert statuses(flow, token) == {}


@pytest.mark.parametrize(
    ("headers", "challenge"),
    [
        ({}, 'Bearer realm="orgconnect"'),
        ({"Authorization": "Bearer " + "x" * 43}, 'Bearer realm="orgconnect", error="invalid_token"'),
        ({"Authorization": "Basic Zm9vOmJhcg=="}, 'Bearer realm="orgconnect"'),  # no bearer token at all
    ],
)
def test_requests_without_a_valid_ou_token_are_401(
    flow: FlowStack, connected: tuple[Client, OuToken, str], headers: dict[str, str], challenge: str
) -> None:
    _, ou, connection_id = connected
    for method, path in (
        ("POST", COLLECTION),
        ("POST", f"{COLLECTION}/{connection_id}/test"),
        ("DELETE", f"{COLLECTION}/{connection_id}"),
    ):
        response = call(flow, method, path, None, headers=headers, json={"provider_name": "zoom_enterprise"})
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["www-authenticate"] == challenge
    assert statuses(flow, ou.access_token) == {connection_id: "connected"}


def test_the_client_secret_or_a_token_in_the_url_is_refused(
    flow: FlowStack, connected: tuple[Client, OuToken, str]
) -> None:
    client, ou, connection_id = connected
    as_client = call(flow, "DELETE", f"{COLLECTION}/{connection_id}", client.client_secret)
    in_url = call(
        flow,
        "DELETE",
        f"{COLLECTION}/{connection_id}",
        ou.access_token,
        params={"access_token": ou.access_token},
    )
    assert (as_client.status_code, in_url.status_code) == (401, 401)
    assert statuses(flow, ou.access_token) == {connection_id: "connected"}


def test_no_client_secret_in_any_log_line_or_answer(flow: FlowStack, service_logs: list[str]) -> None:
    client = flow.new_client()
    ou = make_ou_token(flow, client)
    creds = zoom_credentials(flow)
    answers = [
        add_connection(flow, ou.access_token, {**creds, "client_secret": "wrong-" + creds["client_secret"]}),
        add_connection(flow, ou.access_token, creds),
    ]
    connection_id = answers[-1].json()["conferencing_connection"]["connection_id"]
    flow.wait_sync_ended(connection_id)
    flow.simulator("zoom").add_fault("token", "500", count=2)  # both attempts of one test
    answers.append(call(flow, "POST", f"{COLLECTION}/{connection_id}/test", ou.access_token))
    answers.append(call(flow, "POST", f"{COLLECTION}/{connection_id}/test", ou.access_token))
    answers.append(call(flow, "DELETE", f"{COLLECTION}/{connection_id}", ou.access_token))

    assert [a.status_code for a in answers] == [422, 201, 503, 200, 204]
    assert any("conferencing connection added" in line for line in service_logs)
    for text in [*service_logs, *(a.text for a in answers)]:
        assert creds["client_secret"] not in text


def test_aws_calls_per_request(flow: FlowStack) -> None:
    from devstack.instrument import count_aws_calls

    ou = make_ou_token(flow, flow.new_client())
    add_connection(flow, ou.access_token, zoom_credentials(flow, free=True))  # warm the function
    with count_aws_calls(requests_only=True) as adding:
        added = add_connection(flow, ou.access_token, zoom_credentials(flow))
    connection_id = added.json()["conferencing_connection"]["connection_id"]
    flow.wait_sync_ended(connection_id)
    with count_aws_calls(requests_only=True) as testing:
        call(flow, "POST", f"{COLLECTION}/{connection_id}/test", ou.access_token)
    with count_aws_calls(requests_only=True) as removing:
        call(flow, "DELETE", f"{COLLECTION}/{connection_id}", ou.access_token)
    # The token, the OU; then the link, the secret and one transaction; its sync queued.
    assert adding == {
        "dynamodb:GetItem": 2,
        "dynamodb:BatchGetItem": 1,
        "secretsmanager:CreateSecret": 1,
        "dynamodb:TransactWriteItems": 1,
        "sqs:SendMessageBatch": 1,
    }
    # The token, the OU, the connection, its secret; then one update.
    assert testing == {
        "dynamodb:GetItem": 2,
        "dynamodb:BatchGetItem": 1,
        "secretsmanager:GetSecretValue": 1,
        "dynamodb:UpdateItem": 1,
    }
    # The token, the OU, the connection, its provisioning policy (deprovision_on_policy_removal),
    # its secret; one transaction, then the secret goes.
    assert removing == {
        "dynamodb:GetItem": 3,
        "dynamodb:BatchGetItem": 1,
        "secretsmanager:GetSecretValue": 1,
        "dynamodb:TransactWriteItems": 1,
        "secretsmanager:DeleteSecret": 1,
    }
