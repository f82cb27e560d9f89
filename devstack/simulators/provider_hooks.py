"""The interface a provider simulator implements: its state, its user shape, its error shapes.

``Simulator`` (in ``simulator.py``) is the machinery; it calls these hooks. A provider module
subclasses ``Simulator``, sets ``name`` and implements the abstract hooks; the others have
sensible defaults (RFC 6749 error bodies, a generic JSON error, a 429 with ``Retry-After: 1``).
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from werkzeug.wrappers import Request, Response

from devstack.simulators.http_helpers import ControlError, json_response
from devstack.simulators.token_endpoint import Refusal


class ProviderHooks(ABC):
    """What a provider writes; every hook runs under the simulator's lock unless it says not."""

    #: The provider name, e.g. ``"zoom"`` (also the registry key and dev.json key).
    name: ClassVar[str] = "simulator"
    #: The seed every derived id and secret depends on (set by ``Simulator``).
    seed: int

    @abstractmethod
    def seed_state(self, params: Mapping[str, Any]) -> None:
        """(Re)build the provider's in-memory directory from ``self.demo`` and ``params``."""

    @abstractmethod
    def control_list_users(self) -> list[dict[str, Any]]:
        """Every user, in the provider's shape (``GET /_sim/users``)."""

    @abstractmethod
    def control_add_user(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Add a user described by ``body`` (at least ``email``) and return it."""

    @abstractmethod
    def control_remove_user(self, email: str) -> None:
        """Remove the user with ``email`` (``ControlError(404)`` when unknown)."""

    @abstractmethod
    def control_update_user(self, email: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Change the user with ``email`` (``{"email": new}`` renames, ``{"status": ...}``)."""

    @abstractmethod
    def dev_info(self, base_url: str) -> dict[str, Any]:
        """The ``simulators.<name>`` block of ``.orgconnect/dev.json`` for ``base_url``."""

    def error_response(self, status: int, message: str, request: Request) -> Response:
        """The provider's error body for an injected HTTP fault or an unknown path."""
        return json_response({"error": {"code": status, "message": message}}, status)

    def oauth_error_response(self, error: str, description: str, status: int = 400) -> Response:
        """The provider's token-endpoint error (RFC 6749 section 5.2 by default)."""
        return json_response(
            {"error": error, "error_description": description},
            status,
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    def token_refusal_response(self, refusal: Refusal) -> Response:
        """A refused token request (``token_endpoint``) in the provider's token-error shape."""
        return self.oauth_error_response(refusal.error, refusal.description, refusal.status)

    def rate_limited_response(self, request: Request, target: str) -> Response:
        """The provider's 429 for an injected ``429`` fault."""
        return json_response(
            {"error": {"code": 429, "message": "Too many requests"}}, 429, headers={"Retry-After": "1"}
        )

    def send_webhook_event(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Build and deliver one webhook event now (``POST /_sim/webhooks/send``).

        Called without the lock held. Providers with webhooks override this.
        """
        raise ControlError(404, f"the {self.name} simulator sends no webhooks")

    def validate_seed_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Check provider seed params before a reseed touches state (``ControlError(400)``)."""
        return dict(params)

    def apply_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Change provider switches at run time; returns the switches now in force."""
        if options:
            raise ControlError(400, f"unknown options for {self.name}: {sorted(options)}")
        return {}

    def initial_redirect_uri(self) -> str:
        """The default app's redirect URI until the dev stack registers the real one."""
        return f"http://127.0.0.1:8000/oauth/callback/{self.name}"

    def derived_id(self, purpose: str, length: int = 22) -> str:
        """An id that depends only on (provider, seed, purpose): stable across runs."""
        rng = random.Random(f"{self.name}:{self.seed}:{purpose}")
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return "".join(rng.choice(alphabet) for _ in range(length))

    def derived_secret(self, purpose: str) -> str:
        """A demo secret that depends only on (provider, seed, purpose) (dev credentials)."""
        return self.derived_id(purpose, 32)
