"""Zoom webhook events: ``user.*`` events on directory changes, ``app_deauthorized``, URL validation.

Deliveries are signed (``zoom_webhooks``) and queued in the simulator's transaction, so they go
out once the lock is released.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from devstack.simulators.http_helpers import ControlError
from devstack.simulators.oauth_state import mint_secret
from devstack.simulators.zoom_model import ZoomUser, iso
from devstack.simulators.zoom_webhooks import envelope, signed_request, validation_ok

if TYPE_CHECKING:
    from devstack.simulators.zoom import ZoomSimulator


class ZoomEvents:
    """Builds, signs and sends the Zoom simulator's webhook events."""

    def __init__(self, sim: ZoomSimulator) -> None:
        self.sim = sim

    def emit_user_event(
        self,
        event: str,
        user: ZoomUser,
        *,
        operator: ZoomUser | None,
        extra: Mapping[str, Any] | None = None,
        object_override: Mapping[str, Any] | None = None,
        old_object: Mapping[str, Any] | None = None,
    ) -> None:
        """Queue a signed user event for the configured webhook URL (none: nothing happens)."""
        if self.sim.webhooks.url is None:
            return
        body, headers = self._user_event_request(event, user, operator, extra, object_override, old_object)
        self.sim.queue_webhook(event, body, headers)

    def _user_event_request(
        self,
        event: str,
        user: ZoomUser,
        operator: ZoomUser | None,
        extra: Mapping[str, Any] | None = None,
        object_override: Mapping[str, Any] | None = None,
        old_object: Mapping[str, Any] | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        now = self.sim.clock.now()
        account = self.sim.directory.accounts.get(user.account_id)
        if operator is None and account is not None:
            operator = self.sim.directory.users.get(account.owner_id)
        payload: dict[str, Any] = {
            "account_id": user.account_id,
            "operator": operator.email if operator else "",
            "operator_id": operator.id if operator else "",
            "object": dict(object_override) if object_override else user.summary(),
        }
        if old_object is not None:
            payload["old_object"] = dict(old_object)
            payload["time_stamp"] = int(now * 1000)
        payload.update(extra or {})
        return signed_request(self.sim.webhooks.secret_token, envelope(event, payload, now), now)

    def deauthorize(self, client_id: str | None = None, user_email: str | None = None) -> dict[str, Any]:
        """Uninstall an OAuth app for the account of ``user_email``: revoke its tokens, send
        ``app_deauthorized``. Defaults: orgconnect's app and the paid account's owner."""
        with self.sim.transaction():
            client_id = client_id or self.sim.default_app.client_id
            owner = self.sim.directory.users[self.sim.paid_account().owner_id]
            user = self.sim.directory.by_email(user_email) if user_email else owner
            if user is None:
                raise ControlError(404, f"no Zoom user {user_email}")
            revoked = self.sim.tokens.revoke_where(
                lambda t: t.client_id == client_id and t.extra.get("account_id") == user.account_id
            )
            now = self.sim.clock.now()
            payload = {
                "account_id": user.account_id,
                "user_id": user.id,
                "signature": mint_secret(32),
                "deauthorization_time": iso(now)[:-1] + ".000Z",
                "client_id": client_id,
                "user_data_retention": "false",
            }
            body, headers = signed_request(
                self.sim.webhooks.secret_token, envelope("app_deauthorized", payload, now), now
            )
            url = self.sim.webhooks.url
        result: dict[str, Any] = {"revoked_tokens": revoked}
        if url is not None:
            result.update(self.sim.deliver_webhook("app_deauthorized", url, body, headers))
        return result

    def send_url_validation(self) -> dict[str, Any]:
        """Send an ``endpoint.url_validation`` challenge and check the receiver's answer."""
        with self.sim.lock:
            url, secret = self.sim.webhooks.url, self.sim.webhooks.secret_token
            now = self.sim.clock.now()
        if url is None:
            raise ControlError(409, "no webhook URL configured")
        plain = mint_secret(16)
        body, headers = signed_request(
            secret, envelope("endpoint.url_validation", {"plainToken": plain}, now), now
        )
        result = self.sim.deliver_webhook("endpoint.url_validation", url, body, headers)
        result["validated"] = result["status"] == 200 and validation_ok(
            secret, plain, result["response_json"]
        )
        self.sim.log_event(
            {"kind": "webhook_validation", "time": now, "target": "webhook", "validated": result["validated"]}
        )
        return result

    def send(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /_sim/webhooks/send``: ``endpoint.url_validation``, ``app_deauthorized``
        (``client_id``, ``user_email``) or a ``user.*`` event for ``email`` as it is now."""
        event = str(body["event"])
        if event == "endpoint.url_validation":
            return self.send_url_validation()
        if event == "app_deauthorized":
            return self.deauthorize(body.get("client_id"), body.get("user_email"))
        if not event.startswith("user."):
            raise ControlError(400, f"unsupported event {event!r}")
        with self.sim.transaction():
            user = self.sim.directory.by_email(str(body.get("email", "")))
            if user is None:
                raise ControlError(404, "email of an existing Zoom user is required for user events")
            request_body, headers = self._user_event_request(event, user, None)
            url = self.sim.webhooks.url
        assert url is not None
        return self.sim.deliver_webhook(event, url, request_body, headers)
