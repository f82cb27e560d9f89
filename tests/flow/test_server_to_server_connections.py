"""OU-token conferencing connections with Zoom Server-to-Server credentials (SPEC 2.5; issue 11
item 1), through the local API Gateway (local IAM enforced) against the Zoom simulator."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from orgconnect.domain.secrets import new_id
from tests.flow.harness import Client, FlowStack
from tests.flow.s2s_helpers import OuToken, add_connection, make_ou_token, zoom_credentials

COLLECTION = "/v1/organizational_unit/conferencing_connections"


def call(flow: FlowStack, method: str, path: str, token: str | None, **kwargs: Any) -> httpx.Response:
    headers = {**kwargs.pop("headers", {}), **({"Authorization": f"Bearer {token}"} if token else {})}
    return flow.api.request(method, f"{flow.info['api_url']}{path}", headers=headers, **kwargs)


def errors_of(response: httpx.Response, status: int = 422) -> dict[str, list[str]]:
    """``{field: [key, ...]}`` of an answer in Cronofy's errors format (422 unless said)."""
    assert response.status_code == status, response.text
    return {field: [e["key"] for e in found] for field, found in response.json()["errors"].items()}


def connections_seen(flow: FlowStack, token: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The connections listed by GET /v1/userinfo and GET /v1/organizational_unit (without the
    latter's provisioning policy, tested in test_provisioning_policy_api.py)."""
    info = call(flow, "GET", "/v1/userinfo", token).json()
    ou = call(flow, "GET", "/v1/organizational_unit", token).json()
    listed = [{k: v for k, v in c.items() if k != "provisioning"} for c in ou["conferencing_connections"]]
    return info["cronofy.data"]["conferencing_connections"], listed


@pytest.fixture
def owner(flow: FlowStack) -> tuple[Client, OuToken]:
    client = flow.new_client()
    return client, make_ou_token(flow, client)


def test_valid_credentials_add_a_connected_connection_shown_in_userinfo(
    flow: FlowStack, owner: tuple[Client, OuToken]
) -> None:
    _, ou = owner
    creds = zoom_credentials(flow)
    secrets_before = set(flow.connection_secrets())

    response = add_connection(flow, ou.access_token, creds)

    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    connection = body["conferencing_connection"]
    assert connection["connection_id"].startswith("cnx_")
    assert {k: v for k, v in connection.items() if k != "connection_id"} == {
        "provider_name": "zoom_enterprise",
        "account_name": "Example Corp",
        "status": "connected",
        "authorization_type": "server_to_server",
    }
    assert body["test"]["passed"] is True
    assert [c["name"] for c in body["test"]["checks"] if c["passed"]] == [
        "credentials",
        "scopes",
        "account",
        "paid_plan",
    ]
    assert creds["client_secret"] not in response.text
    expected = {
        "provider_name": "zoom_enterprise",
        "connection_id": connection["connection_id"],
        "account_name": "Example Corp",
        "status": "connected",
    }
    assert connections_seen(flow, ou.access_token) == ([expected], [expected])
    # One new secret holds the credentials; DynamoDB never sees the client secret.
    (secret_name,) = set(flow.connection_secrets()) - secrets_before
    assert secret_name.endswith(connection["connection_id"])
    stored = json.loads(flow.aws("secretsmanager").get_secret_value(SecretId=secret_name)["SecretString"])
    assert stored["client_secret"] == creds["client_secret"]
    assert stored["account_id"] == creds["account_id"]
    assert creds["client_secret"] not in json.dumps(flow.table_items(""), default=str)


@pytest.mark.parametrize(
    ("change", "field", "key"),
    [
        ({"account_id": "free"}, "server_to_server.account_id", "errors.unknown_account"),
        (
            {"client_secret": "wrong-secret"},
            "server_to_server.client_secret",
            "errors.invalid_client_credentials",
        ),
        (
            {"client_id": "unknown-client"},
            "server_to_server.client_secret",
            "errors.invalid_client_credentials",
        ),
        ({"app": "oauth"}, "server_to_server.client_id", "errors.not_server_to_server"),
        ({"app": "free"}, "server_to_server.account_id", "errors.free_plan"),
    ],
)
def test_each_credential_problem_is_a_422_naming_it_and_nothing_is_stored(
    flow: FlowStack, owner: tuple[Client, OuToken], change: dict[str, str], field: str, key: str
) -> None:
    _, ou = owner
    zoom = flow.info["simulators"]["zoom"]
    creds = zoom_credentials(flow)
    if change.get("app") == "oauth":
        creds.update(client_id=zoom["oauth_client_id"], client_secret=zoom["oauth_client_secret"])
    elif change.get("app") == "free":
        creds = zoom_credentials(flow, free=True)
    elif change.get("account_id") == "free":
        creds["account_id"] = zoom["free_account_id"]
    else:
        creds.update(change)
    secrets_before = set(flow.connection_secrets())

    response = add_connection(flow, ou.access_token, creds)

    assert errors_of(response) == {field: [key]}
    assert creds["client_secret"] not in response.text
    assert set(flow.connection_secrets()) == secrets_before
    assert connections_seen(flow, ou.access_token) == ([], [])


def test_missing_scopes_are_listed(flow: FlowStack, owner: tuple[Client, OuToken]) -> None:
    _, ou = owner
    zoom = flow.info["simulators"]["zoom"]
    client_id, secret = new_id("s2s"), new_id("secret")
    flow.simulator("zoom").register_app(
        client_id,
        secret,
        [],
        kind="server_to_server",
        scopes=["user:read:list_users:admin"],
        meta={"account_id": zoom["account_id"]},
    )

    response = add_connection(
        flow,
        ou.access_token,
        {"account_id": zoom["account_id"], "client_id": client_id, "client_secret": secret},
    )

    assert errors_of(response) == {"server_to_server": ["errors.missing_scopes"]}
    description = response.json()["errors"]["server_to_server"][0]["description"]
    assert "user:read:user:admin" in description and "meeting:write:meeting:admin" in description
    assert "user:read:list_users:admin" not in description


@pytest.mark.parametrize(
    ("fault", "retry_after"),
    [
        ({"kind": "500", "count": 4}, "10"),
        ({"kind": "timeout", "count": 4, "delay_seconds": 3}, "10"),
        ({"kind": "malformed", "count": 1}, "10"),
    ],
)
def test_zoom_unavailable_is_a_503_with_retry_after_never_a_422(
    flow: FlowStack, owner: tuple[Client, OuToken], fault: dict[str, Any], retry_after: str
) -> None:
    _, ou = owner
    flow.simulator("zoom").add_fault("token", **fault)
    secrets_before = set(flow.connection_secrets())

    response = add_connection(flow, ou.access_token, zoom_credentials(flow))

    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == retry_after
    assert response.json()["error"] == "provider_unavailable"
    assert set(flow.connection_secrets()) == secrets_before


def test_zoom_rate_limit_passes_its_retry_after_on(flow: FlowStack, owner: tuple[Client, OuToken]) -> None:
    _, ou = owner
    flow.simulator("zoom").add_fault("api", "429", count=4)
    response = add_connection(flow, ou.access_token, zoom_credentials(flow))
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) >= 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, {"provider_name": ["errors.required"], "server_to_server": ["errors.required"]}),
        (
            {"provider_name": "webex_enterprise", "server_to_server": "x"},
            {"provider_name": ["errors.invalid"], "server_to_server": ["errors.invalid"]},
        ),
        (
            {"provider_name": "zoom_enterprise", "server_to_server": {"account_id": 5, "client_id": ""}},
            {
                "server_to_server.account_id": ["errors.invalid"],
                "server_to_server.client_id": ["errors.required"],
                "server_to_server.client_secret": ["errors.required"],
            },
        ),
        (
            {
                "provider_name": "zoom_enterprise",
                "server_to_server": {
                    "account_id": "a" * 129,
                    "client_id": "id with space",
                    "client_secret": "é",
                },
            },
            {
                "server_to_server.account_id": ["errors.invalid"],
                "server_to_server.client_id": ["errors.invalid"],
                "server_to_server.client_secret": ["errors.invalid"],
            },
        ),
    ],
)
def test_body_validation_errors_are_422_in_the_errors_format(
    flow: FlowStack, owner: tuple[Client, OuToken], body: dict[str, Any], expected: dict[str, list[str]]
) -> None:
    _, ou = owner
    response = call(flow, "POST", COLLECTION, ou.access_token, json=body)
    assert errors_of(response) == expected
    assert "é" not in response.text


