"""Drive the authorization flow like a browser: follow redirects, sign in at the simulators,
choose providers, approve. Each Browser has its own cookie jar (its own "browser")."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import boto3
import httpx

from devstack.browser import ScriptedBrowser
from devstack.stack import DevStack


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uri: str
    service_account_id: str


#: How long the simulators wait for orgconnect's answer to a webhook in the tests.
WEBHOOK_TIMEOUT_SECONDS = 15.0


@dataclass
class FlowStack:
    """The in-process dev stack plus helpers for tests."""

    stack: DevStack
    info: dict[str, Any]
    api: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))

    def __post_init__(self) -> None:
        # Zoom gives a webhook 3 s; an in-process stack on a busy 2-core CI machine sometimes
        # needs more, and a test is about what the handler does, not about that machine.
        for started in self.stack.simulators.values():
            if hasattr(started.simulator, "webhook_timeout_seconds"):
                started.simulator.webhook_timeout_seconds = WEBHOOK_TIMEOUT_SECONDS

    def simulator(self, name: str) -> Any:
        return self.stack.simulators[name].simulator

    def aws(self, service: str) -> Any:
        assert self.stack.aws is not None
        return self.stack.aws.client(service)

    def demo_client(self) -> Client:
        """The demo integrator and its service account (Google Workspace ``example.com``)."""
        info = self.info
        return Client(
            info["client_id"], info["client_secret"], info["redirect_uri"], info["service_account_id"]
        )

    def new_client(
        self,
        *,
        categories: str = "general",
        policy: str = "when_unlinked",
        domain: str = "example.com",
        provider: str = "google_workspace",
    ) -> Client:
        """A fresh integrator client with one service account (so tests never share state)."""
        from orgconnect import runtime
        from orgconnect.domain.clients import register_client
        from orgconnect.domain.model import AdminProofPolicy, CalendarProvider, ConferencingCategory
        from orgconnect.domain.service_accounts import register_service_account
        from orgconnect.store.service_accounts import DynamoServiceAccounts

        clients, hasher = runtime.get_clients(), runtime.get_hasher()
        accounts = DynamoServiceAccounts(runtime.get_store())
        made = register_client(
            name="Test app",
            redirect_uris=[self.info["redirect_uri"]],
            categories=[ConferencingCategory(c) for c in categories.split(",")],
            admin_proof_policy=AdminProofPolicy(policy),
            store=clients,
            hasher=hasher,
            now=runtime.now(),
        )
        account = register_service_account(
            client_id=made.client.client_id,
            provider=CalendarProvider(provider),
            domain=domain,
            admin_email=None,
            clients=clients,
            store=accounts,
            now=runtime.now(),
        )
        return Client(
            made.client.client_id, made.client_secret, self.info["redirect_uri"], account.service_account_id
        )

    def link_token(self, client: Client) -> str:
        response = self.api.post(
            f"{self.info['api_url']}/v1/organizational_unit_authorization_link_tokens",
            headers={"Authorization": f"Bearer {client.client_secret}"},
            json={"service_account_id": client.service_account_id},
        )
        assert response.status_code == 200, response.text
        return str(response.json()["organizational_unit_authorization_link_token"]["ou_link_token"])

    def authorize_url(
        self,
        client: Client,
        *,
        link_token: str | None = None,
        state: str | None = "st-1",
        provider: str | None = "zoom_enterprise",
        capability: str = "conferencing",
        **overrides: Any,
    ) -> str:
        params: dict[str, Any] = {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": client.redirect_uri,
            "scope": "organizational_unit_use_integrations",
            "capabilities[]": capability,
            "ou_link_token": link_token if link_token is not None else self.link_token(client),
        }
        if state is not None:
            params["state"] = state
        if provider:
            params["conferencing_provider_name"] = provider
        for key, value in overrides.items():
            if value is None:
                params.pop(key, None)
            else:
                params[key] = value
        query = urlencode(
            [(k, v) for k, vs in params.items() for v in (vs if isinstance(vs, list) else [vs])]
        )
        return f"{self.info['app_url']}/organizational_unit_oauth?{query}"

    def wait_sync_ended(self, connection_id: str, timeout: float = 60) -> dict[str, Any]:
        """The connection's SYNC item once the sync its link (or add) queued has ended (done or
        failed): the background sync then makes no more provider or AWS calls (docs/sync.md)."""
        db = self.aws("dynamodb")
        key = {"pk": {"S": f"DIRECTORY#{connection_id}"}, "sk": {"S": "SYNC"}}
        table = self.info["aws"]["table_name"]
        deadline = time.monotonic() + timeout
        while True:
            item = db.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
            if item is not None and item.get("state", {}).get("S") in ("done", "failed"):
                from orgconnect.store.dynamodb import from_item

                return from_item(item)
            assert time.monotonic() < deadline, f"the sync of {connection_id} did not end"
            time.sleep(0.05)

    def table_items(self, prefix: str) -> list[dict[str, Any]]:
        from orgconnect.store.dynamodb import from_item

        db = self.aws("dynamodb")
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self.info["aws"]["table_name"]}
        while True:
            page = db.scan(**kwargs)
            items += [from_item(i) for i in page["Items"] if i["pk"]["S"].startswith(prefix)]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def connection_secrets(self) -> list[str]:
        sm = self.aws("secretsmanager")
        names = [s["Name"] for s in sm.list_secrets(MaxResults=100)["SecretList"]]
        return [n for n in names if "/connections/" in n]


class Browser(ScriptedBrowser):
    """A scripted browser on the test stack."""

    def __init__(self, flow: FlowStack) -> None:
        super().__init__(redirect_uri=flow.info["redirect_uri"], app_url=flow.info["app_url"])
        self.flow = flow


def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def aws_client(endpoint: str, service: str) -> Any:
    make: Any = boto3.client
    return make(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
