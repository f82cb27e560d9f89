"""Helpers for the OU-token connection tests: an Organizational Unit and its access token made
directly in the stack's table (as the consent step would), and the demo Server-to-Server app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from orgconnect import runtime
from orgconnect.domain.codes import CODE_PURPOSE, OU_SCOPE, AuthorizationCode, GrantKind, new_code
from orgconnect.domain.secrets import new_id
from orgconnect.store import keys
from orgconnect.store.dynamodb import to_item
from orgconnect.store.tokens import code_put
from tests.flow.harness import Client, FlowStack

COLLECTION = "/v1/organizational_unit/conferencing_connections"


@dataclass(frozen=True)
class OuToken:
    ou_id: str
    access_token: str


def make_ou_token(flow: FlowStack, client: Client, *, link_service_account: bool = True) -> OuToken:
    """A new OU of ``client`` (holding its service account unless told not to) and an OU access
    token from ``POST /oauth/token`` (the code is issued as the consent transaction issues it)."""
    table = flow.info["aws"]["table_name"]
    ou_id, now, code = new_id("ou"), runtime.now(), new_code()
    ou_item = {
        **keys.organizational_unit_key(ou_id),
        "type": "organizational_unit",
        "ou_id": ou_id,
        "client_id": client.client_id,
        "name": "Acme",
        "created_at": now,
    }
    grant = AuthorizationCode(
        client_id=client.client_id,
        redirect_uri=client.redirect_uri,
        kind=GrantKind.ORGANIZATIONAL_UNIT,
        sub=ou_id,
        scope=OU_SCOPE,
        created_at=now,
        expires_at=now + 600,
    )
    items: list[Any] = [
        {"Put": {"TableName": table, "Item": to_item(ou_item)}},
        code_put(table, runtime.get_hasher().digest(CODE_PURPOSE, code), grant, "Acme"),
    ]
    if link_service_account:
        items.append(
            {
                "Update": {
                    "TableName": table,
                    "Key": to_item(keys.service_account_key(client.service_account_id)),
                    "UpdateExpression": "SET organizational_unit_id = :ou, gsi1pk = :pk, gsi1sk = :sk",
                    "ExpressionAttributeValues": to_item(
                        {
                            ":ou": ou_id,
                            ":pk": keys.ou_member_index(ou_id),
                            ":sk": f"SERVICEACCOUNT#{client.service_account_id}",
                        }
                    ),
                }
            }
        )
    flow.aws("dynamodb").transact_write_items(TransactItems=items)
    return OuToken(ou_id, redeem(flow, client, code))


def redeem(flow: FlowStack, client: Client, code: str) -> str:
    response = flow.api.post(
        f"{flow.info['api_url']}/oauth/token",
        json={
            "grant_type": "authorization_code",
            "client_id": client.client_id,
            "client_secret": client.client_secret,
            "code": code,
            "redirect_uri": client.redirect_uri,
        },
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def zoom_credentials(flow: FlowStack, *, free: bool = False) -> dict[str, str]:
    """The demo Server-to-Server app of the paid Zoom account (or of the Free one)."""
    zoom = flow.info["simulators"]["zoom"]
    prefix = "free_" if free else ""
    return {
        "account_id": zoom[f"{prefix}account_id"],
        "client_id": zoom[f"{prefix}client_id"],
        "client_secret": zoom[f"{prefix}client_secret"],
    }


def add_connection(flow: FlowStack, access_token: str, credentials: dict[str, str]) -> httpx.Response:
    return flow.api.post(
        f"{flow.info['api_url']}{COLLECTION}",
        headers={"Authorization": f"Bearer {access_token}"},
        json={"provider_name": "zoom_enterprise", "server_to_server": credentials},
    )
