"""A connection's directory listed page by page from a saved position, so that a sync job can stop
after a few pages and resume later where it stopped (docs/sync.md).

Zoom lists one status per listing (:meth:`ZoomConferencing.list_page`: ``GET /v2/users?status=S
&page_size=300`` with a ``next_page_token``): the position is (status index, page token). Zoom's
page tokens expire after 15 minutes; a saved token that expired (ListingCursorExpired) restarts
that status from its first page (the users listed again replace their earlier copies: the listing
is keyed by email). Providers whose listing is not resumable here (Webex's Link header, Graph and
Google are listed whole by their adapters) yield their whole listing as one page of segment 0.
"""

from __future__ import annotations

from collections.abc import Iterator

from msgspec import Struct

from orgconnect.domain.conferencing import DirectoryUser
from orgconnect.observability import logger
from orgconnect.providers.conferencing import ConferencingAdapter
from orgconnect.providers.zoom_conferencing import ListingCursorExpired, ZoomConferencing


class ListedPage(Struct, frozen=True):
    """One page and the position after it (``done`` once every segment is listed)."""

    users: list[DirectoryUser]
    segment: int
    next_token: str | None
    done: bool


def resumable(adapter: ConferencingAdapter) -> bool:
    """Whether a listing can stop and resume between pages (else it is listed in one go)."""
    return isinstance(adapter, ZoomConferencing)


def listing_pages(adapter: ConferencingAdapter, segment: int, page_token: str | None) -> Iterator[ListedPage]:
    """The pages from (``segment``, ``page_token``) on, fetched one at a time as consumed; each
    page counts one ``list`` call in ``adapter.calls``."""
    if not isinstance(adapter, ZoomConferencing):
        users = list(adapter.list_users()) if segment == 0 else []
        yield ListedPage(users, 0, None, True)
        return
    statuses = adapter.statuses
    for index in range(segment, len(statuses)):
        token = page_token if index == segment else None
        while True:
            try:
                users, following = adapter.list_page(statuses[index], token)
            except ListingCursorExpired:
                if token is None:
                    raise  # a first page is never refused for its token: not ours to retry
                logger.info("listing cursor expired: status listed again", extra={"status": statuses[index]})
                token = None
                continue
            if following is not None and following == token:
                raise adapter.malformed("users", "the next page is this page again")
            last = following is None and index == len(statuses) - 1
            if following is None and not last:
                yield ListedPage(users, index + 1, None, False)
                break
            yield ListedPage(users, index, following, last)
            if last:
                return
            token = following
    if not statuses:
        yield ListedPage([], 0, None, True)
