"""Nothing secret or personal reaches the logs of delegated access: not the service-account token,
not the code, not the callback URL, not the email (at DEBUG, as formatted in production)."""

from __future__ import annotations

from tests.delegated.conftest import CallbackReceiver
from tests.delegated.test_delegated_access_flow import one, request_access, wait_callbacks
from tests.flow.harness import FlowStack


def test_no_token_code_email_or_callback_url_in_the_logs(
    delegated_stack: FlowStack, receiver: CallbackReceiver, service_logs: list[str]
) -> None:
    flow = delegated_stack
    found, unknown = flow.info["demo"]["zoom_active"][26], "who.is.this@example.com"
    paths = []
    for email in (found, unknown):
        path, body = one(receiver, email)
        assert request_access(flow, body).status_code == 202
        paths.append(path)
    code = wait_callbacks(receiver, paths[0])[0]["authorization"]["code"]
    wait_callbacks(receiver, paths[1])
    text = "\n".join(service_logs)
    assert "delegated access answered" in text  # the worker's lines were captured
    for secret in (flow.info["service_account_token"], code, found, unknown, *paths):
        assert secret not in text
