"""The Docker-free local stack (SPEC section 6): AWS emulator, API emulator, simulators, demo data.

Everything runs in this one process on 127.0.0.1: moto serves DynamoDB and Secrets Manager
(provisioned from template.yaml; with ``dynamodb="local"`` DynamoDB is AWS's DynamoDB Local,
a Java child process), the template's functions answer through the local API
Gateway, the provider simulators play Zoom and friends, and the demo integrator plays the
integrator's web app. State lives in memory: every start is a fresh, freshly seeded system.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from devstack.apigw import LocalApiGateway, function_environment
from devstack.aws import DynamoDBBackend, LocalAws, aws_environment, provision, start_local_aws
from devstack.docs_ui import docs_routes
from devstack.integrator import IntegratorConfig, create_integrator_app, obtain_service_account_token
from devstack.openapi import build_openapi
from devstack.schedules import Schedules, start_schedules
from devstack.servers import RunningServer, serve_wsgi
from devstack.simulators.demo import PRIMARY_DOMAIN, DemoDirectory, build_demo_directory
from devstack.sqs_events import SqsPoller, describe, start_sqs_event_sources
from devstack.template import functions, load_template, parameter_defaults

log = logging.getLogger("devstack")

STACK_PREFIX = "orgconnect-local"
DEFAULT_PORTS = {"api": 4010, "integrator": 4011, "aws": 4566}
DEFAULT_DYNAMODB_LOCAL_PORT = 4567
DEFAULT_SIMULATOR_PORTS = {"zoom": 4020, "microsoft": 4021, "google": 4022, "webex": 4023, "indeed": 4024}
# Local-only settings: no X-Ray daemon, no CloudWatch EMF lines on the console.
LOCAL_ONLY_ENV = {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    # Integrator notifications may go to http://127.0.0.1:... here (never in a deployment).
    "ORGCONNECT_NOTIFICATIONS_ALLOW_LOOPBACK": "true",
}


@dataclass
class StackOptions:
    """What to start, and where. Port 0 picks a free port (what the tests do)."""

    ports: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DEFAULT_PORTS, 0))
    simulator_ports: dict[str, int] = field(default_factory=dict)
    simulators: bool = True
    seed: int = 7
    zoom_users: int = 50
    state_dir: Path = Path(".orgconnect")
    parameters: dict[str, Any] = field(default_factory=dict)
    # "local": DynamoDB Local on ports["dynamodb"], or the running one at dynamodb_endpoint_url.
    dynamodb: DynamoDBBackend = "moto"
    dynamodb_endpoint_url: str | None = None
    # Seconds an SQS message stays invisible after a receive; None: the queue's own (tests shorten it).
    sqs_visibility_timeout: int | None = None
    # Names of the stack's tables, secrets and queues (None: orgconnect-local).
    stack_prefix: str | None = None


class DevStack:
    """Start with :meth:`start` (returns the dev.json content), stop with :meth:`stop`."""

    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.aws: LocalAws | None = None
        self.servers: list[RunningServer] = []
        self.event_sources: list[SqsPoller] = []
        self.schedules: Schedules | None = None
        self.simulators: dict[str, Any] = {}
        self.info: dict[str, Any] = {}

    @property
    def dev_file(self) -> Path:
        return self.options.state_dir / "dev.json"

    def start(self) -> dict[str, Any]:
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> dict[str, Any]:
        opts = self.options
        template = load_template()
        self.aws = start_local_aws(
            opts.ports.get("aws", 0),
            dynamodb=opts.dynamodb,
            dynamodb_port=opts.ports.get("dynamodb", 0),
            dynamodb_endpoint_url=opts.dynamodb_endpoint_url,
        )
        # A DynamoDB Local shared with others may already hold a stack's tables.
        prefix = f"{STACK_PREFIX}-{secrets.token_hex(3)}" if opts.dynamodb_endpoint_url else STACK_PREFIX
        # moto's state is per process: a second stack in one process (tests) needs its own names.
        prefix = opts.stack_prefix or prefix
        resolver = provision(
            self.aws.client, template, parameter_defaults(template, opts.parameters), prefix=prefix
        )
        env = {
            **function_environment(functions(template), resolver),
            **aws_environment(self.aws.endpoint_url, self.aws.dynamodb_endpoint_url),
            **LOCAL_ONLY_ENV,
        }
        # The functions run in this process and read their settings from os.environ, as on Lambda.
        os.environ.update(env)

        integrator_config = IntegratorConfig()
        integrator = serve_wsgi(
            create_integrator_app(integrator_config), name="integrator", port=opts.ports.get("integrator", 0)
        )
        self.servers.append(integrator)

        demo = build_demo_directory(seed=opts.seed)
        seeded = seed_demo(
            table_name=env["ORGCONNECT_TABLE_NAME"],
            pepper_secret_id=env["ORGCONNECT_PEPPER_SECRET_ID"],
            endpoint_url=self.aws.endpoint_url,
            dynamodb_endpoint_url=self.aws.dynamodb_endpoint_url,
            redirect_uri=f"{integrator.url}/callback",
            demo=demo,
        )

        self.schedules = start_schedules(template, resolver)
        api_app = LocalApiGateway(
            template,
            resolver,
            extra_routes={
                **docs_routes(lambda: build_openapi(server_url=self.info.get("api_url"))),
                "/_dev/health": lambda _: _health(),
                "/_dev/schedules/run": self.schedules.http_route,
            },
        )
        api = serve_wsgi(api_app, name="api", port=opts.ports.get("api", 0))
        self.servers.append(api)
        self.event_sources = start_sqs_event_sources(
            template, resolver, self.aws.client, visibility_timeout=opts.sqs_visibility_timeout
        )

        integrator_config.fill({"api_url": api.url, "app_url": api.url, **seeded})
        simulators_info: dict[str, Any] = {}
        if opts.simulators:
            simulators_info = self._start_simulators(demo, api.url)
        self._point_functions_at(api.url, simulators_info, env)

        self.info = {
            "api_url": api.url,
            "app_url": api.url,
            "aws_endpoint_url": self.aws.endpoint_url,
            "dynamodb": opts.dynamodb,
            "dynamodb_endpoint_url": self.aws.dynamodb_endpoint_url,
            **seeded,
            # Filled below through Enterprise Connect, when the simulators run.
            "service_account_token": None,
            "start_url": f"{integrator.url}/start",
            "integrator_url": integrator.url,
            "docs_url": f"{api.url}/_dev/docs",
            "openapi_url": f"{api.url}/_dev/openapi.json",
            "aws": {
                "region": env["AWS_DEFAULT_REGION"],
                "table_name": env["ORGCONNECT_TABLE_NAME"],
                "pepper_secret_id": env["ORGCONNECT_PEPPER_SECRET_ID"],
                "encryption_keys_secret_id": env["ORGCONNECT_ENCRYPTION_KEYS_SECRET_ID"],
                "provider_apps_secret_id": env["ORGCONNECT_PROVIDER_APPS_SECRET_ID"],
                "access_key_id": env["AWS_ACCESS_KEY_ID"],
                "secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
            },
            "simulators": simulators_info,
            "demo": demo.summary(),
            "routes": [f"{m} {p} -> {f}" for m, p, f in api_app.routes],
            "event_sources": describe(self.event_sources),
            "schedules": self.schedules.describe(),
            "queues": {
                name: url
                for name, url in resolver.refs.items()
                if ":sqs:" in str(resolver.attrs.get(f"{name}.Arn", ""))
            },
        }
        self._wait_until_ready()
        if opts.simulators:
            self.info.update(self._service_account_token(integrator_config, demo))
            integrator_config.fill(self.info)  # the demo page's delegated access and demo emails
        opts.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dev_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.info, indent=2) + "\n")
        tmp.chmod(0o600)  # it holds the demo client secret
        tmp.replace(self.dev_file)
        return self.info

    def _service_account_token(self, config: IntegratorConfig, demo: DemoDirectory) -> dict[str, Any]:
        """The demo service account's token through Enterprise Connect: the demo administrator
        consents at the Google simulator, the code is redeemed (the seeded account is refreshed)."""
        google = self.info["simulators"]["google"]["base_url"]
        token = obtain_service_account_token(config, sign_in_as={google: demo.admin.email})
        return {
            "service_account_id": token["service_account_id"],
            "service_account_token": token["access_token"],
            "service_account_refresh_token": token["refresh_token"],
        }

    def _start_simulators(self, demo: DemoDirectory, app_url: str) -> dict[str, Any]:
        from devstack.simulators import start_simulators

        ports = {**dict.fromkeys(DEFAULT_SIMULATOR_PORTS, 0), **self.options.simulator_ports}
        self.simulators = start_simulators(
            demo=demo,
            seed=self.options.seed,
            ports=ports,
            options={"zoom": {"zoom_users": self.options.zoom_users}},
        )
        info = {}
        for name, started in self.simulators.items():
            simulator = started.simulator
            simulator.set_redirect_uris(simulator.default_app.client_id, [f"{app_url}/oauth/callback/{name}"])
            info[name] = started.dev_info()
        return info

    def _point_functions_at(self, app_url: str, simulators: dict[str, Any], env: dict[str, str]) -> None:
        """The functions' view of this stack: the pages' URL, the simulators as the providers, and
        orgconnect's OAuth app at each simulator in the provider-apps secret (as an operator would
        put the real apps there after deploying)."""
        assert self.aws is not None
        overrides = {name: info["base_url"] for name, info in simulators.items()}
        apps = {
            name: {"client_id": info["oauth_client_id"], "client_secret": info["oauth_client_secret"]}
            for name, info in simulators.items()
        }
        if "zoom" in simulators:
            # Zoom signs its events with the app's secret token and sends them to our endpoint.
            apps["zoom"]["webhook_secret_token"] = simulators["zoom"]["webhook_secret_token"]
            self.simulators["zoom"].simulator.configure_webhooks(f"{app_url}/webhooks/zoom")
        self.aws.client("secretsmanager").put_secret_value(
            SecretId=env["ORGCONNECT_PROVIDER_APPS_SECRET_ID"], SecretString=json.dumps(apps)
        )
        os.environ["ORGCONNECT_APP_URL"] = app_url
        os.environ["ORGCONNECT_PROVIDER_URL_OVERRIDES"] = json.dumps(overrides)
        from orgconnect import runtime

        runtime.reset()

    def _wait_until_ready(self, timeout: float = 30) -> None:
        """Return once every service answers HTTP (dev.json is written only then)."""
        urls = [
            f"{self.info['api_url']}/_dev/health",
            f"{self.info['integrator_url']}/health",
            f"{self.info['aws_endpoint_url']}/moto-api/",
        ]
        urls += [s["base_url"] + "/_sim/requests" for s in self.info["simulators"].values()]
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2) as http:
            for url in urls:
                while True:
                    try:
                        if http.get(url).status_code < 500:
                            break
                    except httpx.HTTPError:
                        pass
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{url} did not answer within {timeout} s")
                    time.sleep(0.05)

    def stop(self) -> None:
        """Stop every server (concurrently: each waits up to one poll interval); remove dev.json."""
        for poller in self.event_sources:  # first: they call the functions and the emulator
            poller.stop()
        self.event_sources = []
        if self.schedules is not None:
            self.schedules.stop()
            self.schedules = None
        stops: list[Callable[[], None]] = [server.stop for server in self.servers]
        if self.simulators:
            from devstack.simulators import stop_simulators

            started = self.simulators
            stops.append(lambda: stop_simulators(started))
        if self.aws is not None:
            stops.append(self.aws.stop)
        threads = [threading.Thread(target=stop, name="stop") for stop in stops]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=15)
        self.servers, self.simulators, self.aws = [], {}, None
        if self.info and self.dev_file.exists():
            self.dev_file.unlink()


def _health() -> Any:
    from werkzeug.wrappers import Response

    return Response(json.dumps({"ok": True}), content_type="application/json")


def seed_demo(
    *,
    table_name: str,
    pepper_secret_id: str,
    endpoint_url: str,
    dynamodb_endpoint_url: str,
    redirect_uri: str,
    demo: DemoDirectory,
) -> dict[str, str]:
    """The demo client (redirecting to the demo integrator) and its Google Workspace service account."""
    import boto3

    from orgconnect.domain.clients import register_client
    from orgconnect.domain.model import CalendarProvider, ConferencingCategory
    from orgconnect.domain.secrets import SecretHasher
    from orgconnect.domain.service_accounts import register_service_account
    from orgconnect.store.clients import DynamoClients
    from orgconnect.store.dynamodb import DynamoStore
    from orgconnect.store.service_accounts import DynamoServiceAccounts
    from orgconnect.store.vault import load_pepper

    now = int(time.time())
    store = DynamoStore(
        table_name, boto3.client("dynamodb", endpoint_url=dynamodb_endpoint_url), clock=lambda: now
    )
    hasher = SecretHasher(
        load_pepper(pepper_secret_id, client=boto3.client("secretsmanager", endpoint_url=endpoint_url))
    )
    created = register_client(
        name="Demo integrator",
        redirect_uris=[redirect_uri],
        categories=[ConferencingCategory.GENERAL, ConferencingCategory.RECRUITING],
        store=DynamoClients(store),
        hasher=hasher,
        now=now,
    )
    account = register_service_account(
        client_id=created.client.client_id,
        provider=CalendarProvider.GOOGLE_WORKSPACE,
        domain=PRIMARY_DOMAIN,
        admin_email=demo.admin.email,
        clients=DynamoClients(store),
        store=DynamoServiceAccounts(store),
        now=now,
    )
    return {
        "client_id": created.client.client_id,
        "client_secret": created.client_secret,
        "redirect_uri": redirect_uri,
        "service_account_id": account.service_account_id,
    }
