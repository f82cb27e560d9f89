"""Microsoft Graph change notifications for ``users``: ``POST /v1.0/subscriptions`` (with the
validation handshake to the notificationUrl, as Graph does), ``PATCH`` / ``DELETE
/v1.0/subscriptions/{id}``, and a notification to every live subscription when a user changes
through the control API (``PATCH`` / ``DELETE /_sim/users/{email}``).

Graph's rules modelled here (learn.microsoft.com/graph/change-notifications-delivery-webhooks):
the handshake POSTs ``{notificationUrl}?validationToken=…`` (text/plain) and needs a 200 whose
body is the token within 10 seconds, else the create is 400; ``users`` subscriptions last at
most 41,760 minutes; each notification carries the subscription's ``clientState``. The
simulator accepts ``http://127.0.0.1`` notification URLs (Graph requires https).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
from werkzeug.wrappers import Request, Response

from devstack.simulators.common import ControlError, SimResponse, json_response, read_json
from devstack.simulators.microsoft_model import READ_USERS_APP, READ_USERS_DELEGATED, random_guid
from devstack.simulators.webhooks import PendingWebhook

if TYPE_CHECKING:
    from devstack.simulators.microsoft import MicrosoftSimulator
    from devstack.simulators.microsoft_graph import GraphUser

MAX_USERS_MINUTES = 41760
HANDSHAKE_TIMEOUT_SECONDS = 10.0
CHANGE_TYPES = frozenset({"created", "updated", "deleted"})


@dataclass
class GraphSubscription:
    """One subscription, as Graph keeps it."""

    id: str
    application_id: str
    resource: str
    change_type: str
    notification_url: str
    client_state: str | None
    expires_at: float

    def to_graph(self, base: str) -> dict[str, Any]:
        return {
            "@odata.context": f"{base}/v1.0/$metadata#subscriptions/$entity",
            "id": self.id,
            "resource": self.resource,
            "applicationId": self.application_id,
            "changeType": self.change_type,
            "clientState": self.client_state,
            "notificationUrl": self.notification_url,
            "expirationDateTime": _graph_time(self.expires_at),
            "latestSupportedTlsVersion": "v1_2",
        }


def _graph_time(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def _parse_time(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    text = value.replace("Z", "+00:00")
    text = re.sub(r"\.[0-9]+", "", text, count=1)  # Graph sends 7 fractional digits; Python reads 6
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


class MicrosoftSubscriptions:
    """The ``/v1.0/subscriptions`` handlers and the notifications of user changes."""

    def __init__(self, sim: MicrosoftSimulator) -> None:
        self.sim = sim
        self.items: dict[str, GraphSubscription] = {}

    def register(self) -> None:
        """Serve the routes; create runs outside the lock (the handshake calls orgconnect)."""
        self.sim.add_route("/v1.0/subscriptions", self._create, methods=["POST"], target="api", locked=False)
        self.sim.add_route("/v1.0/subscriptions/<sub_id>", self._update, methods=["PATCH"], target="api")
        self.sim.add_route("/v1.0/subscriptions/<sub_id>", self._delete, methods=["DELETE"], target="api")

    def _bad(self, request: Request, message: str, code: str = "InvalidRequest") -> SimResponse:
        return SimResponse(self.sim.graph_error(request, 400, code, message))

    def _expiry(self, request: Request, value: Any) -> float:
        expires = _parse_time(value)
        now = self.sim.clock.now()
        if expires is None:
            raise self._bad(request, "expirationDateTime is not a valid date-time.")
        if expires <= now:
            raise self._bad(request, "Subscription expiration date-time cannot be in the past.")
        if expires > now + MAX_USERS_MINUTES * 60:
            raise self._bad(
                request, f"Subscription expiration can only be {MAX_USERS_MINUTES} minutes in the future."
            )
        return expires

    def _authorized(self, request: Request) -> str:
        """The calling app's id, once its token may read users (Graph's rule for ``users``)."""
        caller = self.sim.graph._caller(request)
        self.sim.graph._require(request, caller, READ_USERS_DELEGATED, READ_USERS_APP)
        return str(caller.token.client_id)

    def _create(self, request: Request) -> Response:
        try:
            body = read_json(request, required=True)
        except ControlError as error:
            raise self._bad(request, error.message) from None
        with self.sim.transaction():
            app_id = self._authorized(request)
            resource = str(body.get("resource", "")).strip("/")
            if resource.lower() != "users":
                raise self._bad(request, f"Resource '{resource}' is not supported by this simulator.")
            change_type = str(body.get("changeType", ""))
            if not change_type or not set(change_type.split(",")) <= CHANGE_TYPES:
                raise self._bad(request, "changeType must be created, updated or deleted (comma-separated).")
            url = str(body.get("notificationUrl", ""))
            if not url.startswith(("https://", "http://127.0.0.1")):
                raise self._bad(request, "The notificationUrl must use https.")
            state = body.get("clientState")
            if state is not None and (not isinstance(state, str) or len(state) > 128):
                raise self._bad(request, "clientState must be a string of at most 128 characters.")
            expires = self._expiry(request, body.get("expirationDateTime"))
        if not self._handshake(url):
            raise self._bad(
                request,
                "Subscription validation request failed. Notification endpoint must respond with "
                "200 OK to validation request.",
            )
        with self.sim.transaction():
            subscription = GraphSubscription(
                random_guid(self.sim.rng), app_id, "users", change_type, url, state, expires
            )
            self.items[subscription.id] = subscription
            return json_response(subscription.to_graph(request.host_url.rstrip("/")), 201)

    def _handshake(self, url: str) -> bool:
        """Graph's validation request: 200 with the token as the body, within 10 seconds."""
        token = "Validation: Testing client application " + secrets.token_urlsafe(16)
        separator = "&" if "?" in url else "?"
        try:
            reply = httpx.post(
                f"{url}{separator}validationToken={quote(token)}",
                content=b"",
                headers={"Content-Type": "text/plain; charset=utf-8"},
                timeout=HANDSHAKE_TIMEOUT_SECONDS,
            )
        except httpx.HTTPError:
            return False
        self.sim.log_event(
            {
                "kind": "webhook",
                "time": self.sim.clock.now(),
                "method": "POST",
                "path": httpx.URL(url).path,
                "target": "webhook",
                "event": "validation",
                "url": url,
                "status": reply.status_code,
                "error": None,
            }
        )
        return reply.status_code == 200 and reply.text == token

    def _owned(self, request: Request, sub_id: str) -> GraphSubscription:
        app_id = self._authorized(request)
        found = self.items.get(sub_id)
        if found is None or found.application_id != app_id or found.expires_at <= self.sim.clock.now():
            raise SimResponse(
                self.sim.graph_error(request, 404, "ResourceNotFound", "The object was not found.")
            )
        return found

    def _update(self, request: Request, sub_id: str) -> Response:
        subscription = self._owned(request, sub_id)
        try:
            body = read_json(request, required=True)
        except ControlError as error:
            raise self._bad(request, error.message) from None
        subscription.expires_at = self._expiry(request, body.get("expirationDateTime"))
        return json_response(subscription.to_graph(request.host_url.rstrip("/")))

    def _delete(self, request: Request, sub_id: str) -> Response:
        subscription = self._owned(request, sub_id)
        del self.items[subscription.id]
        return Response(status=204)

    # ----- notifications (called under the lock by the control API) --------------------------

    def user_changed(self, user: GraphUser, change_type: str) -> None:
        """Queue one notification per live subscription that asked for ``change_type``; they are
        delivered once the lock is released (one POST each, ``value`` of one entry)."""
        now = self.sim.clock.now()
        for subscription in list(self.items.values()):
            if subscription.expires_at <= now or change_type not in subscription.change_type.split(","):
                continue
            entry: dict[str, Any] = {
                "subscriptionId": subscription.id,
                "subscriptionExpirationDateTime": _graph_time(subscription.expires_at),
                "changeType": change_type,
                "resource": f"Users/{user.id}",
                "resourceData": {
                    "@odata.type": "#Microsoft.Graph.User",
                    "@odata.id": f"Users/{user.id}",
                    "id": user.id,
                    "organizationId": self.sim.tenant_id,
                },
                "tenantId": self.sim.tenant_id,
            }
            if subscription.client_state is not None:
                entry["clientState"] = subscription.client_state
            body = json.dumps({"value": [entry]}).encode()
            self.queue(f"users.{change_type}", subscription.notification_url, body)

    def queue(self, event: str, url: str, body: bytes) -> None:
        """Deliver after the current transaction (at once outside one), logged as a webhook."""
        headers = {"Content-Type": "application/json"}
        outbox: list[PendingWebhook] | None = getattr(self.sim._local, "outbox", None)
        if outbox is None:
            self.sim.deliver_webhook(event, url, body, headers)
        else:
            outbox.append(PendingWebhook(event, url, body, headers))
