"""The ``/_sim/`` control API (JSON) that tests and the dev stack drive every simulator with.

====================================  =========================================================
``GET  /_sim/info``                   ``dev_info`` for the URL the request came in on
``POST /_sim/reset``                  back to the seeded state (apps, webhooks and clock kept)
``POST /_sim/seed``                   reseed: ``{"seed", "primary_users", "secondary_users",
                                      ...provider params}``
``GET|POST /_sim/users``              list / add a user (provider shape)
``PATCH|DELETE /_sim/users/{email}``  rename (``{"email": new}``), change status, remove
``GET|POST|DELETE /_sim/faults``      list / add / clear injected faults (see ``faults``)
``GET|DELETE /_sim/requests``         the request log (secrets redacted) / clear it
``GET|POST /_sim/clock``              read the clock / ``{"advance_seconds": S}``
``GET|POST /_sim/apps``               list apps (no secrets) / register an OAuth app
``PATCH /_sim/apps/{client_id}``      ``{"redirect_uris": [...]}``
``GET|POST /_sim/webhooks/config``    read (no secret) / set ``{"url", "secret_token"}``
``POST /_sim/webhooks/send``          deliver an event now: ``{"event": ..., ...}``
``PATCH /_sim/options``               change provider switches at run time
====================================  =========================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from devstack.simulators.http_helpers import ControlError, json_response, read_json

if TYPE_CHECKING:
    from devstack.simulators.common import Simulator

ControlRoute = tuple[str, Callable[..., Response], list[str], bool]


def _optional_text(body: dict[str, Any], key: str) -> str | None:
    """``body[key]`` when it is a string, None when absent; a 400 for any other type."""
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise ControlError(400, f"{key} must be a string")
    return value


def _string_list(value: Any) -> list[str]:
    """``value`` as a list of strings (redirect URIs); a 400 otherwise."""
    if not isinstance(value, list) or not all(isinstance(u, str) for u in value):
        raise ControlError(400, "redirect_uris must be a list of strings")
    return value


class ControlApi:
    """The handlers of ``/_sim/``; each one is a thin JSON layer over a ``Simulator`` method."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def routes(self) -> list[ControlRoute]:
        """``(rule, handler, methods, takes_lock)`` of every control route."""
        return [
            ("/_sim/info", self._info, ["GET"], True),
            ("/_sim/reset", self._reset, ["POST"], False),
            ("/_sim/seed", self._seed, ["POST"], False),
            ("/_sim/users", self._users_list, ["GET"], False),
            ("/_sim/users", self._users_add, ["POST"], False),
            ("/_sim/users/<path:email>", self._user_remove, ["DELETE"], False),
            ("/_sim/users/<path:email>", self._user_update, ["PATCH"], False),
            ("/_sim/faults", self._faults_list, ["GET"], True),
            ("/_sim/faults", self._faults_add, ["POST"], True),
            ("/_sim/faults", self._faults_clear, ["DELETE"], False),
            ("/_sim/requests", self._requests, ["GET"], True),
            ("/_sim/requests", self._requests_clear, ["DELETE"], True),
            ("/_sim/clock", self._clock_get, ["GET"], True),
            ("/_sim/clock", self._clock_advance, ["POST"], True),
            ("/_sim/apps", self._apps_list, ["GET"], True),
            ("/_sim/apps", self._apps_register, ["POST"], True),
            ("/_sim/apps/<client_id>", self._apps_update, ["PATCH"], True),
            ("/_sim/webhooks/config", self._webhooks_get, ["GET"], True),
            ("/_sim/webhooks/config", self._webhooks_set, ["POST"], True),
            ("/_sim/webhooks/send", self._webhooks_send, ["POST"], False),
            ("/_sim/options", self._options, ["PATCH"], True),
        ]

    def _info(self, request: Request) -> Response:
        return json_response(self.sim.dev_info(request.host_url.rstrip("/")))

    def _reset(self, request: Request) -> Response:
        self.sim.reset()
        return json_response({"status": "reset"})

    def _seed(self, request: Request) -> Response:
        body = read_json(request)
        seed = body.pop("seed", None)
        try:
            self.sim.reseed(None if seed is None else int(seed), **body)
        except (TypeError, ValueError) as exc:
            raise ControlError(400, f"bad seed parameters: {exc}") from exc
        return json_response({"status": "seeded", "seed": self.sim.seed, "params": self.sim.seed_params})

    def _users_list(self, request: Request) -> Response:
        return json_response({"users": self.sim.list_users()})

    def _users_add(self, request: Request) -> Response:
        return json_response({"user": self.sim.add_user(read_json(request, required=True))}, 201)

    def _user_remove(self, request: Request, email: str) -> Response:
        self.sim.remove_user(email)
        return json_response(None, 204)

    def _user_update(self, request: Request, email: str) -> Response:
        return json_response({"user": self.sim.update_user(email, read_json(request, required=True))})

    def _faults_list(self, request: Request) -> Response:
        return json_response({"faults": self.sim.faults()})

    def _faults_add(self, request: Request) -> Response:
        body = read_json(request, required=True)
        try:
            delay = body.get("delay_seconds")
            fault = self.sim.add_fault(
                str(body.get("target", "*")),
                str(body.get("kind", "")),
                int(body.get("count", 1)),
                delay_seconds=None if delay is None else float(delay),
                path_prefix=body.get("path_prefix"),
                body=_optional_text(body, "body"),
                content_type=_optional_text(body, "content_type"),
            )
        except (TypeError, ValueError) as exc:
            raise ControlError(400, f"bad fault: {exc}") from exc
        return json_response({"fault": fault.public()}, 201)

    def _faults_clear(self, request: Request) -> Response:
        self.sim.clear_faults()
        return json_response(None, 204)

    def _requests(self, request: Request) -> Response:
        return json_response({"requests": self.sim.requests()})

    def _requests_clear(self, request: Request) -> Response:
        self.sim.clear_requests()
        return json_response(None, 204)

    def _clock_get(self, request: Request) -> Response:
        return json_response({"now": self.sim.clock.now()})

    def _clock_advance(self, request: Request) -> Response:
        body = read_json(request, required=True)
        try:
            now = self.sim.advance_clock(float(body.get("advance_seconds", 0)))
        except (TypeError, ValueError) as exc:
            raise ControlError(400, f"bad advance_seconds: {exc}") from exc
        return json_response({"now": now})

    def _apps_list(self, request: Request) -> Response:
        return json_response({"apps": [app.public() for app in self.sim.apps.values()]})

    def _apps_register(self, request: Request) -> Response:
        body = read_json(request, required=True)
        app = self.sim.register_app(
            str(body.get("client_id", "")),
            str(body.get("client_secret", "")),
            _string_list(body.get("redirect_uris", [])),
            name=str(body.get("name", "OAuth app")),
            kind=str(body.get("kind", "oauth")),
            scopes=[str(s) for s in body.get("scopes", [])],
            meta=body.get("meta") or {},
        )
        return json_response({"app": app.public()}, 201)

    def _apps_update(self, request: Request, client_id: str) -> Response:
        uris = _string_list(read_json(request, required=True).get("redirect_uris"))
        return json_response({"app": self.sim.set_redirect_uris(client_id, uris).public()})

    def _webhooks_get(self, request: Request) -> Response:
        webhooks = self.sim.webhooks
        return json_response({"url": webhooks.url, "secret_token_set": bool(webhooks.secret_token)})

    def _webhooks_set(self, request: Request) -> Response:
        body = read_json(request, required=True)
        url = body.get("url")
        secret = body.get("secret_token")
        if url is not None and not isinstance(url, str):
            raise ControlError(400, "url must be a string or null")
        if secret is not None and (not isinstance(secret, str) or not secret):
            raise ControlError(400, "secret_token must be a non-empty string")
        self.sim.configure_webhooks(url, secret)
        return json_response({"url": self.sim.webhooks.url, "secret_token_set": True})

    def _webhooks_send(self, request: Request) -> Response:
        body = read_json(request, required=True)
        if not isinstance(body.get("event"), str):
            raise ControlError(400, "event is required")
        if self.sim.webhooks.url is None:
            raise ControlError(409, "no webhook URL configured (POST /_sim/webhooks/config first)")
        return json_response(self.sim.send_webhook_event(body))

    def _options(self, request: Request) -> Response:
        return json_response({"options": self.sim.apply_options(read_json(request, required=True))})
