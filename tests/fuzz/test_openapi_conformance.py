"""Schemathesis over docs/openapi.json against the API (issue 7, 1l).

Every operation of the committed OpenAPI document is fuzzed in-process through the local API
Gateway (the template's routes, IAM policies and proxy events) on moto, with every schemathesis
check enabled: no 5xx, statuses, content types, bodies and headers as documented, schema-valid
requests accepted, schema-invalid ones refused, authentication enforced, and API Gateway's own
answer to methods no route has. The run is seeded with real credentials (a registered client,
its service account, an Organizational Unit and its tokens), so the authenticated paths are
exercised too, and bounded (examples per operation, fixed seed, no deadline).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from devstack.apigw import LocalApiGateway, function_environment
from devstack.openapi import build_openapi
from devstack.template import Resolver, functions, load_template, parameter_defaults
from orgconnect.domain.pkce import s256_challenge

if TYPE_CHECKING:
    from tests.conftest import Seeded
    from tests.integration.token_fixtures import LinkedOu, TokenApi

pytest_plugins = ["tests.integration.token_fixtures"]

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
LINK_TOKENS = "/v1/organizational_unit_authorization_link_tokens"
CONNECTIONS = "/v1/organizational_unit/conferencing_connections"
PROVISIONING = CONNECTIONS + "/{connection_id}/provisioning"
MAX_EXAMPLES = 200
SEED = 20261129


def test_the_committed_openapi_document_is_current() -> None:
    committed = json.loads(OPENAPI.read_text())
    assert committed == build_openapi(), "run `make openapi` and commit docs/openapi.json"


CONFIG = schemathesis.Config.from_dict(
    {"seed": SEED, "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True}}
)
schema = schemathesis.openapi.from_dict(json.loads(OPENAPI.read_text()), config=CONFIG)


class CurrentGateway:
    """The WSGI app schemathesis calls: the running test's gateway (each test has its own moto)."""

    gateway: LocalApiGateway | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        assert self.gateway is not None, "only while the seeded_gateway fixture is active"
        return self.gateway(environ, start_response)


current_gateway = CurrentGateway()
schema.app = current_gateway
# The Authorization header per security scheme, for the running test's seeded deployment.
_seeded_authorization: dict[str, str] = {}


@schema.auth(refresh_interval=None, retry_on=[])
class SeededCredentials:
    """The seeded client's credentials (or an OU access token), as each operation declares."""

    def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> str | None:
        for requirement in case.operation.definition.raw.get("security", []):
            for name in requirement:
                if name in _seeded_authorization:
                    return _seeded_authorization[name]
        return None

    def set(self, case: schemathesis.Case, data: str, context: schemathesis.AuthContext) -> None:
        case.headers = {**(case.headers or {}), "Authorization": data}


@pytest.fixture(scope="module")
def zoom_simulator() -> Iterator[dict[str, Any]]:
    """The Zoom simulator's dev info, so that operations that call Zoom get its answers, not a
    503 for a provider out of reach (OU-token connections test their credentials with Zoom)."""
    from devstack.simulators import start_simulators, stop_simulators

    started = start_simulators(["zoom"])
    yield started["zoom"].dev_info()
    stop_simulators(started)


@pytest.fixture
def seeded_gateway(
    aws_resolver: Resolver,
    api: TokenApi,
    ou: LinkedOu,
    seeded: Seeded,
    zoom_simulator: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[LocalApiGateway]:
    """The local API Gateway on this test's moto deployment, and its credentials for the auth provider."""
    from orgconnect import settings as function_settings

    monkeypatch.setenv("ORGCONNECT_PROVIDER_URL_OVERRIDES", json.dumps({"zoom": zoom_simulator["base_url"]}))
    function_settings.reset()
    access_token = api.redeem(ou)["access_token"]
    template = load_template()
    # Stage throttling is tested elsewhere; here it would only turn fuzzing into 429s.
    limits = {"ApiThrottlingRateLimit": 10_000, "ApiThrottlingBurstLimit": 10_000}
    params = parameter_defaults(template, limits)
    resolver = Resolver(refs={**aws_resolver.refs, **params}, attrs=aws_resolver.attrs)
    gateway = LocalApiGateway(template, resolver)
    # Connection secrets are created under the stack's prefix, the only one their policy allows.
    prefix = function_environment(functions(template), resolver)["ORGCONNECT_CONNECTION_SECRET_PREFIX"]
    monkeypatch.setenv("ORGCONNECT_CONNECTION_SECRET_PREFIX", prefix)
    function_settings.reset()  # loading the handlers validated (and kept) the settings of the moment
    basic = base64.b64encode(f"{ou.client_id}:{ou.client_secret}".encode()).decode()
    _seeded_authorization.update(
        {
            "clientSecret": f"Bearer {seeded.client_secret}",
            "clientSecretBasic": f"Basic {basic}",
            "organizationalUnitToken": f"Bearer {access_token}",
        }
    )
    current_gateway.gateway = gateway
    yield gateway
    current_gateway.gateway = None
    _seeded_authorization.clear()


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
def test_the_api_conforms_to_its_openapi_document(
    case: schemathesis.Case,
    seeded_gateway: LocalApiGateway,
    seeded: Seeded,
    api: TokenApi,
    ou: LinkedOu,
    zoom_simulator: dict[str, Any],
) -> None:
    if case.operation.path == PROVISIONING:
        # The seeded OU's Zoom connection, so that policies are validated and stored, not 404s.
        case.path_parameters = {**(case.path_parameters or {}), "connection_id": ou.connection_id}
    if _is_positive(case) and isinstance(case.body, dict):
        _use_real_values(case.operation.path, case.body, seeded, api, ou)
        credentials = case.body.get("server_to_server")
        if case.operation.path == CONNECTIONS and isinstance(credentials, dict):
            # The Zoom account's demo Server-to-Server app: 201 once, then 409 (already linked).
            credentials.update({k: zoom_simulator[k] for k in ("account_id", "client_id", "client_secret")})
    case.call_and_validate()


def _use_real_values(path: str, body: dict[str, Any], seeded: Seeded, api: TokenApi, ou: LinkedOu) -> None:
    """Schema-valid values that also exist, so that some valid requests succeed (and their
    answers are checked against the document): a well-formed id or code is not enough."""
    if path == LINK_TOKENS:
        body["service_account_id"] = seeded.service_account_id
    elif path == "/oauth/token" and body.get("grant_type") == "authorization_code":
        verifier = body.get("code_verifier")
        challenge = s256_challenge(verifier) if isinstance(verifier, str) else None
        body["code"] = ou.issue_code(code_challenge=challenge)
        body["redirect_uri"] = ou.redirect_uri
    elif path == "/oauth/token" and body.get("grant_type") == "refresh_token":
        body["refresh_token"] = api.redeem(ou)["refresh_token"]


def _is_positive(case: schemathesis.Case) -> bool:
    meta: Any = case.meta
    return meta is None or bool(meta.generation.mode.is_positive)
