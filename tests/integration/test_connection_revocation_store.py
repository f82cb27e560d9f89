"""The connections repository's deauthorization steps on DynamoDB (moto and DynamoDB Local), and
the vault's idempotent delete."""

from __future__ import annotations

import pytest

from orgconnect import runtime
from orgconnect.domain.model import Connection, ConnectionStatus, ProviderAccountLink
from orgconnect.domain.webhooks_deauthorization import Revocation
from orgconnect.store import keys
from orgconnect.store.dynamodb import to_item
from orgconnect.store.organization import DynamoConnections, connection_attributes, link_item

pytestmark = pytest.mark.every_dynamodb

LINKED_AT, EVENT_AT = 1000, 2000


def linked(client_id: str, account_id: str = "ZA1", provider: str = "zoom_enterprise") -> ProviderAccountLink:
    """A connection and its provider-account link, written as the approval writes them."""
    store = runtime.get_store()
    connection_id = f"cnx_{client_id}_{account_id}_{provider}"
    link = ProviderAccountLink(
        client_id,
        provider,
        account_id,
        f"ou_{client_id}",
        connection_id=connection_id,
        secret_arn=f"arn:aws:secretsmanager:us-east-1:1:secret:{connection_id}",
        created_at=LINKED_AT,
        updated_at=LINKED_AT,
    )
    connection = Connection(
        connection_id,
        link.ou_id,
        client_id,
        provider,
        account_id,
        "Example Corp",
        ConnectionStatus.CONNECTED,
        str(link.secret_arn),
        LINKED_AT,
        LINKED_AT,
    )
    item = {
        **keys.connection_key(connection_id),
        **connection_attributes(connection),
        "created_at": LINKED_AT,
    }
    store.client.put_item(TableName=store.table_name, Item=to_item(item))
    store.client.put_item(TableName=store.table_name, Item=to_item(link_item(link)))
    return link


def stored(key: dict[str, str]) -> dict[str, object]:
    found = runtime.get_store().read(key)
    assert found is not None
    return found


def test_links_of_an_account_are_every_clients_and_only_that_accounts(aws: dict[str, str]) -> None:
    a, b = linked("cli_a"), linked("cli_b")
    linked("cli_a", account_id="ZA2")
    linked("cli_a", provider="webex_enterprise")
    found = DynamoConnections(runtime.get_store()).links_of_account("zoom_enterprise", "ZA1")
    assert sorted(found, key=lambda link: link.client_id) == [a, b]


def test_revoke_once_then_already_revoked(aws: dict[str, str]) -> None:
    link = linked("cli_a")
    connections = DynamoConnections(runtime.get_store())

    assert connections.revoke(link, event_time=EVENT_AT, now=EVENT_AT + 1) is Revocation.REVOKED
    assert connections.revoke(link, event_time=EVENT_AT, now=EVENT_AT + 2) is Revocation.ALREADY_REVOKED

    connection = stored(keys.connection_key(str(link.connection_id)))
    assert (connection["status"], connection["updated_at"]) == ("revoked", EVENT_AT + 1)
    assert connection["secret_arn"] == link.secret_arn  # step 3 has not run yet


def test_a_link_updated_after_the_event_is_not_revoked(aws: dict[str, str]) -> None:
    link = linked("cli_a")
    connections = DynamoConnections(runtime.get_store())
    assert connections.revoke(link, event_time=LINKED_AT - 1, now=EVENT_AT) is Revocation.RELINKED
    assert stored(keys.connection_key(str(link.connection_id)))["status"] == "connected"


def test_forgetting_the_secret_clears_connection_and_link_once(aws: dict[str, str]) -> None:
    link = linked("cli_a")
    connections = DynamoConnections(runtime.get_store())
    connections.revoke(link, event_time=EVENT_AT, now=EVENT_AT)

    connections.forget_secret(link, event_time=EVENT_AT)
    connections.forget_secret(link, event_time=EVENT_AT)  # a retry: nothing left to do

    connection = stored(keys.connection_key(str(link.connection_id)))
    link_data = stored(keys.provider_account_key(link.client_id, link.provider_name, link.account_id))
    assert "secret_arn" not in connection and "secret_arn" not in link_data
    assert link_data["updated_at"] == LINKED_AT  # the relink marker is untouched
    (again,) = connections.links_of_account("zoom_enterprise", "ZA1")
    assert again.secret_arn is None


def test_a_connected_connection_keeps_its_secret(aws: dict[str, str]) -> None:
    link = linked("cli_a")
    DynamoConnections(runtime.get_store()).forget_secret(link, event_time=EVENT_AT)
    assert stored(keys.connection_key(str(link.connection_id)))["secret_arn"] == link.secret_arn


def test_the_organizational_unit_view_shows_the_revoked_connection(aws: dict[str, str]) -> None:
    link = linked("cli_a")
    store = runtime.get_store()
    store.client.put_item(
        TableName=store.table_name,
        Item=to_item(
            {
                **keys.organizational_unit_key(link.ou_id),
                "type": "organizational_unit",
                "ou_id": link.ou_id,
                "client_id": "cli_a",
                "name": "Acme",
            }
        ),
    )
    connections = DynamoConnections(store)
    connections.revoke(link, event_time=EVENT_AT, now=EVENT_AT)
    connections.forget_secret(link, event_time=EVENT_AT)
    view = runtime.get_organizational_unit_views().get(link.ou_id)
    assert view is not None
    assert [(c.connection_id, c.status) for c in view.connections] == [(link.connection_id, "revoked")]


def test_deleting_a_secret_twice_is_fine(aws: dict[str, str]) -> None:
    vault = runtime.get_connection_vault()
    arn = vault.create("cnx_delete_me", {"access_token": "a"})
    vault.delete(arn)
    vault.delete(arn)
    secrets_manager = runtime.get_secrets_client()
    with pytest.raises(secrets_manager.exceptions.ResourceNotFoundException):
        secrets_manager.get_secret_value(SecretId=arn)
