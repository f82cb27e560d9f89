"""Zoom user events read as changes (domain/webhooks_users.py), applied to every connection of the
account, and a profile's connected state from its user and its connection
(domain/profile_connection.py)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest

from orgconnect.domain.conferencing import UserStatus
from orgconnect.domain.matching import ConferencingProfile
from orgconnect.domain.model import ConnectionStatus, ProviderAccountLink
from orgconnect.domain.profile_connection import (
    connection_relink_url,
    profile_body,
    profile_connected,
)
from orgconnect.domain.webhooks import ZoomEvent
from orgconnect.domain.webhooks_users import (
    ProfileChange,
    UserChange,
    UserEventOutcome,
    apply_user_event,
    user_change,
)


def _event(name: str, obj: dict[str, Any] | None, **payload: Any) -> ZoomEvent:
    body: dict[str, Any] = {"account_id": "acct", **payload}
    if obj is not None:
        body["object"] = obj
    return ZoomEvent(name, 1_700_000_000_123, body)


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("user.activated", UserStatus.ACTIVE),
        ("user.invitation_accepted", UserStatus.ACTIVE),
        ("user.deactivated", UserStatus.INACTIVE),
    ],
)
def test_status_events(name: str, status: UserStatus) -> None:
    change = user_change(_event(name, {"id": "zu1", "email": "Ada@Example.com"}), default_ts=0)
    assert change == UserChange("zu1", 1_700_000_000_123, email="ada@example.com", status=status)


def test_created_users_are_pending_when_invited_and_active_otherwise() -> None:
    obj = {"id": "zu1", "email": "a@example.com", "first_name": "Ada", "last_name": "L"}
    invited = user_change(_event("user.created", obj, creation_type="create"), default_ts=0)
    auto = user_change(_event("user.created", obj, creation_type="autoCreate"), default_ts=0)
    assert invited is not None and invited.status is UserStatus.PENDING and invited.display_name == "Ada L"
    assert auto is not None and auto.status is UserStatus.ACTIVE


def test_updates_rename_only_when_the_email_changes() -> None:
    renamed = user_change(
        _event(
            "user.updated",
            {"id": "zu1", "email": "new@example.com"},
            old_object={"id": "zu1", "email": "old@example.com"},
        ),
        default_ts=0,
    )
    assert renamed is not None and renamed.renamed and renamed.old_email == "old@example.com"
    assert renamed.status is None
    named = user_change(
        _event("user.updated", {"id": "zu1", "first_name": "Bo"}, old_object={"id": "zu1"}), default_ts=0
    )
    assert named is not None and not named.renamed and named.email is None and named.display_name == "Bo"


def test_removals_and_events_without_a_user() -> None:
    for name in ("user.deleted", "user.disassociated"):
        change = user_change(_event(name, {"id": "zu1", "email": "a@example.com"}), default_ts=0)
        assert change is not None and change.removed
    assert user_change(_event("user.activated", None), default_ts=0) is None
    assert user_change(_event("user.activated", {"email": "a@example.com"}), default_ts=0) is None
    assert user_change(_event("user.signed_in", {"id": "zu1"}), default_ts=0) is None
    undated = ZoomEvent("user.activated", None, {"object": {"id": "zu1"}})
    assert user_change(undated, default_ts=42).event_ts == 42  # type: ignore[union-attr]


class _Fakes:
    def __init__(self, links: list[ProviderAccountLink]) -> None:
        self.links = links
        self.directory: list[str] = []
        self.profiles: list[str] = []

    def links_of_account(self, provider_name: str, account_id: str) -> list[ProviderAccountLink]:
        return [
            link
            for link in self.links
            if (link.provider_name, link.account_id) == (provider_name, account_id)
        ]

    def apply_user_change(self, connection_id: str, change: UserChange) -> Any:
        # Serves as both the directory (True: written) and the profiles (the ones changed).
        self.directory.append(connection_id)
        return [ProfileChange(_profile(UserStatus.ACTIVE), _profile(UserStatus.INACTIVE))]

    def deactivate(self) -> Callable[..., UserEventOutcome]:
        """``apply_user_event`` for Zoom user zu1 of account ``acct`` deactivated, over these fakes."""
        return partial(
            apply_user_event,
            provider_names=["zoom_enterprise"],
            account_id="acct",
            change=UserChange("zu1", 1, email="a@example.com", status=UserStatus.INACTIVE),
            links=self,
            directory=self,
            profiles=self,
        )


def test_a_user_event_reaches_every_connection_of_the_account_and_nothing_else() -> None:
    links = [
        ProviderAccountLink("cli_a", "zoom_enterprise", "acct", "ou_a", connection_id="cnx_a"),
        ProviderAccountLink("cli_b", "zoom_enterprise", "acct", "ou_b", connection_id="cnx_b"),
        ProviderAccountLink("cli_c", "zoom_enterprise", "other", "ou_c", connection_id="cnx_c"),
        ProviderAccountLink("cli_d", "zoom_enterprise", "acct", "ou_d", service_account_id="ser_d"),
    ]
    outcome = _Fakes(links).deactivate()()
    assert outcome.connections == ["cnx_a", "cnx_b"]
    assert outcome.directory_items_changed == 2 and len(outcome.profiles_changed) == 2


def _profile(status: UserStatus) -> ConferencingProfile:
    return ConferencingProfile("pro_1", "acc_1", "cnx_1", "zoom", "zu1", "ada@example.com", status)


def test_a_profile_is_connected_only_while_its_user_can_host_and_its_connection_is_connected() -> None:
    active, pending = _profile(UserStatus.ACTIVE), _profile(UserStatus.PENDING)
    assert profile_connected(active, ConnectionStatus.CONNECTED)
    for status in (ConnectionStatus.NEEDS_REAUTHORIZATION, ConnectionStatus.REVOKED, None):
        assert not profile_connected(active, status)
    assert not profile_connected(pending, ConnectionStatus.CONNECTED)


def test_the_relink_url_of_a_disconnected_connection_starts_the_flow_for_it() -> None:
    app = "https://orgconnect.example.com/"
    relink = connection_relink_url(app, "cnx_1")
    assert relink == "https://orgconnect.example.com/organizational_unit_oauth/relink?connection_id=cnx_1"
    for status in (ConnectionStatus.NEEDS_REAUTHORIZATION, ConnectionStatus.REVOKED):
        for user in (UserStatus.ACTIVE, UserStatus.PENDING):
            body = profile_body(_profile(user), status, app_url=app)
            assert body["profile_connected"] is False and body["profile_relink_url"] == relink
        inactive = profile_body(_profile(UserStatus.INACTIVE), status, app_url=app)
        assert inactive["profile_connected"] is False and "profile_relink_url" not in inactive
    # Connected: the user's own standing (a pending user relinks at Zoom); removed: no link.
    assert profile_body(_profile(UserStatus.ACTIVE), ConnectionStatus.CONNECTED, app_url=app)[
        "profile_connected"
    ]
    pending = profile_body(_profile(UserStatus.PENDING), ConnectionStatus.CONNECTED, app_url=app)
    assert pending["profile_relink_url"] == "https://zoom.us/signin"
    removed = profile_body(_profile(UserStatus.ACTIVE), None, app_url=app)
    assert removed["profile_connected"] is False and "profile_relink_url" not in removed


def test_a_relink_flow_accepts_only_the_account_its_connection_holds() -> None:
    from orgconnect.domain.authorization import AuthorizationRequest, Step
    from orgconnect.domain.relink import relinks_its_connection

    request = AuthorizationRequest(
        "arq_1", "cli_1", "https://app/cb", None, "conferencing", "ser_1", "d", "b", Step.CHOOSE, 0, 1
    )
    own = ProviderAccountLink("cli_1", "zoom_enterprise", "acct", "ou_1", connection_id="cnx_1")
    other = ProviderAccountLink("cli_1", "zoom_enterprise", "other", "ou_1", connection_id="cnx_2")
    assert relinks_its_connection(request, None) and relinks_its_connection(request, other)  # not a relink
    relink = request.advanced(relink_connection_id="cnx_1")
    assert relinks_its_connection(relink, own)
    assert not relinks_its_connection(relink, other)  # another account of the OU
    assert not relinks_its_connection(relink, None)  # an account never linked


class _Publisher:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[str, bool, str]] = []
        self.fail = fail

    def connection_status_changed(
        self, connection_id: str, status: ConnectionStatus, *, change_key: str
    ) -> None:
        raise AssertionError("a user event never changes a connection's status")

    def profile_changed(self, before: Any, after: Any, connection: Any) -> None:
        if self.fail:
            from orgconnect.domain.errors import TemporarilyUnavailable

            raise TemporarilyUnavailable("queue down")
        self.sent.append((after.profile_id, after.connected, connection.connection_id))


def test_changed_profiles_are_told_to_the_client_of_live_connections_only() -> None:
    links = [
        ProviderAccountLink(
            "cli_a", "zoom_enterprise", "acct", "ou_a", connection_id="cnx_a", secret_arn="arn:a"
        ),
        ProviderAccountLink("cli_b", "zoom_enterprise", "acct", "ou_b", connection_id="cnx_b"),  # revoked
    ]
    apply, publisher = _Fakes(links).deactivate(), _Publisher()
    outcome = apply(notifications=publisher)
    assert len(outcome.profiles_changed) == 2
    assert publisher.sent == [("pro_1", False, "cnx_a")]
    # A queue outage does not fail the event (the change is made; the publisher logged it).
    apply(notifications=_Publisher(fail=True))
