"""A sync's profile notifications are queued ten to a SendMessageBatch (docs/notifications.md):
only changes that flip a profile's connected state, only for a client with a URL; entries SQS
refuses are sent once more, then the publisher raises TemporarilyUnavailable (logged)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

import pytest

from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.store.notifications_queue import SqsNotificationPublisher


@dataclass(frozen=True)
class Connection:
    connection_id: str = "cnx_" + "1" * 24
    ou_id: str = "ou_" + "2" * 24
    client_id: str = "cli_" + "3" * 24
    provider_name: str = "zoom_enterprise"


@dataclass(frozen=True)
class Profile:
    profile_id: str
    account_id: str
    provider_name: str = "zoom"
    connected: bool = True


class Store:
    def __init__(self, url: str | None) -> None:
        self.url = url
        self.reads = 0

    def read(self, key: dict[str, str]) -> dict[str, Any] | None:
        self.reads += 1
        return {"type": "client", "notification_url": self.url} if self.url else {"type": "client"}


class Sqs:
    """Records SendMessageBatch calls; refuses the entry ids in ``refuse`` (each once per id set)."""

    def __init__(self, refuse: list[set[str]] | None = None) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.refuse = refuse or []

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        assert len(Entries) <= 10
        self.batches.append(Entries)
        failing = self.refuse.pop(0) if self.refuse else set()
        failed = [
            {"Id": e["Id"], "Code": "InternalError", "SenderFault": False}
            for e in Entries
            if e["Id"] in failing
        ]
        return {"Successful": [e for e in Entries if e["Id"] not in failing], "Failed": failed}


def flips(count: int) -> list[tuple[Profile | None, Profile]]:
    """``count`` new connected profiles and ``count`` disconnections, and a rename (no flip)."""
    made: list[tuple[Profile | None, Profile]] = []
    for i in range(count):
        made.append((None, Profile(f"pro_{i:024d}", f"acc_{i:024d}")))
        made.append((Profile(f"pro_{i:024x}", "acc_x"), Profile(f"pro_{i:024x}", "acc_x", connected=False)))
    made.append((Profile("pro_rename", "acc_r"), Profile("pro_rename", "acc_r")))
    return made


def publisher(store: Store, sqs: Sqs) -> SqsNotificationPublisher:
    return SqsNotificationPublisher(cast(Any, store), sqs, "https://queue", clock=lambda: 1_800_000_000)


def test_flips_are_queued_ten_a_call_and_the_client_is_read_once() -> None:
    store, sqs = Store("https://hooks.example.com/n"), Sqs()
    assert publisher(store, sqs).profiles_changed(flips(12), Connection()) == 24
    assert [len(b) for b in sqs.batches] == [10, 10, 4] and store.reads == 1
    bodies = [json.loads(e["MessageBody"]) for b in sqs.batches for e in b]
    assert [b["type"] for b in bodies].count("profile_disconnected") == 12
    assert {b["fields"]["connection_id"] for b in bodies} == {Connection.connection_id}
    assert len({b["id"] for b in bodies}) == 24


def test_a_client_without_a_url_gets_nothing() -> None:
    store, sqs = Store(None), Sqs()
    assert publisher(store, sqs).profiles_changed(flips(3), Connection()) == 0
    assert sqs.batches == []


def test_refused_entries_are_sent_once_more_then_it_raises() -> None:
    sqs = Sqs(refuse=[{"1", "2"}, set()])  # the first batch refuses two; their resend is queued
    assert publisher(Store("https://h.example.com"), sqs).profiles_changed(flips(2), Connection()) == 4
    assert [len(b) for b in sqs.batches] == [4, 2]
    always = Sqs(refuse=[{"0"}, {"0"}])  # refused twice: lost, and said so
    with pytest.raises(TemporarilyUnavailable):
        publisher(Store("https://h.example.com"), always).profiles_changed(flips(2), Connection())
