"""The integrator's side of the notifications dev stack, for its flow tests: the operator CLI that
sets a client's notification URL, the receiver that URL points at, and the requests that make
orgconnect notify (a Zoom link, delegated access, a refused refresh)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

import pytest

from orgconnect.cli import main
from tests.flow.harness import Browser, Client, FlowStack, wait_for
from tests.flow.s2s_helpers import redeem
from tests.notifications.receiver import NotificationReceiver


@dataclass
class Integrator:
    """The package's stack and notification receiver; ``capsys`` reads the CLI's output."""

    flow: FlowStack
    receiver: NotificationReceiver
    capsys: pytest.CaptureFixture[str]

    def cli(self, *args: str) -> dict[str, Any]:
        """``orgconnect admin …`` against the stack: its JSON output (a failure fails the test)."""
        self.capsys.readouterr()
        code = main(["admin", *args, "--dev", str(self.flow.stack.dev_file)])
        assert code == 0, self.capsys.readouterr().err
        out: dict[str, Any] = json.loads(self.capsys.readouterr().out)
        return out

    def listen(self, client: Client, *, kept_secret: bool = False) -> str:
        """The client's URL on the receiver, at a path of its own; the receiver knows the secret.
        With ``kept_secret``, a client whose URL an earlier test set keeps its secret: a rotation
        without grace gives one the receiver knows (without it, a new secret is required)."""
        path = f"/n/{secrets.token_hex(6)}"
        url = self.receiver.url(path)
        out = self.cli("set-notification-url", "--client-id", client.client_id, "--url", url)
        assert out["notification_url"] == url
        if kept_secret and "notification_secret" not in out:
            args = ("rotate-notification-secret", "--client-id", client.client_id, "--grace-hours", "0")
            out = self.cli(*args)
        self.receiver.secrets[path] = out["notification_secret"]
        return path

    def received(self, path: str, count: int, *, timeout: float = 30) -> list[dict[str, Any]]:
        """The notifications received at ``path`` once there are at least ``count``."""
        wait_for(lambda: len(self.receiver.received.get(path, [])) >= count, timeout=timeout)
        return [n["notification"] for n in self.receiver.received[path]]

    def link_zoom(self, browser: Browser) -> tuple[Client, str, dict[str, Any]]:
        """A fresh client whose new OU is linked to the simulator's Zoom account: the client, its
        OU token and the connection item."""
        flow = self.flow
        client = flow.new_client()
        outcome = browser.run(flow.authorize_url(client))
        assert outcome.kind == "code", outcome.text
        token = redeem(flow, client, outcome.params["code"])
        me = flow.api.get(f"{flow.info['api_url']}/v1/userinfo", headers={"Authorization": f"Bearer {token}"})
        (connection,) = me.json()["cronofy.data"]["conferencing_connections"]
        (item,) = [
            c for c in flow.table_items("CONNECTION#") if c["connection_id"] == connection["connection_id"]
        ]
        return client, token, item

    def link_demo_to_zoom(self) -> Client:
        """The demo OU gets a Zoom connection (the OU flow): its client."""
        demo = self.flow.demo_client()
        outcome = Browser(self.flow).run(self.flow.authorize_url(demo, provider="zoom_enterprise"))
        assert outcome.kind == "code", outcome.text
        return demo

    def delegate(self, email: str) -> None:
        """Delegated access for ``email`` queued with the demo service account (its callback is
        answered 204 and is not what these tests check)."""
        callback = f"/cb/{secrets.token_hex(6)}"
        self.receiver.answer[callback] = (204, {})
        queued = self.flow.api.post(
            f"{self.flow.info['api_url']}/v1/service_account_authorizations",
            headers={"Authorization": f"Bearer {self.flow.info['service_account_token']}"},
            json={"email": email, "scope": "read_only", "callback_url": self.receiver.url(callback)},
        )
        assert queued.status_code == 202, queued.text

    def refuse_the_refresh(self, connection: dict[str, Any], token: str) -> None:
        """The connection's access token expires (as an hour later would) and Zoom refuses the
        refresh token: the connection test fails, which marks it needs_reauthorization."""
        flow = self.flow
        vault = flow.aws("secretsmanager")
        stored = json.loads(vault.get_secret_value(SecretId=connection["secret_arn"])["SecretString"])
        vault.put_secret_value(
            SecretId=connection["secret_arn"], SecretString=json.dumps({**stored, "expires_at": 0})
        )
        flow.simulator("zoom").add_fault("token", "invalid_grant")
        collection = f"{flow.info['api_url']}/v1/organizational_unit/conferencing_connections"
        answer = flow.api.post(
            f"{collection}/{connection['connection_id']}/test", headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200 and answer.json()["test"]["passed"] is False, answer.text
