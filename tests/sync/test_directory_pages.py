"""``providers.directory_pages.listing_pages`` over ``ZoomConferencing.list_page`` (docs/sync.md):
the position after each page, the next status after a status's last page, and a saved page token
Zoom refuses as expired (ListingCursorExpired) restarting that status from its first page."""

from __future__ import annotations

from typing import Any, cast

import pytest

from orgconnect.domain.conferencing import DirectoryUser, UserStatus
from orgconnect.providers.directory_pages import ListedPage, listing_pages
from orgconnect.providers.zoom_conferencing import ListingCursorExpired, ZoomConferencing


class PagedZoom(ZoomConferencing):
    """Zoom with two pages of active users, one of pending, none inactive; ``expired`` tokens are
    refused as Zoom refuses a 15-minute-old one."""

    def __init__(self, expired: set[str] | None = None) -> None:
        super().__init__(cast(Any, object()))
        self.expired = expired or set()
        self.asked: list[tuple[str, str | None]] = []
        self.directory = {
            ("active", None): (["a1", "a2"], "t-active-2"),
            ("active", "t-active-2"): (["a3"], None),
            ("pending", None): (["p1"], None),
            ("inactive", None): ([], None),
        }

    def list_page(self, status: str, page_token: str | None = None) -> tuple[list[DirectoryUser], str | None]:
        self.asked.append((status, page_token))
        if page_token in self.expired:
            raise ListingCursorExpired("The next page token is invalid or expired.", error="300", status=400)
        names, following = self.directory[(status, page_token)]
        return [DirectoryUser(f"id-{n}", f"{n}@example.com", n, UserStatus.ACTIVE) for n in names], following


def positions(pages: list[ListedPage]) -> list[tuple[list[str], int, str | None, bool]]:
    return [([u.display_name for u in p.users], p.segment, p.next_token, p.done) for p in pages]


def test_the_pages_and_the_position_after_each() -> None:
    zoom = PagedZoom()
    assert positions(list(listing_pages(zoom, 0, None))) == [
        (["a1", "a2"], 0, "t-active-2", False),
        (["a3"], 1, None, False),  # active is done: pending from its first page
        (["p1"], 2, None, False),
        ([], 2, None, True),
    ]


def test_a_resumed_listing_starts_at_the_saved_token() -> None:
    zoom = PagedZoom()
    assert positions(list(listing_pages(zoom, 0, "t-active-2")))[0] == (["a3"], 1, None, False)
    assert zoom.asked[0] == ("active", "t-active-2")


def test_an_expired_token_restarts_its_status_and_keeps_the_earlier_ones() -> None:
    zoom = PagedZoom(expired={"t-active-2"})
    zoom.directory[("pending", "t-old")] = (["never"], None)
    zoom.expired.add("t-old")
    pages = list(listing_pages(zoom, 1, "t-old"))  # listing pending from a saved, expired token
    assert zoom.asked[:2] == [("pending", "t-old"), ("pending", None)]
    assert ("active", None) not in zoom.asked  # the earlier status is not listed again
    assert positions(pages) == [(["p1"], 2, None, False), ([], 2, None, True)]


def test_a_first_page_refused_as_expired_is_not_retried_forever() -> None:
    zoom = PagedZoom(expired={None})  # type: ignore[arg-type]
    with pytest.raises(ListingCursorExpired):
        list(listing_pages(zoom, 0, None))
    assert zoom.asked == [("active", None)]
