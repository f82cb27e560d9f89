"""Paging over each provider's cursor style, one page fetched at a time, against scripted answers."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from orgconnect.domain.model import ProviderApp
from orgconnect.domain.provider_model import ProviderAnswerMalformed, ProviderTokens
from orgconnect.providers.api import close_pooled_clients
from orgconnect.providers.google import GoogleApi
from orgconnect.providers.indeed import IndeedApi
from orgconnect.providers.microsoft import GraphApi
from orgconnect.providers.webex import WebexApi
from orgconnect.providers.zoom import ZoomApi

BASE = "https://provider.test"
APP = ProviderApp("client-1", "secret-1")
TOKENS = ProviderTokens(access_token="at-0")
Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(autouse=True)
def _fresh_pool() -> Iterator[None]:
    yield
    close_pooled_clients()


class Recorder:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.urls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        return self.handler(request)


def transport(handler: Handler) -> tuple[httpx.MockTransport, Recorder]:
    recorder = Recorder(handler)
    return httpx.MockTransport(recorder), recorder


def test_zoom_sends_next_page_token_back_until_it_is_empty() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("next_page_token", "")
        following = {"": "p2", "p2": "p3", "p3": ""}[token]
        return httpx.Response(200, json={"users": [token or "p1"], "next_page_token": following})

    mock, seen = transport(handler)
    client = ZoomApi(APP, TOKENS, base_url=BASE, transport=mock)
    pages = list(client.pages("/v2/users", params={"status": "active"}, items_key="users"))
    assert [page.items for page in pages] == [["p1"], ["p2"], ["p3"]]
    assert seen.urls == [
        f"{BASE}/v2/users?status=active",
        f"{BASE}/v2/users?status=active&next_page_token=p2",
        f"{BASE}/v2/users?status=active&next_page_token=p3",
    ]


def test_google_sends_next_page_token_back_as_page_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("pageToken") == "t2":
            return httpx.Response(200, json={"users": [{"id": "b"}]})  # last page: no token, no more
        return httpx.Response(200, json={"users": [{"id": "a"}], "nextPageToken": "t2"})

    mock, seen = transport(handler)
    client = GoogleApi(APP, TOKENS, base_url=BASE, transport=mock)
    items = [
        u["id"] for page in client.pages("/admin/directory/v1/users", items_key="users") for u in page.items
    ]
    assert items == ["a", "b"]
    assert seen.urls[1] == f"{BASE}/admin/directory/v1/users?pageToken=t2"


def test_graph_follows_next_link_as_given() -> None:
    link = f"{BASE}/v1.0/users?$top=1&$skiptoken=abc"

    def handler(request: httpx.Request) -> httpx.Response:
        if "skiptoken" in str(request.url):
            return httpx.Response(200, json={"value": [2]})
        return httpx.Response(200, json={"value": [1], "@odata.nextLink": link})

    mock, seen = transport(handler)
    pages = list(
        GraphApi(APP, TOKENS, base_url=BASE, transport=mock).pages("/v1.0/users", params={"$top": "1"})
    )
    assert [page.items for page in pages] == [[1], [2]]
    assert seen.urls[1] == link


def test_webex_follows_the_link_header_and_repairs_its_quirks() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        if after is None:
            # Webex's quirk: max=null and the displayName filter dropped from the next URL.
            link = f'<{BASE}/v1/people?max=null&before&after=c1>; rel="next"'
            return httpx.Response(200, json={"items": ["a"]}, headers={"Link": link})
        return httpx.Response(200, json={"items": ["b"]})

    mock, seen = transport(handler)
    client = WebexApi(APP, TOKENS, base_url=BASE, transport=mock)
    pages = list(client.pages("/v1/people", params={"displayName": "Ha", "max": "10"}))
    assert [page.items for page in pages] == [["a"], ["b"]]
    second = httpx.URL(seen.urls[1])
    assert second.params.get("after") == "c1"
    assert second.params.get("max") == "10"
    assert second.params.get("displayName") == "Ha"


def test_pages_are_fetched_only_as_they_are_consumed() -> None:
    mock, seen = transport(lambda _: httpx.Response(200, json={"value": [1], "@odata.nextLink": f"{BASE}/n"}))
    pages = GraphApi(APP, TOKENS, base_url=BASE, transport=mock).pages("/v1.0/users")
    assert seen.urls == []
    next(pages)
    assert len(seen.urls) == 1


def test_a_next_link_to_another_host_is_not_followed() -> None:
    mock, seen = transport(
        lambda _: httpx.Response(200, json={"value": [1], "@odata.nextLink": "https://evil.test/v1.0/users"})
    )
    pages = GraphApi(APP, TOKENS, base_url=BASE, transport=mock).pages("/v1.0/users")
    assert next(pages).items == [1]
    with pytest.raises(ProviderAnswerMalformed):
        next(pages)
    assert len(seen.urls) == 1


def test_a_cursor_that_does_not_advance_is_malformed() -> None:
    mock, seen = transport(lambda _: httpx.Response(200, json={"users": [], "next_page_token": "same"}))
    client = ZoomApi(APP, TOKENS, base_url=BASE, transport=mock)
    with pytest.raises(ProviderAnswerMalformed):
        list(client.pages("/v2/users", items_key="users"))
    assert len(seen.urls) == 2


@pytest.mark.parametrize("body", [[1, 2], {"value": {"a": 1}}])
def test_a_page_of_the_wrong_shape_is_malformed(body: object) -> None:
    mock, _ = transport(lambda _: httpx.Response(200, json=body))
    with pytest.raises(ProviderAnswerMalformed):
        list(GraphApi(APP, TOKENS, base_url=BASE, transport=mock).pages("/v1.0/users"))


def test_a_list_without_its_items_key_is_an_empty_page() -> None:
    mock, _ = transport(lambda _: httpx.Response(200, json={"kind": "admin#directory#users"}))
    pages = list(GoogleApi(APP, TOKENS, base_url=BASE, transport=mock).pages("/x", items_key="users"))
    assert [page.items for page in pages] == [[]]


def test_a_provider_without_a_standard_items_key_needs_one_named() -> None:
    mock, seen = transport(lambda _: httpx.Response(200, json={}))
    with pytest.raises(ValueError, match="items_key"):
        next(IndeedApi(APP, TOKENS, base_url=BASE, transport=mock).pages("/v1/users"))
    assert seen.urls == []
