"""The provisioning log's store on moto and on DynamoDB Local: events read newest first in pages
with a cursor, per OU, expired events never read (TTL is lazy), the page count, a cursor past the
live events, and the cursor's own validation."""

from __future__ import annotations

import pytest

from orgconnect import runtime
from orgconnect.domain.errors import InvalidRequest
from orgconnect.domain.provisioning_log import (
    RETENTION_SECONDS,
    EventResult,
    PageCursor,
    ProvisioningEvent,
    decode_cursor,
    sort_key,
)
from orgconnect.domain.secrets import new_id
from orgconnect.store.provisioning_events import DynamoProvisioningEvents

pytestmark = pytest.mark.every_dynamodb
NOW = 1_800_000_000


def event(ou_id: str, at: int, n: int, result: EventResult = EventResult.OK) -> ProvisioningEvent:
    return ProvisioningEvent(new_id("pev"), ou_id, new_id("cnx"), at, "create", f"acc_{n}", f"z{n}", result)


def test_pages_newest_first_per_ou_without_expired_events(aws: dict[str, str]) -> None:
    log = DynamoProvisioningEvents(runtime.get_store(), page_size=4)
    ou, other = new_id("ou"), new_id("ou")
    for n in range(10):
        log.record(event(ou, NOW - 100 + n, n))
    log.record(event(other, NOW, 99))
    log.record(event(ou, NOW - RETENTION_SECONDS, 100))  # expires exactly now: gone
    log.record(event(ou, NOW - RETENTION_SECONDS - 3600, 101, EventResult.FAILED))
    seen: list[str | None] = []
    cursor: str | None = None
    pages: list[tuple[int, int, int]] = []
    while True:
        page = log.page(ou, cursor=decode_cursor(cursor) if cursor else None, now=NOW)
        pages.append((page.current, page.total, len(page.events)))
        seen.extend(e.account_id for e in page.events)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == [(1, 3, 4), (2, 3, 4), (3, 3, 2)]
    assert seen == [f"acc_{n}" for n in reversed(range(10))]
    first = log.page(ou, cursor=None, now=NOW).events[0]
    assert first.provider_user_id == "z9" and first.result is EventResult.OK and first.error is None
    only = log.page(other, cursor=None, now=NOW)
    assert [e.account_id for e in only.events] == ["acc_99"] and only.total == 1


def test_an_empty_log_is_one_empty_page_and_an_old_cursor_reads_nothing(aws: dict[str, str]) -> None:
    log = DynamoProvisioningEvents(runtime.get_store())
    ou = new_id("ou")
    empty = log.page(ou, cursor=None, now=NOW)
    assert (empty.events, empty.current, empty.total, empty.next_cursor) == ([], 1, 1, None)
    log.record(event(ou, NOW - 10, 1))
    stale = PageCursor(sort_key(NOW - RETENTION_SECONDS - 10, new_id("pev")), 2)
    assert log.page(ou, cursor=stale, now=NOW).events == []


def test_errors_are_kept_and_cursors_are_checked(aws: dict[str, str]) -> None:
    log = DynamoProvisioningEvents(runtime.get_store())
    ou = new_id("ou")
    log.record(
        ProvisioningEvent(new_id("pev"), ou, "cnx_x", NOW, "update", None, "z1", EventResult.FAILED, "limit")
    )
    (kept,) = log.page(ou, cursor=None, now=NOW).events
    assert (kept.account_id, kept.error, kept.result) == (None, "limit", EventResult.FAILED)
    good = PageCursor(sort_key(NOW, new_id("pev")), 2)
    assert decode_cursor(good.encode()) == good
    for forged in (
        "",
        "x" * 500,
        "bm9wZQ",
        PageCursor("USER#x", 2).encode(),
        PageCursor(good.after, 1).encode(),
    ):
        with pytest.raises(InvalidRequest):
            decode_cursor(forged)


def test_created_user_ids_are_the_connections_live_successful_creates(aws: dict[str, str]) -> None:
    log = DynamoProvisioningEvents(runtime.get_store())
    ou, cnx = new_id("ou"), new_id("cnx")

    def put(at: int, action: str, user: str, result: EventResult = EventResult.OK, where: str = cnx) -> None:
        log.record(ProvisioningEvent(new_id("pev"), ou, where, at, action, "acc_1", user, result))

    put(NOW - 10, "create", "z1")
    put(NOW - 9, "create", "z2", EventResult.FAILED)
    put(NOW - 8, "adopt", "z3")
    put(NOW - 7, "create", "z4", where=new_id("cnx"))
    put(NOW - RETENTION_SECONDS - 1, "create", "z5")
    put(NOW - 6, "create", "z6")
    assert log.created_user_ids(ou, cnx, now=NOW) == frozenset({"z1", "z6"})
