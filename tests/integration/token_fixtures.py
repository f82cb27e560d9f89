"""Fixtures for the token endpoint and userinfo: an Organizational Unit linked to a service
account and a Zoom connection, and authorization codes issued through ``code_put`` in one
transaction, the way the consent step issues them (the browser flow is built separately).

Test modules load them with ``pytest_plugins = ["tests.integration.token_fixtures"]`` and
import names from here only under ``TYPE_CHECKING`` (so the module is imported once, as a
plugin, with pytest's assertion rewriting). They build on ``aws`` and ``seeded`` from
tests/conftest.py.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest

from devstack.apigw import LocalApiGateway, load_handler
from devstack.servers import RunningServer, serve_wsgi
from devstack.template import FunctionSpec, Resolver, functions, load_template, parameter_defaults
from orgconnect import runtime
from orgconnect.domain.clients import CLIENT_SECRET_PURPOSE
from orgconnect.domain.codes import CODE_PURPOSE, OU_SCOPE, AuthorizationCode, GrantKind, new_code
from orgconnect.domain.secrets import new_id
from orgconnect.store import keys
from orgconnect.store.dynamodb import from_item, to_item
from orgconnect.store.tokens import code_put
from tests.conftest import FakeContext, Seeded, api_event, decode_body

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
REDIRECT_URI = "https://app.example/callback"  # what `seeded` registers
TOKEN_FUNCTIONS = ("TokenFunction", "UserinfoFunction")


def token_function_specs() -> dict[str, FunctionSpec]:
    """The specs of this feature's functions only (others in template.yaml may be unfinished)."""
    return {s.logical_id: s for s in functions(load_template()) if s.logical_id in TOKEN_FUNCTIONS}


def load_token_handler(logical_id: str) -> Handler:
    """A fresh instance of a function's handler: its own module, resolver and state, like a
    separate Lambda execution environment (what concurrent callers need)."""
    return load_handler(token_function_specs()[logical_id])


class Clock:
    """The service clock (``orgconnect.runtime.now``) under the test's control."""

    def __init__(self, start: int) -> None:
        self.value = start

    def __call__(self) -> int:
        return self.value

    def advance(self, seconds: int) -> None:
        self.value += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Freeze the service clock at a fixed instant; tests move it explicitly."""
    fixed = Clock(1_900_000_000)
    monkeypatch.setattr(runtime, "now", fixed)
    return fixed


@dataclass
class TokenApi:
    """Calls the token and userinfo handlers with API Gateway events."""

    token_handler: Handler
    userinfo_handler: Handler

    def token(
        self,
        params: dict[str, Any] | None = None,
        *,
        form: bool = False,
        basic: tuple[str, str] | None = None,
        headers: dict[str, str] | None = None,
        raw_body: str | None = None,
        path: str = "/oauth/token",
    ) -> dict[str, Any]:
        """POST ``params`` as JSON (default) or form-encoded, optionally with HTTP Basic."""
        hdrs = dict(headers or {})
        if basic is not None:
            hdrs["Authorization"] = "Basic " + base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
        if form:
            hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
            raw_body = urlencode(params or {})
            params = None
        event = api_event("POST", path, body=params, headers=hdrs, raw_body=raw_body)
        return self.token_handler(event, FakeContext())

    def revoke(self, params: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return self.token(params, path="/oauth/token/revoke", **kwargs)

    def redeem(self, ou: LinkedOu, code: str | None = None) -> dict[str, Any]:
        """Redeem a (new) code of ``ou`` as its client and return the 200 body."""
        params = ou.body(
            grant_type="authorization_code", code=code or ou.issue_code(), redirect_uri=ou.redirect_uri
        )
        response = self.token(params)
        assert response["statusCode"] == 200, decode_body(response)
        body: dict[str, Any] = decode_body(response)
        return body

    def in_parallel(self, params: dict[str, Any], n: int) -> list[tuple[int, Any]]:
        """POST ``params`` to /oauth/token from ``n`` threads at once, each with its own handler
        instance (separate Lambda environments: one resolver is not meant for concurrent events)."""
        handlers = [load_token_handler("TokenFunction") for _ in range(n)]
        start = threading.Barrier(n)

        def call(handler: Handler) -> tuple[int, Any]:
            event = api_event("POST", "/oauth/token", body=params)
            start.wait()
            response = handler(event, FakeContext())
            return response["statusCode"], decode_body(response)

        with ThreadPoolExecutor(max_workers=n) as pool:
            return list(pool.map(call, handlers))

    def get(
        self,
        path: str,
        access_token: str | None,
        *,
        query: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """GET /v1/userinfo or /v1/organizational_unit with ``Authorization: Bearer``."""
        hdrs = dict(headers or {})
        if access_token is not None:
            hdrs["Authorization"] = f"Bearer {access_token}"
        return self.userinfo_handler(api_event("GET", path, headers=hdrs, query=query), FakeContext())


@cache
def shared_token_handlers() -> dict[str, Handler]:
    """One instance of each handler for the whole session (they read settings per request)."""
    return {name: load_token_handler(name) for name in TOKEN_FUNCTIONS}


@pytest.fixture
def api(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> TokenApi:
    """The token and userinfo functions, on the test's moto resources."""
    from orgconnect.observability import metrics

    # With POWERTOOLS_METRICS_DISABLED nothing ever clears the shared metric set, and add_metric
    # serializes it at 100 values, which needs a namespace (read from the environment when
    # orgconnect.observability was first imported, perhaps at collection, before `aws` set it).
    metrics.clear_metrics()
    monkeypatch.setattr(metrics, "namespace", metrics.namespace or "orgconnect")
    handlers = shared_token_handlers()
    return TokenApi(handlers["TokenFunction"], handlers["UserinfoFunction"])


