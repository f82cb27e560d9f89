"""The cursor styles of the providers' list endpoints. Each says, from one page's answer, which
request fetches the next page (None: this was the last one)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from msgspec import Struct

Query = dict[str, str]


class PagingStyle(Protocol):
    """How a provider points at the next page."""

    def next_request(
        self, url: str, query: Query, body: Mapping[str, Any], links: Mapping[str | None, Mapping[str, str]]
    ) -> tuple[str, Query] | None:
        """The next page's URL and query, from this page's request, body and ``Link`` header."""
        ...


def merge_query(url: str, query: Query) -> str:
    """``url`` with ``query`` set over its own parameters (a URL without changes stays as is)."""
    if not query:
        return url
    parts = urlsplit(url)
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in query]
    return urlunsplit(parts._replace(query=urlencode([*pairs, *query.items()])))


class TokenInBody(Struct, frozen=True):
    """A cursor in the body sent back as a query parameter: Zoom ``next_page_token`` (an empty
    string when done), Google ``nextPageToken`` -> ``pageToken``."""

    body_field: str
    query_param: str

    def next_request(
        self, url: str, query: Query, body: Mapping[str, Any], links: Mapping[str | None, Mapping[str, str]]
    ) -> tuple[str, Query] | None:
        token = body.get(self.body_field)
        if not isinstance(token, str) or not token:
            return None
        return url, {**query, self.query_param: token}


class NextLinkInBody(Struct, frozen=True):
    """An absolute next-page URL in the body: Microsoft Graph ``@odata.nextLink`` (it carries the
    whole query, ``$skiptoken`` included)."""

    body_field: str = "@odata.nextLink"

    def next_request(
        self, url: str, query: Query, body: Mapping[str, Any], links: Mapping[str | None, Mapping[str, str]]
    ) -> tuple[str, Query] | None:
        link = body.get(self.body_field)
        if not isinstance(link, str) or not link:
            return None
        return link, {}


class LinkHeader(Struct, frozen=True):
    """RFC 8288 ``Link: <...>; rel="next"`` (Webex). Webex sometimes sends ``max=null`` or drops
    the original filters from the next URL (WebexPythonSDK's ``_fix_next_url``): the bad ``max``
    is dropped and the first request's query is sent along again."""

    def next_request(
        self, url: str, query: Query, body: Mapping[str, Any], links: Mapping[str | None, Mapping[str, str]]
    ) -> tuple[str, Query] | None:
        link = links.get("next", {}).get("url")
        if not link:
            return None
        parts = urlsplit(link)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        kept = [(key, value) for key, value in pairs if not (key == "max" and value == "null")]
        # The original query goes along again, over the link's own (see merge_query).
        return urlunsplit(parts._replace(query=urlencode(kept))), dict(query)


class SinglePage(Struct, frozen=True):
    """Endpoints without paging."""

    def next_request(
        self, url: str, query: Query, body: Mapping[str, Any], links: Mapping[str | None, Mapping[str, str]]
    ) -> tuple[str, Query] | None:
        return None
