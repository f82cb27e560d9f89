"""GET|PUT /v1/organizational_unit/conferencing_connections/{id}/provisioning (SPEC 2.5; issue 11
item 2) through the local API Gateway (local IAM enforced): defaults, replacement, versions,
validation errors, malformed bodies, no existence oracle, Zoom only, and the policy in
GET /v1/organizational_unit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from orgconnect.domain.conferencing_connections import AuthorizationType, ManagedConnection
from orgconnect.domain.model import ConnectionStatus
from orgconnect.domain.secrets import new_id
from orgconnect.store.conferencing_connections import connection_item
from orgconnect.store.dynamodb import to_item
from tests.flow.harness import FlowStack
from tests.flow.s2s_helpers import COLLECTION, OuToken, add_connection, make_ou_token, zoom_credentials

DEFAULTS = {
    "enabled": False,
    "create_users": False,
    "update_users": False,
    "disable_users": False,
    "deprovision_users": False,
    "deprovision_on_policy_removal": False,
    "logout_on_deactivate": True,
    "remove_action": "deactivate",
    "create_action": "create",
    "user_type": "Basic",
    "attribute_mapping": {
        "user_name": {"directory": "email"},
        "email": {"directory": "email"},
        "first_name": {"directory": "given_name"},
        "last_name": {"directory": "family_name"},
    },
    "page_size": 300,
    "io_retries": 5,
}
POLICY = {
    **DEFAULTS,
    "enabled": True,
    "create_users": True,
    "update_users": True,
    "disable_users": True,
    "deprovision_users": True,
    "remove_action": "disassociate",
    "create_action": "autoCreate",
    "user_type": "Licensed",
    "attribute_mapping": {
        "user_name": {"directory": "user_principal_name"},
        "email": {"directory": "user_principal_name"},
        "title": {"directory": "job_title"},
        "organization": {"constant": "Example Corp"},
        "type": {"constant": "Licensed"},
    },
    "page_size": 100,
    "io_retries": 2,
}


def path_of(connection_id: str) -> str:
    return f"{COLLECTION}/{connection_id}/provisioning"


def call(flow: FlowStack, method: str, path: str, token: str | None, **kwargs: Any) -> httpx.Response:
    headers = {**kwargs.pop("headers", {}), **({"Authorization": f"Bearer {token}"} if token else {})}
    return flow.api.request(method, f"{flow.info['api_url']}{path}", headers=headers, **kwargs)


def errors_of(response: httpx.Response, status: int = 422) -> dict[str, list[str]]:
    assert response.status_code == status, response.text
    return {field: [e["key"] for e in found] for field, found in response.json()["errors"].items()}


@pytest.fixture
def connected(flow: FlowStack) -> tuple[OuToken, str]:
    """A new client's OU with a Server-to-Server Zoom connection: (OU token, connection id)."""
    ou = make_ou_token(flow, flow.new_client())
    response = add_connection(flow, ou.access_token, zoom_credentials(flow))
    assert response.status_code == 201, response.text
    return ou, response.json()["conferencing_connection"]["connection_id"]


def test_a_new_connection_has_the_defaults_provisioning_off(
    flow: FlowStack, connected: tuple[OuToken, str]
) -> None:
    ou, cnx = connected
    response = call(flow, "GET", path_of(cnx), ou.access_token)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "provisioning": {**DEFAULTS, "version": 0, "updated_at": None, "pending_removal": None}
    }


def test_put_replaces_the_policy_and_the_ou_shows_it(flow: FlowStack, connected: tuple[OuToken, str]) -> None:
    ou, cnx = connected
    put = call(flow, "PUT", path_of(cnx), ou.access_token, json={"provisioning": {**POLICY, "version": 0}})
    assert put.status_code == 200, put.text
    stored = put.json()["provisioning"]
    assert {
        k: v for k, v in stored.items() if k not in ("version", "updated_at", "pending_removal")
    } == POLICY
    assert stored["version"] == 1 and stored["updated_at"].endswith("Z")
    assert call(flow, "GET", path_of(cnx), ou.access_token).json() == {"provisioning": stored}

    listed = call(flow, "GET", "/v1/organizational_unit", ou.access_token).json()["conferencing_connections"]
    assert [(c["connection_id"], c["provisioning"]) for c in listed] == [(cnx, stored)]
    # A round trip of what GET answered is a valid PUT; settings left out go back to their defaults.
    again = call(flow, "PUT", path_of(cnx), ou.access_token, json={"provisioning": stored})
    assert again.status_code == 200 and again.json()["provisioning"]["version"] == 2
    reset = call(flow, "PUT", path_of(cnx), ou.access_token, json={"provisioning": {"enabled": True}})
    assert reset.json()["provisioning"] == {
        **DEFAULTS,
        "enabled": True,
        "version": 3,
        "updated_at": reset.json()["provisioning"]["updated_at"],
        "pending_removal": None,
    }


def test_a_stale_version_is_a_409_and_changes_nothing(
    flow: FlowStack, connected: tuple[OuToken, str]
) -> None:
    ou, cnx = connected
    first = call(flow, "PUT", path_of(cnx), ou.access_token, json={"provisioning": {"enabled": True}})
    assert first.status_code == 200
    stale = call(flow, "PUT", path_of(cnx), ou.access_token, json={"provisioning": {"version": 0}})
    assert errors_of(stale, 409) == {"provisioning.version": ["errors.stale_version"]}
    assert call(flow, "GET", path_of(cnx), ou.access_token).json() == first.json()