def test_bad_json_is_400(flow: FlowStack, owner: tuple[Client, OuToken]) -> None:
    _, ou = owner
    response = call(
        flow, "POST", COLLECTION, ou.access_token, content=b"{", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


def test_the_same_zoom_account_twice_is_already_linked(
    flow: FlowStack, owner: tuple[Client, OuToken]
) -> None:
    client, ou = owner
    first = add_connection(flow, ou.access_token, zoom_credentials(flow))
    assert first.status_code == 201, first.text
    connection_id = first.json()["conferencing_connection"]["connection_id"]

    again = add_connection(flow, ou.access_token, zoom_credentials(flow))
    assert errors_of(again, 409) == {"server_to_server.account_id": ["errors.already_linked"]}
    assert connection_id in again.json()["errors"]["server_to_server.account_id"][0]["description"]

    sibling = make_ou_token(flow, client, link_service_account=False)
    elsewhere = add_connection(flow, sibling.access_token, zoom_credentials(flow))
    assert errors_of(elsewhere, 409) == {"server_to_server.account_id": ["errors.already_linked"]}
    assert connection_id not in elsewhere.text
    # Another application may link the same Zoom account to its own OU.
    stranger = make_ou_token(flow, flow.new_client())
    assert add_connection(flow, stranger.access_token, zoom_credentials(flow)).status_code == 201


def test_parallel_adds_of_one_account_link_it_once_and_leave_one_secret(
    flow_on_each_dynamodb: FlowStack,
) -> None:
    flow = flow_on_each_dynamodb
    client = flow.new_client()
    ous = [make_ou_token(flow, client, link_service_account=False) for _ in range(4)]
    secrets_before = set(flow.connection_secrets())

    def add(ou: OuToken) -> int:
        with httpx.Client(timeout=60) as http:
            return http.post(
                f"{flow.info['api_url']}{COLLECTION}",
                headers={"Authorization": f"Bearer {ou.access_token}"},
                json={"provider_name": "zoom_enterprise", "server_to_server": zoom_credentials(flow)},
            ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(add, ous * 2))
    assert sorted(answers) == [201] + [409] * 7
    assert len(set(flow.connection_secrets()) - secrets_before) == 1
    links = [i for i in flow.table_items("PROVIDERACCOUNT#") if i["client_id"] == client.client_id]
    assert len(links) == 1
