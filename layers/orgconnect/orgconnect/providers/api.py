"""The provider API client the workers use: the refresh grant, JSON calls (GET/POST/PATCH/DELETE)
and paging, over one pooled httpx client per provider origin and process, with the retry policy
of orgconnect.providers.retry and typed errors:

- AccessTokenRejected (401): refresh, then call again.
- ProviderRefused: any other 4xx, with the status and the provider's error code.
- ProviderUnavailable: network errors, 5xx and 429 still failing after the retries;
  RateLimitExhausted (a ProviderUnavailable) when a quota is used up for longer than a call waits.
- RefreshTokenRejected: ``invalid_grant`` at refresh; the connection needs reauthorization.
- ProviderAnswerMalformed: a success answer that is not the JSON the API documents.

A subclass per provider names the hosts, the token endpoint and its client authentication, where
the error code sits in an error body, the paging style, and its request categories and quotas
(orgconnect.providers.rate_limit): every API call waits for its slot in the account's limiter
first, so a long listing runs at, not above, the provider's rate limit. httpx and tenacity load on
the first request. Nothing here logs; descriptions carry no token and no body.
"""

from __future__ import annotations

import base64
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote, urlsplit

from orgconnect.domain.model import ProviderApp
from orgconnect.domain.provider_model import (
    AccessTokenRejected,
    ProviderAnswerMalformed,
    ProviderRefused,
    ProviderTokens,
    ProviderUnavailable,
    RefreshTokenRejected,
)
from orgconnect.domain.redacted import Redacted
from orgconnect.providers.answers import TokenAnswer, json_body, parse_answer
from orgconnect.providers.http_pool import Timeouts as Timeouts
from orgconnect.providers.http_pool import close_pooled_clients as close_pooled_clients
from orgconnect.providers.http_pool import origin_of as origin_of
from orgconnect.providers.http_pool import pooled_client as pooled_client
from orgconnect.providers.paging import PagingStyle, SinglePage, merge_query
from orgconnect.providers.rate_limit import (
    RateLimiter,
    RateStats,
    RateTable,
    provider_category,
    provider_rate_table,
    shared_limiter,
)

if TYPE_CHECKING:
    import httpx

    from orgconnect.providers.retry import RetryPolicy

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RATE_LIMIT_PREFIX = "x-ratelimit-"
MAX_ERROR_CODE_LENGTH = 120  # Webex's code is its message: keep descriptions short


class Page(Redacted, frozen=True):
    """One page of a list: its items and the whole decoded body."""

    __redacted__ = frozenset({"body"})

    items: list[Any]
    body: Mapping[str, Any]