@dataclass
class LinkedOu:
    """An OU of client A with its service account and a Zoom connection, plus client B."""

    table: str
    client_id: str
    client_secret: str
    other_client_id: str
    other_client_secret: str
    ou_id: str
    ou_name: str
    service_account_id: str
    connection_id: str
    redirect_uri: str = REDIRECT_URI
    codes: list[str] = field(default_factory=list)

    def issue_code(
        self,
        *,
        client_id: str | None = None,
        redirect_uri: str | None = None,
        ttl: int = 600,
        now: int | None = None,
        code_challenge: str | None = None,
    ) -> str:
        """Issue an OU code as the consent transaction does (``code_put``) and return it."""
        code = new_code()
        issued_at = runtime.now() if now is None else now
        grant = AuthorizationCode(
            client_id=client_id or self.client_id,
            redirect_uri=redirect_uri or self.redirect_uri,
            kind=GrantKind.ORGANIZATIONAL_UNIT,
            sub=self.ou_id,
            scope=OU_SCOPE,
            created_at=issued_at,
            expires_at=issued_at + ttl,
            code_challenge=code_challenge,
        )
        digest = runtime.get_hasher().digest(CODE_PURPOSE, code)
        boto3.client("dynamodb").transact_write_items(
            TransactItems=[code_put(self.table, digest, grant, self.ou_name)]  # type: ignore[list-item]
        )
        self.codes.append(code)
        return code

    def tokens_from(self, response: dict[str, Any]) -> dict[str, Any]:
        """The body of a token response, checked to be a fresh grant for this OU."""
        assert response["statusCode"] == 200, decode_body(response)
        body: dict[str, Any] = decode_body(response)
        assert (body["token_type"], body["sub"], body["organizational_unit"]) == (
            "bearer",
            self.ou_id,
            {"sub": self.ou_id, "name": self.ou_name},
        )
        assert len(body["access_token"]) == 43 and len(body["refresh_token"]) == 43
        return body

    def body(self, **params: Any) -> dict[str, Any]:
        """Token request parameters authenticated as client A in the body."""
        return {"client_id": self.client_id, "client_secret": self.client_secret, **params}

    def item(self, key: dict[str, str]) -> dict[str, Any] | None:
        found = boto3.client("dynamodb").get_item(TableName=self.table, Key=to_item(key), ConsistentRead=True)
        return from_item(found["Item"]) if "Item" in found else None


