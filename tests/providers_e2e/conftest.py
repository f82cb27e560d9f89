"""A dev stack of its own (the delegated-access one: the real SQS event source, a callback
receiver) where the demo OU links each conferencing provider through the OU flow, as an
administrator does in ``make dev``. The providers share the OU, so an account may hold profiles
of several providers: the tests pick theirs by provider name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.delegated.conftest import CallbackReceiver, delegated_stack, receiver
from tests.flow.harness import Browser, FlowStack
from tests.matching.test_matching_flow import account_token

__all__ = ["delegated_stack", "receiver"]


def link(flow: FlowStack, conferencing_provider_name: str) -> dict[str, Any]:
    """The OU flow with ``conferencing_provider_name`` (the simulator's administrator consents);
    returns the OU's new connection item."""
    before = {c["connection_id"] for c in connections(flow)}
    outcome = Browser(flow).run(flow.authorize_url(flow.demo_client(), provider=conferencing_provider_name))
    assert outcome.kind == "code", outcome.text
    (added,) = [
        c
        for c in connections(flow)
        if c["connection_id"] not in before and c["provider_name"] == conferencing_provider_name
    ]
    return added


def connections(flow: FlowStack) -> list[dict[str, Any]]:
    return [c for c in flow.table_items("CONNECTION#") if c.get("client_id") == flow.info["client_id"]]


def profiles(flow: FlowStack, access_token: str, provider_name: str) -> list[dict[str, Any]]:
    """The account's conferencing profiles of one provider (userinfo)."""
    info = flow.api.get(
        f"{flow.info['api_url']}/v1/userinfo", headers={"Authorization": f"Bearer {access_token}"}
    )
    assert info.status_code == 200, info.text
    shown = info.json()["cronofy.data"]["conferencing_profiles"]
    return [p for p in shown if p["provider_name"] == provider_name]


def account(flow: FlowStack, receiver: CallbackReceiver, email: str) -> str:
    """Delegated access for ``email`` (the worker matches it): the account's access token."""
    return str(account_token(flow, receiver, email)["access_token"])


def meeting_body(profile_id: str) -> dict[str, Any]:
    """A 45-minute meeting tomorrow (the simulators refuse meetings in the past)."""
    start = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    return {
        "profile_id": profile_id,
        "summary": "Interview",
        "start": start.isoformat().replace("+00:00", "Z"),
        "end": (start + timedelta(minutes=45)).isoformat().replace("+00:00", "Z"),
        "tzid": "Europe/London",
    }


def create_meeting(flow: FlowStack, access_token: str, profile_id: str) -> httpx.Response:
    return flow.api.post(
        f"{flow.info['api_url']}/v1/conferencing",
        headers={"Authorization": f"Bearer {access_token}"},
        json=meeting_body(profile_id),
    )


def simulator_url(flow: FlowStack, name: str) -> str:
    return str(flow.info["simulators"][name]["base_url"])


def sim_options(flow: FlowStack, name: str, options: dict[str, Any]) -> None:
    """``PATCH /_sim/options``: a provider switch, as a developer flips it in ``make dev``."""
    answer = httpx.patch(f"{simulator_url(flow, name)}/_sim/options", json=options)
    assert answer.status_code == 200, answer.text


def refusal(answer: httpx.Response) -> dict[str, Any]:
    """The one ``profile_id`` error of a 422."""
    assert answer.status_code == 422, answer.text
    (error,) = answer.json()["errors"]["profile_id"]
    return dict(error)


@pytest.fixture(scope="package")
def microsoft_tenant(delegated_stack: FlowStack) -> FlowStack:
    """The Microsoft 365 tenant (``subsidiary.example``) linked to the demo OU as a second
    calendar tenant, so its people get delegated access (they are the Teams users)."""
    flow = delegated_stack
    browser = Browser(flow)
    start = browser.get(flow.authorize_url(flow.demo_client(), provider=None, capability="calendars"))
    microsoft = flow.simulator("microsoft")
    admin = next(u.user_principal_name for u in microsoft.users.values() if microsoft.is_global_admin(u))
    outcome = browser.drive(
        browser.get(start.headers["location"]),
        choose="microsoft_365",
        sign_in_as={
            simulator_url(flow, "google"): flow.simulator("google").admin.primary_email,
            simulator_url(flow, "microsoft"): admin,
        },
    )
    assert outcome.kind == "code", outcome.text
    return flow


def stored_tokens(flow: FlowStack, conferencing_provider_name: str) -> dict[str, Any]:
    """The tokens in the demo OU's connection secret of that provider (what orgconnect holds)."""
    (connection,) = [c for c in connections(flow) if c["provider_name"] == conferencing_provider_name]
    secret = flow.aws("secretsmanager").get_secret_value(SecretId=connection["secret_arn"])
    return dict(json.loads(secret["SecretString"]))


def refresh_grants(flow: FlowStack, simulator: str) -> list[dict[str, Any]]:
    """The refresh grants the simulator received (its request log)."""
    return [
        e
        for e in flow.simulator(simulator).requests()
        if e.get("kind") == "request" and (e.get("params") or {}).get("grant_type") == "refresh_token"
    ]


@dataclass(frozen=True)
class LinkedProvider:
    """The demo OU linked to one conferencing provider, and what its tests do there: delegated
    access for a demo person, their profile of the provider, a meeting, the provider's switches."""

    flow: FlowStack
    receiver: CallbackReceiver
    connection_provider: str  # the connection's provider_name (``webex_enterprise``)
    profile_provider: str  # its profiles' provider_name (``webex``)
    simulator_name: str  # ``webex``

    @property
    def sim(self) -> Any:
        return self.flow.simulator(self.simulator_name)

    def demo(self, group: str) -> list[str]:
        """The demo people of ``group`` (``webex_active``): the stack's seed data."""
        return list(self.flow.info["demo"][group])

    def matched_profile(self, email: str) -> tuple[str, dict[str, Any]]:
        """Delegated access for ``email`` and its one profile of the provider: (token, profile)."""
        token = account(self.flow, self.receiver, email)
        (profile,) = profiles(self.flow, token, self.profile_provider)
        return token, profile

    def connected_profile(self, email: str) -> tuple[str, dict[str, Any]]:
        """``matched_profile``, checked connected and named by ``email``."""
        token, profile = self.matched_profile(email)
        assert profile["profile_connected"] is True and profile["profile_name"] == email
        return token, profile

    def create_meeting(self, access_token: str, profile: dict[str, Any]) -> httpx.Response:
        return create_meeting(self.flow, access_token, profile["profile_id"])

    def created_meeting(self, access_token: str, profile: dict[str, Any]) -> dict[str, Any]:
        """``POST /v1/conferencing`` for ``profile``, checked 201 of the provider: its ``conferencing``."""
        created = self.create_meeting(access_token, profile)
        assert created.status_code == 201, created.text
        answer = created.json()["conferencing"]
        assert answer["provider_name"] == self.profile_provider
        return dict(answer)

    def refusal(self, access_token: str, profile: dict[str, Any]) -> dict[str, Any]:
        """The one ``profile_id`` error of the 422 a meeting for ``profile`` gets."""
        return refusal(self.create_meeting(access_token, profile))

    def not_connected_refusal(self, email: str) -> dict[str, Any]:
        """``matched_profile``, checked not connected without a relink url: the 422 of a meeting."""
        token, profile = self.matched_profile(email)
        assert profile["profile_connected"] is False and "profile_relink_url" not in profile
        return self.refusal(token, profile)

    def change_user(self, email: str, changes: dict[str, Any]) -> None:
        """``PATCH /_sim/users/{email}``: a change an administrator makes at the provider."""
        answer = httpx.patch(
            f"{simulator_url(self.flow, self.simulator_name)}/_sim/users/{email}", json=changes
        )
        assert answer.status_code == 200, answer.text

    @contextmanager
    def option_off(self, option: str) -> Iterator[None]:
        """A boolean provider switch off for the block, on again after it."""
        sim_options(self.flow, self.simulator_name, {option: False})
        try:
            yield
        finally:
            sim_options(self.flow, self.simulator_name, {option: True})

    def stored_tokens(self) -> dict[str, Any]:
        return stored_tokens(self.flow, self.connection_provider)

    def tokens_around_a_refresh(
        self, access_token: str, profile: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The stored tokens before and after a meeting made once the provider's access tokens
        expired (401, one refresh, the create again); checked: one refresh grant, a new access token."""
        before = self.stored_tokens()
        self.sim.clear_requests()
        self.sim.advance_clock(self.sim.access_token_ttl_seconds + 1)  # the stored access token is refused
        created = self.create_meeting(access_token, profile)
        assert created.status_code == 201, created.text
        assert len(refresh_grants(self.flow, self.simulator_name)) == 1
        after = self.stored_tokens()
        assert after["access_token"] != before["access_token"]
        return before, after


def linked_provider(
    flow: FlowStack,
    receiver: CallbackReceiver,
    connection_provider: str,
    *,
    profile_provider: str | None = None,
    simulator: str,
) -> LinkedProvider:
    """Links ``connection_provider`` to the demo OU (the OU flow): the LinkedProvider."""
    link(flow, connection_provider)
    return LinkedProvider(
        flow, receiver, connection_provider, profile_provider or connection_provider, simulator
    )
