"""A dev stack of its own (the delegated-access one: the real SQS worker, a callback receiver)
whose demo OU links Microsoft Teams and Google Meet through the OU flow: the link subscribes the
connection to its users' changes (Graph subscription, Directory channel), and the simulators
notify ``POST /webhooks/microsoft`` and ``/webhooks/google`` when a user changes. Its own stack,
because the Zoom webhook tests expect their OU to hold one connection."""

from __future__ import annotations

from typing import Any

import httpx

from tests.delegated.conftest import delegated_stack, receiver
from tests.flow.harness import FlowStack
from tests.providers_e2e.conftest import microsoft_tenant, simulator_url

__all__ = ["delegated_stack", "microsoft_tenant", "receiver"]


def change_user(flow: FlowStack, simulator: str, email: str, /, **changes: Any) -> None:
    """Change a user through the simulator's control API: it notifies the subscribers at once."""
    answer = httpx.patch(f"{simulator_url(flow, simulator)}/_sim/users/{email}", json=changes)
    assert answer.status_code == 200, answer.text


def deliveries(flow: FlowStack, simulator: str, event: str) -> list[int | None]:
    """The status our endpoint answered to each delivery of ``event`` (the simulator's log)."""
    return [
        e["status"]
        for e in flow.simulator(simulator).requests()
        if e.get("kind") == "webhook" and e.get("event") == event
    ]


def subscriptions(flow: FlowStack) -> list[dict[str, Any]]:
    """orgconnect's subscription items."""
    return [i for i in flow.table_items("SUBSCRIPTION#") if i.get("type") == "user_subscription"]
