"""The machinery every provider simulator shares: routing, locking, faults, log, apps, webhooks.

A simulator is a plain WSGI application (werkzeug) serving the provider's real paths under one
base URL, with all state in memory, deterministic for a given seed. A provider subclasses
``Simulator``, implements ``ProviderHooks`` and adds its routes with ``add_route``. A handler may
raise ``SimResponse`` (answer now), ``ControlError`` (``{"error"}`` with a status) or
``TokenRequestRefused`` (answered by the ``token_refusal_response`` hook).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from devstack.simulators.clock import SimClock
from devstack.simulators.control_api import ControlApi
from devstack.simulators.demo import DemoDirectory, build_demo_directory
from devstack.simulators.faults import Fault, FaultBoard
from devstack.simulators.http_helpers import ControlError, SimResponse, json_response
from devstack.simulators.oauth_state import CodeStore, OAuthApp, TokenStore
from devstack.simulators.provider_hooks import ProviderHooks
from devstack.simulators.request_log import RequestLog
from devstack.simulators.token_endpoint import TokenRequestRefused
from devstack.simulators.webhooks import PendingWebhook, WebhookConfig, post_webhook

Handler = Callable[..., Response]
#: ``(rule, handler, method, target)``: one provider route (see ``Simulator.add_route``).
RouteSpec = tuple[str, Handler, str, str]


@dataclass(frozen=True)
class Route:
    """What a URL rule points at: the handler, its fault target, and whether it takes the lock."""

    handler: Handler
    target: str
    locked: bool = True


class Simulator(ProviderHooks):
    """A provider simulator: a WSGI app with provider routes plus the ``/_sim/`` control API.

    In ``__init__`` a provider sets what its ``seed_state`` needs, calls ``super().__init__``, then
    adds routes with ``add_route(rule, handler, methods=[...], target=...)``; ``target`` names the
    route for fault injection. ``clock`` returns epoch seconds (``time.time`` by default; wrapped
    in a ``SimClock`` the control API advances); ``redirect_uris`` are the default app's;
    ``seed_params`` go to ``seed_state`` and are kept for ``reset``. Handlers registered with
    ``locked=True`` (the default) run under ``self.lock``; webhooks they queue go out after the
    lock is released, before the response is sent.
    """

    def __init__(
        self,
        demo: DemoDirectory | None = None,
        *,
        seed: int = 7,
        clock: Callable[[], float] | None = None,
        redirect_uris: Sequence[str] | None = None,
        timeout_delay_seconds: float = 5.0,
        webhook_timeout_seconds: float = 3.0,
        request_log_size: int = 10_000,
        seed_params: Mapping[str, Any] | None = None,
    ) -> None:
        self.demo = demo if demo is not None else build_demo_directory(seed=seed)
        self.seed = seed
        self.seed_params: dict[str, Any] = dict(seed_params or {})
        self.rng = random.Random(seed)
        self.clock = SimClock(clock)
        self.lock = threading.RLock()
        self.timeout_delay_seconds = timeout_delay_seconds
        self.webhook_timeout_seconds = webhook_timeout_seconds
        self.apps: dict[str, OAuthApp] = {}
        self.codes = CodeStore(self.clock)
        self.tokens = TokenStore(self.clock)
        self.webhooks = WebhookConfig(url=None, secret_token=self.derived_secret("webhook-secret"))
        self.url_map = Map(strict_slashes=False, merge_slashes=False)
        self.fault_board = FaultBoard(self.lock, timeout_delay_seconds)
        self.request_log = RequestLog(self.lock, request_log_size)
        self._local = threading.local()
        for rule, handler, methods, locked in ControlApi(self).routes():
            self.add_route(rule, handler, methods=methods, target="control", locked=locked)
        self.default_app = self.register_app(
            self.derived_id("oauth-client-id"),
            self.derived_secret("oauth-client-secret"),
            list(redirect_uris) if redirect_uris is not None else [self.initial_redirect_uri()],
            name="orgconnect",
        )
        with self.transaction():
            self.seed_state(dict(self.seed_params))

    # ----- routing and dispatch -------------------------------------------------------------

    def add_route(
        self,
        rule: str,
        handler: Handler,
        *,
        methods: Sequence[str],
        target: str,
        locked: bool = True,
    ) -> None:
        """Serve ``rule`` (werkzeug syntax) with ``handler(request, **values) -> Response``."""
        self.url_map.add(Rule(rule, endpoint=Route(handler, target, locked), methods=list(methods)))

    def add_routes(self, table: Iterable[RouteSpec]) -> None:
        """``add_route`` for each ``(rule, handler, method, target)`` of ``table``."""
        for rule, handler, method, target in table:
            self.add_route(rule, handler, methods=[method], target=target)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """WSGI entry point."""
        request = Request(environ)
        response = self.handle(request)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        """Route, apply faults, run the handler, log the call, then deliver queued webhooks."""
        adapter = self.url_map.bind_to_environ(request.environ)
        route: Route | None = None
        fault: Fault | None = None
        try:
            endpoint, values = adapter.match()
            route = endpoint
            assert isinstance(route, Route)
            if route.target != "control":
                fault = self.fault_board.take(route.target, request.path)
            if fault is not None:
                response = self.fault_board.answer(fault, request, route.target, self)
            elif route.locked:
                with self.transaction():
                    response = self._run(route, request, values)
            else:
                response = self._run(route, request, values)
        except NotFound:
            response = self.error_response(404, "Not Found", request)
        except MethodNotAllowed:
            response = self.error_response(405, "Method Not Allowed", request)
        except HTTPException as exc:  # werkzeug's own refusals (e.g. body too large)
            response = self.error_response(exc.code or 400, exc.description or "Bad Request", request)
        target = route.target if route else "unknown"
        if target != "control":  # control calls are the test talking to itself: not logged
            self.request_log.add_call(request, response, target, fault, self.clock.now())
        return response

    def _run(self, route: Route, request: Request, values: Mapping[str, Any]) -> Response:
        try:
            return route.handler(request, **values)
        except SimResponse as answer:
            return answer.response
        except TokenRequestRefused as refused:
            return self.token_refusal_response(refused.refusal)
        except ControlError as exc:
            return json_response({"error": exc.message}, exc.status)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock; webhooks queued inside go out once the outermost block is left.

        Deliveries happen after the lock is released, so a webhook receiver may call back into
        the simulator. Nothing queued by a block that raised is delivered.
        """
        outer = False
        try:
            with self.lock:
                depth: int = getattr(self._local, "depth", 0)
                outer = depth == 0
                if outer:
                    self._local.outbox = []
                self._local.depth = depth + 1
                try:
                    yield
                finally:
                    self._local.depth = depth
            pending: list[PendingWebhook] = self._local.outbox if outer else []
        finally:
            if outer:
                self._local.outbox = None
        for item in pending:
            self.deliver_webhook(item.event, item.url, item.body, item.headers)

    # ----- request log and faults (state in ``request_log`` and ``fault_board``) -------------

    def log_event(self, entry: dict[str, Any]) -> None:
        """Append ``entry`` (already free of secret values) to the request log."""
        self.request_log.add(entry)

    def requests(self) -> list[dict[str, Any]]:
        """A copy of the request log, oldest first."""
        return self.request_log.entries()

    def clear_requests(self) -> None:
        """Empty the request log."""
        self.request_log.clear()

    def add_fault(
        self,
        target: str,
        kind: str,
        count: int = 1,
        *,
        delay_seconds: float | None = None,
        path_prefix: str | None = None,
        body: str | None = None,
        content_type: str | None = None,
    ) -> Fault:
        """Make the next ``count`` calls to routes of ``target`` answer with ``kind``."""
        return self.fault_board.add(
            target,
            str(kind),
            count,
            delay_seconds=delay_seconds,
            path_prefix=path_prefix,
            body=body,
            content_type=content_type,
        )

    def faults(self) -> list[dict[str, Any]]:
        """Faults still armed."""
        return self.fault_board.public()

    def clear_faults(self) -> None:
        """Disarm every fault and let go of requests held by ``timeout`` faults."""
        self.fault_board.clear()
        self.fault_board.release_held()

    def release_held_requests(self) -> None:
        """Answer every request currently held by a ``timeout`` fault now (used on stop)."""
        self.fault_board.release_held()

    # ----- OAuth apps ------------------------------------------------------------------------

    def register_app(
        self,
        client_id: str,
        client_secret: str,
        redirect_uris: Sequence[str],
        *,
        name: str = "OAuth app",
        kind: str = "oauth",
        scopes: Sequence[str] = (),
        meta: Mapping[str, Any] | None = None,
    ) -> OAuthApp:
        """Register (or replace) an OAuth app; redirect URIs are matched exactly."""
        if not client_id or not client_secret:
            raise ControlError(400, "client_id and client_secret are required")
        app = OAuthApp(
            client_id=client_id,
            client_secret=client_secret,
            redirect_uris=list(redirect_uris),
            name=name,
            kind=kind,
            scopes=list(scopes),
            meta=dict(meta or {}),
        )
        with self.lock:
            self.apps[client_id] = app
        return app

    def set_redirect_uris(self, client_id: str, redirect_uris: Sequence[str]) -> OAuthApp:
        """Replace the redirect URIs of a registered app (the dev stack learns its port late)."""
        with self.lock:
            app = self.apps.get(client_id)
            if app is None:
                raise ControlError(404, f"no app with client_id {client_id!r}")
            app.redirect_uris = list(redirect_uris)
            return app

    # ----- webhooks ---------------------------------------------------------------------------

    def configure_webhooks(self, url: str | None, secret_token: str | None = None) -> WebhookConfig:
        """Set where webhooks go (None stops them) and, optionally, the signing secret."""
        with self.lock:
            self.webhooks.url = url
            if secret_token is not None:
                self.webhooks.secret_token = secret_token
            return self.webhooks

    def queue_webhook(self, event: str, body: bytes, headers: Mapping[str, str]) -> None:
        """Deliver ``body`` to the configured URL once the current transaction ends.

        Outside a transaction the delivery happens at once. Does nothing when no URL is set.
        """
        url = self.webhooks.url
        if url is None:
            return
        item = PendingWebhook(event, url, body, dict(headers))
        outbox: list[PendingWebhook] | None = getattr(self._local, "outbox", None)
        if outbox is None:
            self.deliver_webhook(item.event, item.url, item.body, item.headers)
        else:
            outbox.append(item)

    def deliver_webhook(
        self, event: str, url: str, body: bytes, headers: Mapping[str, str]
    ) -> dict[str, Any]:
        """POST ``body`` to ``url`` synchronously and record the outcome in the request log.

        Returns ``{"event", "url", "status", "error", "response_json"}``; never raises.
        """
        status, error, response_json = post_webhook(url, body, headers, self.webhook_timeout_seconds)
        self.log_event(
            {
                "kind": "webhook",
                "time": self.clock.now(),
                "method": "POST",
                "path": urlsplit(url).path,
                "target": "webhook",
                "event": event,
                "url": url,
                "status": status,
                "error": error,
            }
        )
        return {"event": event, "url": url, "status": status, "error": error, "response_json": response_json}

    # ----- state lifecycle ----------------------------------------------------------------

    def reset(self) -> None:
        """Back to the seeded state: users re-seeded, codes, tokens, faults and log cleared.

        Registered apps, the webhook configuration and the clock are kept (they are
        configuration and time, not directory state).
        """
        with self.transaction():
            self.rng = random.Random(self.seed)
            self.codes.clear()
            self.tokens.clear()
            self.fault_board.clear()
            self.request_log.clear()
            self.seed_state(dict(self.seed_params))
        self.release_held_requests()

    def reseed(self, seed: int | None = None, **params: Any) -> None:
        """Reseed: ``seed``, ``primary_users``, ``secondary_users`` rebuild the demo directory;
        other params are the provider's and are remembered for later resets."""
        demo_keys = {"primary_users", "secondary_users"}
        demo_params = {k: int(params.pop(k)) for k in list(params) if k in demo_keys}
        self.validate_seed_params({**self.seed_params, **params})  # refuse before changing anything
        with self.transaction():
            if seed is not None or demo_params:
                self.seed = self.seed if seed is None else int(seed)
                self.demo = build_demo_directory(seed=self.seed, **demo_params)
            self.seed_params = self.validate_seed_params({**self.seed_params, **params})
            self.reset()

    def advance_clock(self, seconds: float) -> float:
        """Move the simulator's clock forward; returns the new time."""
        with self.lock:
            return self.clock.advance(seconds)

    # ----- user control (wrappers that take the lock around the provider hooks) ----------

    def list_users(self) -> list[dict[str, Any]]:
        """Every user in the provider's shape."""
        with self.transaction():
            return self.control_list_users()

    def add_user(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Add a user (see ``control_add_user``)."""
        with self.transaction():
            return self.control_add_user(body)

    def remove_user(self, email: str) -> None:
        """Remove a user (see ``control_remove_user``)."""
        with self.transaction():
            self.control_remove_user(email)

    def update_user(self, email: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Change a user (see ``control_update_user``)."""
        with self.transaction():
            return self.control_update_user(email, body)

    def base_dev_info(self, base_url: str) -> dict[str, Any]:
        """The keys every simulator's dev_info has."""
        return {
            "base_url": base_url.rstrip("/"),
            "oauth_client_id": self.default_app.client_id,
            "oauth_client_secret": self.default_app.client_secret,
            "oauth_redirect_uris": list(self.default_app.redirect_uris),
            "control_url": f"{base_url.rstrip('/')}/_sim",
            "seed": self.seed,
        }