def link_organizational_unit(
    table: str, *, client_id: str, service_account_id: str, name: str, now: int
) -> tuple[str, str]:
    """Create an OU, link the service account and add a Zoom connection, in one transaction,
    with the item layout of store/keys.py. Returns (ou_id, connection_id)."""
    ou_id, connection_id = new_id("ou"), new_id("cnx")
    members = keys.ou_member_index(ou_id)
    ou_item = {
        **keys.organizational_unit_key(ou_id),
        "type": "organizational_unit",
        "ou_id": ou_id,
        "client_id": client_id,
        "name": name,
        "created_at": now,
    }
    connection_item = {
        **keys.connection_key(connection_id),
        "type": "connection",
        "gsi1pk": members,
        "gsi1sk": f"CONNECTION#{connection_id}",
        "connection_id": connection_id,
        "ou_id": ou_id,
        "client_id": client_id,
        "provider_name": "zoom_enterprise",
        "provider_account_id": "zoom-account-1",
        "account_name": "Acme Zoom",
        "status": "connected",
        "secret_arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:test",
        "created_at": now,
        "updated_at": now,
    }
    boto3.client("dynamodb").transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": to_item(ou_item)}},
            {"Put": {"TableName": table, "Item": to_item(connection_item)}},
            {
                "Update": {
                    "TableName": table,
                    "Key": to_item(keys.service_account_key(service_account_id)),
                    "UpdateExpression": "SET organizational_unit_id = :ou, gsi1pk = :pk, gsi1sk = :sk",
                    "ConditionExpression": "client_id = :client",
                    "ExpressionAttributeValues": to_item(
                        {
                            ":ou": ou_id,
                            ":pk": members,
                            ":sk": f"SERVICEACCOUNT#{service_account_id}",
                            ":client": client_id,
                        }
                    ),
                }
            },
        ]
    )
    return ou_id, connection_id


@pytest.fixture
def ou(seeded: Seeded, aws: dict[str, str], clock: Clock) -> LinkedOu:
    """Client A's OU "Acme" (service account + Zoom connection); client B exists too."""
    table = aws["ORGCONNECT_TABLE_NAME"]
    other = runtime.get_clients().get_api_key(
        runtime.get_hasher().digest(CLIENT_SECRET_PURPOSE, seeded.other_client_secret)
    )
    assert other is not None
    ou_id, connection_id = link_organizational_unit(
        table,
        client_id=seeded.client_id,
        service_account_id=seeded.service_account_id,
        name="Acme",
        now=clock(),
    )
    return LinkedOu(
        table=table,
        client_id=seeded.client_id,
        client_secret=seeded.client_secret,
        other_client_id=other.client_id,
        other_client_secret=seeded.other_client_secret,
        ou_id=ou_id,
        ou_name="Acme",
        service_account_id=seeded.service_account_id,
        connection_id=connection_id,
    )


@pytest.fixture
def other_ou(ou: LinkedOu, seeded: Seeded, clock: Clock) -> tuple[str, str]:
    """Client B's OU "Other" with its own service account and connection: (ou_id, connection_id)."""
    return link_organizational_unit(
        ou.table,
        client_id=ou.other_client_id,
        service_account_id=seeded.other_service_account_id,
        name="Other",
        now=clock(),
    )


@pytest.fixture
def token_server(aws: dict[str, str], aws_resolver: Resolver) -> Iterator[RunningServer]:
    """The local API Gateway on 127.0.0.1 serving only the token and userinfo functions."""
    template = load_template()
    template["Resources"] = {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] != "AWS::Serverless::Function" or name in TOKEN_FUNCTIONS
    }
    server = serve_wsgi(
        LocalApiGateway(
            template,
            Resolver(refs={**aws_resolver.refs, **parameter_defaults(template)}, attrs=aws_resolver.attrs),
        ),
        name="token-api",
    )
    yield server
    server.stop()
