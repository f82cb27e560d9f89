"""POST /v1/conferencing when the provider is not well: a 401 is retried once after one refresh,
an outage is 503 with Retry-After, a refusal is a 422 with the remedy, and a refused refresh
token (invalid_grant) is a 422 naming the connection. Runs last: it marks the connection."""

from __future__ import annotations

from typing import Any

import httpx

from tests.delegated.conftest import CallbackReceiver
from tests.flow.harness import FlowStack
from tests.matching.test_matching_flow import account_token, zoom_requests
from tests.matching.test_meeting_links import MEETING, conferencing


def fault(flow: FlowStack, kind: str, target: str, count: int = 1, path_prefix: str | None = None) -> None:
    base = flow.info["simulators"]["zoom"]["base_url"]
    body: dict[str, Any] = {"kind": kind, "target": target, "count": count}
    if path_prefix:
        body["path_prefix"] = path_prefix
    assert httpx.post(f"{base}/_sim/faults", json=body).status_code == 201


def clear(flow: FlowStack) -> None:
    base = flow.info["simulators"]["zoom"]["base_url"]
    httpx.delete(f"{base}/_sim/faults")
    httpx.delete(f"{base}/_sim/requests")


def creates(flow: FlowStack) -> list[dict[str, Any]]:
    return [e for e in zoom_requests(flow) if e["method"] == "POST" and e["path"].endswith("/meetings")]


def token_calls(flow: FlowStack) -> list[dict[str, Any]]:
    return [e for e in zoom_requests(flow) if e["path"] == "/oauth/token"]


def test_a_401_refreshes_once_and_retries_once(zoom_linked: FlowStack, receiver: CallbackReceiver) -> None:
    flow = zoom_linked
    token = account_token(flow, receiver, flow.info["demo"]["zoom_active"][23])["access_token"]
    clear(flow)
    fault(flow, "401", "api", path_prefix="/v2/users/")
    created = conferencing(flow, token, {"profile_id": "default", **MEETING})
    assert created.status_code == 201, created.text
    assert len(creates(flow)) == 2 and len(token_calls(flow)) == 1
    clear(flow)


def test_an_outage_is_503_with_retry_after(zoom_linked: FlowStack, receiver: CallbackReceiver) -> None:
    flow = zoom_linked
    token = account_token(flow, receiver, flow.info["demo"]["zoom_active"][24])["access_token"]
    clear(flow)
    fault(flow, "503", "api", count=10, path_prefix="/v2/users/")
    answer = conferencing(flow, token, {"profile_id": "default", **MEETING})
    assert answer.status_code == 503 and int(answer.headers["Retry-After"]) >= 1
    assert answer.json()["error"] == "provider_unavailable"
    clear(flow)


def test_a_provider_refusal_is_422_with_the_remedy(
    zoom_linked: FlowStack, receiver: CallbackReceiver
) -> None:
    flow = zoom_linked
    email = flow.info["demo"]["zoom_active"][25]
    token = account_token(flow, receiver, email)["access_token"]
    # The user was removed from Zoom after matching: Zoom answers 404 (1001) to the create call.
    # Its user.deleted webhook is lost here (else the profile is disconnected first: docs/webhooks.md).
    base = flow.info["simulators"]["zoom"]["base_url"]
    webhooks = flow.simulator("zoom").webhooks
    url, webhooks.url = webhooks.url, None
    try:
        assert httpx.delete(f"{base}/_sim/users/{email}").status_code == 204
    finally:
        webhooks.url = url
    answer = conferencing(flow, token, {"profile_id": "default", **MEETING})
    assert answer.status_code == 422, answer.text
    (error,) = answer.json()["errors"]["profile_id"]
    assert error["key"] == "errors.host_not_found"
    assert "add the user to the organization's Zoom account" in error["description"]


def test_a_refused_refresh_token_is_422_naming_the_connection(
    zoom_linked: FlowStack, receiver: CallbackReceiver
) -> None:
    flow = zoom_linked
    token = account_token(flow, receiver, flow.info["demo"]["zoom_active"][26])["access_token"]
    clear(flow)
    fault(flow, "401", "api", path_prefix="/v2/users/")
    fault(flow, "invalid_grant", "token")
    answer = conferencing(flow, token, {"profile_id": "default", **MEETING})
    assert answer.status_code == 422, answer.text
    (error,) = answer.json()["errors"]["profile_id"]
    assert error["key"] == "errors.connection_needs_reauthorization"
    (connection,) = [c for c in flow.table_items("CONNECTION#") if c["status"] == "needs_reauthorization"]
    assert connection["connection_id"] in error["description"]
    # Later requests are refused at once, without calling Zoom.
    clear(flow)
    again = conferencing(flow, token, {"profile_id": "default", **MEETING})
    assert again.status_code == 422 and creates(flow) == []
