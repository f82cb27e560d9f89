"""A dev stack of its own (the delegated-access one: the real SQS worker, a callback receiver)
whose demo OU links Microsoft Teams and Google Meet through the OU flow: the link subscribes the
connection to its users' changes (Graph subscription, Directory channel), and the simulators
notify ``POST /webhooks/microsoft`` and ``/webhooks/google`` when a user changes. Its own stack,
because the Zoom webhook tests expect their OU to hold one connection."""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.delegated.conftest import CallbackReceiver, delegated_stack, receiver
from tests.flow.harness import FlowStack
from tests.providers_e2e.conftest import account, link, microsoft_tenant, profiles, simulator_url

__all__ = ["delegated_stack", "microsoft_tenant", "receiver"]


@dataclass(frozen=True)
class UserEvents:
    """How one provider tells orgconnect about its users' changes, as these tests see it."""

    provider: str  # the simulator, and the subscription items' provider
    conferencing: str  # the provider_name an OU links
    profiles: str  # the conferencing profiles' provider_name in userinfo
    disable: tuple[str, bool]  # the simulator's user field, and the value that disables the user
    updated: str  # the simulator's webhook event for a changed user
    deleted: str  # and for a deleted one
    accepted: int  # what POST /webhooks/<provider> answers a genuine delivery
    stack: str  # the fixture: the stack whose demo OU linked the provider
    user: str  # the fixture: a matched user of it
    open_at_provider: Callable[[FlowStack], Container[str]]  # the subscription ids the provider holds


GOOGLE = UserEvents(
    "google",
    "google_meet",
    "google_meet_api",
    ("suspended", True),
    "users.update",
    "users.delete",
    200,
    stack="meet",
    user="meet_user",
    open_at_provider=lambda flow: flow.simulator("google").watch.channels,
)
MICROSOFT = UserEvents(
    "microsoft",
    "ms_teams",
    "ms_teams",
    ("account_enabled", False),
    "users.updated",
    "users.deleted",
    202,
    stack="teams",
    user="teams_user",
    open_at_provider=lambda flow: flow.simulator("microsoft").subscriptions.items,
)


@pytest.fixture(scope="package")
def meet(delegated_stack: FlowStack) -> FlowStack:
    """The stack whose demo OU linked Google Meet (a Directory ``users.watch`` channel)."""
    link(delegated_stack, GOOGLE.conferencing)
    return delegated_stack


@pytest.fixture(scope="package")
def teams(microsoft_tenant: FlowStack) -> FlowStack:
    """The stack whose demo OU linked Microsoft Teams (a Graph subscription to ``users``)."""
    link(microsoft_tenant, MICROSOFT.conferencing)
    return microsoft_tenant


@pytest.fixture(scope="package")
def meet_user(meet: FlowStack, receiver: CallbackReceiver) -> tuple[str, str]:
    """An active Workspace user with delegated access: (email, the account's access token)."""
    return matched_user(meet, receiver, GOOGLE, meet.info["demo"]["google_meet_active"][2])


@pytest.fixture(scope="package")
def teams_user(teams: FlowStack, receiver: CallbackReceiver) -> tuple[str, str]:
    """A licensed Teams user with delegated access: (email, the account's access token)."""
    return matched_user(teams, receiver, MICROSOFT, teams.info["demo"]["ms_teams_active"][0])


def matched_user(
    flow: FlowStack, receiver: CallbackReceiver, events: UserEvents, email: str
) -> tuple[str, str]:
    """Delegated access for ``email``, whose profile of the provider is connected: (email, token)."""
    token = account(flow, receiver, email)
    (profile,) = profiles(flow, token, events.profiles)
    assert profile["profile_connected"] is True
    return email, token


def connected(flow: FlowStack, token: str, events: UserEvents) -> bool:
    """Whether the account's one profile of the provider is connected (userinfo)."""
    (profile,) = profiles(flow, token, events.profiles)
    return bool(profile["profile_connected"])


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
