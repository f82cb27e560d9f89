"""Admin SDK Directory push notifications for users: ``POST /admin/directory/v1/users/watch``
(a ``web_hook`` channel), ``POST /admin/directory_v1/channels/stop``, and the notifications
Google sends: ``sync`` when a channel is created, then one per user change made through the
control API (``PATCH`` -> ``update``, ``DELETE`` -> ``delete``).

Each notification is a POST to the channel's address with ``X-Goog-Channel-ID``,
``X-Goog-Channel-Token`` (when the channel has one), ``X-Goog-Channel-Expiration``,
``X-Goog-Resource-ID``, ``X-Goog-Resource-URI``, ``X-Goog-Resource-State`` and
``X-Goog-Message-Number``; the body of a change is the user resource's short form (``kind``,
``id``, ``etag``, ``primaryEmail``). A channel lives ``params.ttl`` seconds (default and cap
here: 6 hours, Google's documented default for Admin SDK channels is not pinned down).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from devstack.simulators.common import ControlError, json_response, read_json
from devstack.simulators.google_model import DIRECTORY_USER, DIRECTORY_USER_READONLY
from devstack.simulators.webhooks import PendingWebhook

if TYPE_CHECKING:
    from devstack.simulators.google import GoogleSimulator
    from devstack.simulators.google_directory import WorkspaceUser

DEFAULT_TTL_SECONDS = 6 * 3600
MAX_TTL_SECONDS = 7 * 24 * 3600
EVENTS = frozenset({"add", "delete", "makeAdmin", "undelete", "update"})


@dataclass
class Channel:
    """One notification channel on the customer's users."""

    id: str
    resource_id: str
    address: str
    token: str | None
    expires_at: float
    event: str | None  # None: every event
    client_id: str
    messages: int = 0


class GoogleWatch:
    """The watch / stop handlers and the notifications of user changes."""

    def __init__(self, sim: GoogleSimulator) -> None:
        self.sim = sim
        self.channels: dict[str, Channel] = {}

    def register(self) -> None:
        """Serve the two routes."""
        self.sim.add_route("/admin/directory/v1/users/watch", self._watch, methods=["POST"], target="api")
        self.sim.add_route("/admin/directory_v1/channels/stop", self._stop, methods=["POST"], target="api")

    def _bad(self, message: str) -> Response:
        return self.sim.google_error(400, message, "invalid", "INVALID_ARGUMENT")

    def _watch(self, request: Request) -> Response:
        record, caller = self.sim.api._authenticate(request)
        self.sim.api._require_scope(record, (DIRECTORY_USER, DIRECTORY_USER_READONLY))
        if not caller.is_admin:
            return self.sim.api._forbidden()
        customer = request.args.get("customer")
        if (
            customer not in ("my_customer", self.sim.customer_id)
            and request.args.get("domain") != self.sim.domain
        ):
            return self.sim.google_error(400, "Bad Request", "badRequest", "INVALID_ARGUMENT")
        event = request.args.get("event")
        if event is not None and event not in EVENTS:
            return self._bad(f"Invalid value for event: {event}")
        try:
            body = read_json(request, required=True)
        except ControlError as error:
            return self._bad(error.message)
        channel_id, address = body.get("id"), body.get("address")
        if not isinstance(channel_id, str) or not channel_id or body.get("type") != "web_hook":
            return self._bad("channel id and type web_hook are required")
        if not isinstance(address, str) or not address.startswith(("https://", "http://127.0.0.1")):
            return self._bad("WebHook callback must be HTTPS: " + str(address))
        if channel_id in self.channels:
            return self.sim.google_error(
                400, f"Channel id {channel_id} not unique", "channelIdNotUnique", "INVALID_ARGUMENT"
            )
        params = body.get("params")
        ttl = str(params.get("ttl", DEFAULT_TTL_SECONDS) if isinstance(params, dict) else DEFAULT_TTL_SECONDS)
        seconds = min(int(ttl), MAX_TTL_SECONDS) if ttl.isdigit() else DEFAULT_TTL_SECONDS
        token = body.get("token") if isinstance(body.get("token"), str) else None
        channel = Channel(
            channel_id,
            secrets.token_urlsafe(20),
            address,
            token,
            self.sim.clock.now() + seconds,
            event,
            str(record.client_id),
        )
        self.channels[channel_id] = channel
        self._notify(channel, "sync", None)
        return json_response(
            {
                "kind": "api#channel",
                "id": channel.id,
                "resourceId": channel.resource_id,
                "resourceUri": self._resource_uri(request.host_url),
                "token": token,
                "expiration": str(int(channel.expires_at * 1000)),
            }
        )

    def _stop(self, request: Request) -> Response:
        record, _caller = self.sim.api._authenticate(request)
        try:
            body = read_json(request, required=True)
        except ControlError as error:
            return self._bad(error.message)
        channel = self.channels.get(str(body.get("id")))
        if (
            channel is None
            or channel.resource_id != body.get("resourceId")
            or channel.client_id != record.client_id
        ):
            return self.sim.google_error(404, "Channel not found", "notFound", "NOT_FOUND")
        del self.channels[channel.id]
        return Response(status=204)

    def _resource_uri(self, host_url: str) -> str:
        return f"{host_url.rstrip('/')}/admin/directory/v1/users?customer=my_customer&alt=json"

    # ----- notifications (called under the lock by the control API) --------------------------

    def user_changed(self, user: WorkspaceUser, event: str) -> None:
        """Queue a notification to every live channel watching ``event``."""
        for channel in list(self.channels.values()):
            if channel.expires_at <= self.sim.clock.now():
                del self.channels[channel.id]
            elif channel.event in (None, event):
                resource = {
                    "kind": "admin#directory#user",
                    "id": user.id,
                    "etag": user.etag(),
                    "primaryEmail": user.primary_email,
                }
                self._notify(channel, event, resource)

    def _notify(self, channel: Channel, state: str, resource: dict[str, Any] | None) -> None:
        channel.messages += 1
        headers = {
            "Content-Type": "application/json; charset=UTF-8",
            "X-Goog-Channel-ID": channel.id,
            "X-Goog-Channel-Expiration": formatdate(channel.expires_at, usegmt=True),
            "X-Goog-Resource-ID": channel.resource_id,
            "X-Goog-Resource-URI": self._resource_uri("https://admin.googleapis.com/"),
            "X-Goog-Resource-State": state,
            "X-Goog-Message-Number": str(channel.messages),
        }
        if channel.token is not None:
            headers["X-Goog-Channel-Token"] = channel.token
        body = json.dumps(resource).encode() if resource is not None else b""
        outbox: list[PendingWebhook] | None = getattr(self.sim._local, "outbox", None)
        if outbox is None:
            self.sim.deliver_webhook(f"users.{state}", channel.address, body, headers)
        else:
            outbox.append(PendingWebhook(f"users.{state}", channel.address, body, headers))