class ProviderApi(ABC):
    """A provider's REST API on behalf of one connection (its tokens). Cheap to build: the HTTP
    connections live in the per-process pool. After a refresh, persist what ``refresh`` returns."""

    key: ClassVar[str]
    label: ClassVar[str]
    #: Real hosts by role; a base-URL override (the simulators) replaces all of them.
    hosts: ClassVar[dict[str, str]]
    #: The role of ``hosts`` relative paths go to unless a call names another.
    api_host: ClassVar[str] = "api"
    #: RFC 6749 client authentication at the token endpoint.
    token_auth_method: ClassVar[str] = "client_secret_post"
    paging: ClassVar[PagingStyle] = SinglePage()
    #: Where a list's items sit in a page body (None: callers name it).
    items_key: ClassVar[str | None] = None

    def __init__(
        self,
        app: ProviderApp,
        tokens: ProviderTokens | None = None,
        *,
        base_url: str | None = None,
        tenant: str | None = None,
        timeouts: Timeouts | None = None,
        retry_policy: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], Any] = time.sleep,
        clock: Callable[[], float] = time.time,
        rate_plan: str | None = None,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        self.app = app
        self.tokens = tokens
        self.tenant = tenant
        self.timeouts = timeouts or Timeouts()
        self.retry_policy = retry_policy
        self._base_url = base_url.rstrip("/") if base_url else None
        self._transport = transport
        self._sleep = sleep
        self._clock = clock
        #: The ``X-RateLimit-*`` headers of the last answer (lower-case names), for pacing.
        self.last_rate_limit: dict[str, str] = {}
        #: The account's plan as the provider names it (Zoom: free, pro, business); None: unknown.
        self.rate_plan = rate_plan
        #: Paces this client's API calls; private unless ``limit_rate`` shares the account's one.
        self.rate_limiter = rate_limiter or RateLimiter(
            self.rate_table(rate_plan), label=self.label, clock=clock, sleep=sleep
        )
        #: Requests sent, 429s seen and seconds paced by this client (a sync reports them).
        self.rate_stats = RateStats()

    # -- per provider ------------------------------------------------------------------------

    def host(self, role: str) -> str:
        """The base URL of a host role."""
        return self._base_url or self.hosts[role]

    @abstractmethod
    def token_url(self) -> str:
        """The token endpoint the refresh grant goes to."""

    def error_code(self, body: Mapping[str, Any]) -> str | None:
        """The provider's error code in an error body (None: not found)."""
        return None

    def rate_table(self, plan: str | None) -> RateTable | None:
        """The provider's quotas for a plan (None: none published; only its 429s are honoured)."""
        return provider_rate_table(self.key, plan)

    def rate_category(self, method: str, path: str) -> str:
        """The request category a call counts against (Zoom: Light, Medium, Heavy...)."""
        return provider_category(self.key, method, path)

    def limit_rate(self, account_id: str, plan: str | None = None) -> RateLimiter:
        """Pace this client with the process's limiter of the provider account ``account_id`` (so
        every client of that account in this process shares one window), set to ``plan`` when
        given or known to this client; else it keeps the plan another client set (first use: the
        provider's conservative default)."""
        if plan is not None:
            self.rate_plan = plan
        self.rate_limiter = shared_limiter(
            self.key,
            account_id,
            self.rate_table(self.rate_plan) if self.rate_plan is not None else None,
            default=self.rate_table(None),
            label=self.label,
            clock=self._clock,
            sleep=self._sleep,
        )
        return self.rate_limiter

    def auth_headers(self, access_token: str) -> dict[str, str]:
        """How an API call carries the access token (always a header, never the URL)."""
        return {"Authorization": f"Bearer {access_token}"}

    # -- calls -------------------------------------------------------------------------------

    def get(self, path: str, *, params: Mapping[str, str] | None = None, host: str | None = None) -> Any:
        """GET JSON."""
        return self.call("GET", path, params=params, host=host)

    def post(
        self, path: str, json: Any = None, *, params: Mapping[str, str] | None = None, host: str | None = None
    ) -> Any:
        """POST JSON (network errors after sending are not retried: it might have been done)."""
        return self.call("POST", path, json=json, params=params, host=host)

    def patch(
        self, path: str, json: Any = None, *, params: Mapping[str, str] | None = None, host: str | None = None
    ) -> Any:
        """PATCH JSON."""
        return self.call("PATCH", path, json=json, params=params, host=host)

    def delete(self, path: str, *, params: Mapping[str, str] | None = None, host: str | None = None) -> Any:
        """DELETE."""
        return self.call("DELETE", path, params=params, host=host)

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        host: str | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """One API call: the decoded JSON answer, None when the answer has no body (204)."""
        response = self._api_call(
            method, self.url(path, host), json=json, params=params, idempotent=idempotent
        )
        if not response.content:
            return None
        return json_body(response, what=f"{self.label} {method} {urlsplit(str(response.url)).path}")

    def pages(
        self,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        items_key: str | None = None,
        host: str | None = None,
    ) -> Iterator[Page]:
        """The pages of a list, fetched one at a time as they are consumed."""
        key = items_key or self.items_key
        if key is None:
            raise ValueError(f"{self.label}: name the items_key of {path}")
        url, query = self.url(path, host), dict(params or {})
        while True:
            response = self._api_call("GET", merge_query(url, query), idempotent=True)
            what = f"{self.label} GET {urlsplit(url).path}"
            body = json_body(response, what=what)
            if not isinstance(body, dict):
                raise ProviderAnswerMalformed(f"{what}: the page is not a JSON object")
            items = body.get(key, [])
            if not isinstance(items, list):
                raise ProviderAnswerMalformed(f"{what}: {key} is not a list")
            yield Page(items=items, body=body)
            following = self.paging.next_request(url, query, body, response.links)
            if following is None:
                return
            if following == (url, query):
                raise ProviderAnswerMalformed(f"{what}: the next page is this page again")
            url, query = following
            self._check_origin(url, what=what)

    def url(self, path: str, host: str | None = None) -> str:
        """An absolute URL for a path on a host role (absolute URLs must be the provider's)."""
        if path.startswith(("https://", "http://")):
            self._check_origin(path, what=f"{self.label} call")
            return path
        return self.host(host or self.api_host) + path

    def _check_origin(self, url: str, *, what: str) -> None:
        allowed = (
            {origin_of(self._base_url)} if self._base_url else {origin_of(h) for h in self.hosts.values()}
        )
        if origin_of(url) not in allowed:
            raise ProviderAnswerMalformed(f"{what}: a link leads outside {self.label}")

    # -- refresh -----------------------------------------------------------------------------

    def refresh(self, refresh_token: str | None = None) -> ProviderTokens:
        """The refresh grant. Returns the new tokens and keeps them for the next calls; persist
        them: Zoom and Microsoft rotate the refresh token (the old one stops working), Google
        does not (the answer has none, so the one used stays current)."""
        current = refresh_token or (self.tokens.refresh_token if self.tokens else None)
        what = f"{self.label} refresh"
        if not current:
            raise RefreshTokenRejected(f"{what}: no refresh token is held", error="invalid_grant")
        form = {"grant_type": "refresh_token", "refresh_token": current}
        headers = {"Accept": "application/json"}
        if self.token_auth_method == "client_secret_basic":
            pair = f"{quote(self.app.client_id, safe='')}:{quote(self.app.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form.update(client_id=self.app.client_id, client_secret=self.app.client_secret)
        # Not idempotent: a lost answer may already have retired a rotating refresh token.
        response = self._send("POST", self.token_url(), data=form, headers=headers, idempotent=False)
        if response.is_success:
            answer = parse_answer(TokenAnswer, json_body(response, what=what), what=what)
            self.tokens = answer.tokens(keep_refresh_token=current, held=self.tokens, now=self._clock())
            return self.tokens
        error = _oauth_error(response)
        description = f"{what}: {self.label} answered {response.status_code}" + (
            f" ({error})" if error else ""
        )
        if error == "invalid_grant":
            raise RefreshTokenRejected(description, error=error, status=response.status_code)
        raise ProviderRefused(
            description, error=error or f"http_{response.status_code}", status=response.status_code
        )

    # -- transport ---------------------------------------------------------------------------

    def _api_call(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        if self.tokens is None:
            raise AccessTokenRejected(f"{self.label}: no access token is held", error="no_token", status=None)
        headers = {"Accept": "application/json", **self.auth_headers(self.tokens.access_token)}
        if idempotent is None:
            idempotent = method.upper() in IDEMPOTENT_METHODS
        category = self.rate_category(method.upper(), urlsplit(url).path)
        response = self._send(
            method, url, json=json, params=params, headers=headers, idempotent=idempotent, category=category
        )
        if response.is_success:
            return response
        code = self._error_code(response)
        description = f"{self.label} {method} {urlsplit(url).path} answered {response.status_code}" + (
            f" ({code})" if code else ""
        )
        if response.status_code == 401:
            raise AccessTokenRejected(description, error=code or "http_401", status=401)
        raise ProviderRefused(
            description, error=code or f"http_{response.status_code}", status=response.status_code
        )

    def _send(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        idempotent: bool,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        category: str | None = None,
    ) -> httpx.Response:
        """One request under the retry policy; 5xx and 429 after the retries -> ProviderUnavailable.
        With a ``category`` (API calls; not the token endpoint) each attempt first waits for its
        slot in the rate limiter, and the answer's rate-limit headers go back to it."""
        import httpx

        from orgconnect.providers.retry import DEFAULT_POLICY, TransientAnswer, parse_retry_after, retrying

        client = pooled_client(origin_of(url), self._transport)
        timeout = self.timeouts.for_httpx()
        policy = self.retry_policy or DEFAULT_POLICY
        limiter, stats = self.rate_limiter, self.rate_stats
        served: list[str | None] = [None]  # the category whose Retry-After tenacity has just waited

        def attempt() -> httpx.Response:
            if category is not None:
                stats.paced_seconds += limiter.acquire(category, served_hold=served[0])
                stats.requests_by_category[category] += 1
            stats.requests += 1
            response = client.request(
                method, url, params=params, json=json, data=data, headers=headers, timeout=timeout
            )
            self.last_rate_limit = {
                name: value for name, value in response.headers.items() if name.startswith(RATE_LIMIT_PREFIX)
            }
            status, served[0] = response.status_code, None
            if status >= 500 or status == 429:
                wait = parse_retry_after(response.headers.get("retry-after"), now=self._clock())
                answer = None
                if status == 429:
                    stats.rate_limited += 1
                    stats.rate_limited_by_category[category or "token"] += 1
                    if category is not None:
                        answer = limiter.observe(category, status, self.last_rate_limit, retry_after=wait)
                    if answer is not None and wait is not None and wait <= policy.max_retry_after:
                        served[0] = answer.category
                raise TransientAnswer(response, wait, rate_limit=answer)
            if category is not None and self.last_rate_limit:
                limiter.observe(category, status, self.last_rate_limit, retry_after=None)
            return response

        where = f"{self.label} {method} {urlsplit(url).path}"
        try:
            return retrying(policy, idempotent=idempotent, sleep=self._sleep)(attempt)
        except TransientAnswer as transient:
            status = transient.response.status_code
            answer = transient.rate_limit
            if answer is not None and (answer.daily or (answer.retry_after or 0) > policy.max_retry_after):
                raise limiter.exhausted(answer) from None  # used up for longer than a call waits
            raise ProviderUnavailable(
                f"{where} answered {status}", status=status, retry_after=transient.retry_after
            ) from None
        except httpx.TransportError as error:
            raise ProviderUnavailable(f"{where}: {type(error).__name__}") from None

    def _error_code(self, response: httpx.Response) -> str | None:
        try:
            body = response.json()
        except ValueError:
            return None
        code = self.error_code(body) if isinstance(body, dict) else None
        return code[:MAX_ERROR_CODE_LENGTH] if code else None


def _oauth_error(response: httpx.Response) -> str | None:
    """The RFC 6749 ``error`` of a token endpoint's error answer."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) and error else None