def test_every_invalid_setting_is_named_and_nothing_is_stored(
    flow: FlowStack, connected: tuple[OuToken, str]
) -> None:
    ou, cnx = connected
    body = {
        "provisioning": {
            "enabled": "yes",
            "remove_action": "disable",
            "create_action": "invite",
            "user_type": "Pro",
            "page_size": 301,
            "io_retries": 50,
            "deep_get": True,
            "attribute_mapping": {"email": {"constant": "x@example.com"}, "title": {"directory": "active"}},
        },
        "connection_id": cnx,
    }
    response = call(flow, "PUT", path_of(cnx), ou.access_token, json=body)
    assert errors_of(response) == {
        "connection_id": ["errors.unknown"],
        "provisioning.deep_get": ["errors.unknown"],
        "provisioning.enabled": ["errors.invalid"],
        "provisioning.remove_action": ["errors.invalid"],
        "provisioning.create_action": ["errors.invalid"],
        "provisioning.user_type": ["errors.invalid"],
        "provisioning.page_size": ["errors.invalid"],
        "provisioning.io_retries": ["errors.invalid"],
        "provisioning.attribute_mapping.email.constant": ["errors.invalid"],
        "provisioning.attribute_mapping.title.directory": ["errors.invalid"],
    }
    assert call(flow, "GET", path_of(cnx), ou.access_token).json()["provisioning"]["version"] == 0


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b'{"provisioning": {"enabled": "\xa1\xff"}}', "application/json", 400),
        (b"{" + b" " * (64 * 1024) + b"}", "application/json", 413),
        (b"enabled=true", "application/x-www-form-urlencoded", 415),
        (b'{"provisioning": ', "application/json", 400),
        (b"[]", "application/json", 422),
        (b'{"provisioning": ' + b"[" * 30000 + b"]" * 30000 + b"}", "application/json", 400),
    ],
    ids=["non-utf8", "oversized", "form", "truncated", "array", "deeply-nested"],
)
def test_malformed_bodies_are_4xx(
    flow: FlowStack, connected: tuple[OuToken, str], content: bytes, content_type: str, status: int
) -> None:
    ou, cnx = connected
    response = call(
        flow, "PUT", path_of(cnx), ou.access_token, content=content, headers={"Content-Type": content_type}
    )
    assert response.status_code == status, response.text
    assert "errors" in response.json()


def test_other_ous_unknown_and_removed_connections_are_404_alike(
    flow: FlowStack, connected: tuple[OuToken, str]
) -> None:
    ou, cnx = connected
    stranger = make_ou_token(flow, flow.new_client())
    gone = add_connection(flow, stranger.access_token, zoom_credentials(flow)).json()
    removed = gone["conferencing_connection"]["connection_id"]
    assert call(flow, "DELETE", f"{COLLECTION}/{removed}", stranger.access_token).status_code == 204
    answers = []
    for token, connection_id in (
        (stranger.access_token, cnx),  # another OU's
        (ou.access_token, new_id("cnx")),  # unknown
        (ou.access_token, "cnx_" + "é" * 600),  # malformed, multibyte
        (stranger.access_token, removed),  # removed
    ):
        for method, kwargs in (("GET", {}), ("PUT", {"json": {"provisioning": {"page_size": 1}}})):
            response = call(flow, method, path_of(connection_id), token, **kwargs)
            answers.append((response.status_code, response.json()))
    assert (
        answers
        == [(404, {"error": "not_found", "error_description": "No such conferencing connection."})] * 8
    )
    assert call(flow, "GET", path_of(cnx), ou.access_token).json()["provisioning"]["version"] == 0


def test_only_zoom_connections_have_provisioning(flow: FlowStack) -> None:
    ou = make_ou_token(flow, flow.new_client())
    client_id = flow.table_items(f"OU#{ou.ou_id}")[0]["client_id"]
    webex = ManagedConnection(
        new_id("cnx"), ou.ou_id, client_id, "webex_enterprise", new_id("acc"), "Example Webex",
        ConnectionStatus.CONNECTED, "arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
        AuthorizationType.OAUTH, 1, 1,
    )  # fmt: skip
    flow.aws("dynamodb").put_item(
        TableName=flow.info["aws"]["table_name"], Item=to_item(connection_item(webex))
    )
    for method, kwargs in (("GET", {}), ("PUT", {"json": {"provisioning": {"enabled": True}}})):
        response = call(flow, method, path_of(webex.connection_id), ou.access_token, **kwargs)
        assert errors_of(response) == {"connection_id": ["errors.provisioning_not_supported"]}
        assert "webex_enterprise" in response.text
    listed = call(flow, "GET", "/v1/organizational_unit", ou.access_token).json()["conferencing_connections"]
    assert [(c["connection_id"], c["provisioning"]) for c in listed] == [(webex.connection_id, None)]


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_an_ou_token_is_required(flow: FlowStack, connected: tuple[OuToken, str], method: str) -> None:
    _, cnx = connected
    for token in (None, "not-a-token"):
        response = call(flow, method, path_of(cnx), token, json={"provisioning": {}})
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"].startswith("Bearer")
