"""A connection's directory listed page by page from a saved position, so that a sync job can stop
after a few pages and resume later where it stopped (docs/sync.md).

Zoom lists one status per listing (``GET /v2/users?status=S&page_size=300``) with a
``next_page_token`` in each page's body: the position is (status index, page token). Providers
whose listing is not resumable here (Webex's Link header, Graph and Google are listed whole by
their adapters) yield their whole listing as one page of segment 0.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from orgconnect.domain.conferencing import DirectoryUser
from orgconnect.providers.conferencing import LIST, ConferencingAdapter
from orgconnect.providers.zoom_conferencing import PAGE_SIZE, ZoomConferencing


@dataclass(frozen=True)
class ListedPage:
    """One page and the position after it (``done`` once every segment is listed)."""

    users: list[DirectoryUser]
    segment: int
    next_token: str | None
    done: bool


def resumable(adapter: ConferencingAdapter) -> bool:
    """Whether a listing can stop and resume between pages (else it is listed in one go)."""
    return isinstance(adapter, ZoomConferencing)


def listing_pages(
    adapter: ConferencingAdapter, segment: int, page_token: str | None, *, page_size: int | None = None
) -> Iterator[ListedPage]:
    """The pages from (``segment``, ``page_token``) on, fetched one at a time as consumed; each
    page counts one ``list`` call in ``adapter.calls``."""
    if not isinstance(adapter, ZoomConferencing):
        users = list(adapter.list_users()) if segment == 0 else []
        yield ListedPage(users, 0, None, True)
        return
    statuses = adapter.statuses
    for index in range(segment, len(statuses)):
        status = statuses[index]
        query = {"status": status, "page_size": str(page_size) if page_size else PAGE_SIZE}
        if index == segment and page_token:
            query["next_page_token"] = page_token
        pages = adapter.api.pages("/v2/users", params=query, items_key="users")
        while True:
            adapter.calls[LIST] += 1  # counted before the call: a page that fails counts too
            page = next(pages, None)
            if page is None:
                adapter.calls[LIST] -= 1  # the listing ended without a request
                break
            found = (adapter.user(i, listed_as=status) for i in page.items if isinstance(i, dict))
            users = [u for u in found if u is not None]
            token = page.body.get("next_page_token")
            following = token if isinstance(token, str) and token else None
            last = following is None and index == len(statuses) - 1
            if following is None and not last:
                yield ListedPage(users, index + 1, None, False)
            else:
                yield ListedPage(users, index, following, last)
    if not statuses:
        yield ListedPage([], 0, None, True)
