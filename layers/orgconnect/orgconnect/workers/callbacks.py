"""POST a JSON body to an integrator's callback URL, with bounded retries and backoff (tenacity);
``post_with_retries`` serves the notifications worker too.

Retried: network errors, 5xx, 429 and 408. Not retried: any other answer that is not 2xx (the
integrator refused it; the message then fails and SQS decides, bounded by maxReceiveCount).
Redirects are never followed. Nothing logs the body (it carries an authorization code).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from msgspec import Struct
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from orgconnect.providers.api import origin_of, pooled_client

USER_AGENT = "orgconnect-delegated-access/1"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"


class CallbackUndeliverable(Exception):
    """The callback URL did not take the body after the retries."""


class _Transient(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


class CallbackPolicy(Struct, frozen=True):
    """How hard a callback is tried within one invocation (attempts include the first)."""

    attempts: int = 3
    backoff_initial: float = 0.5
    backoff_max: float = 4.0
    timeout: float = 5.0


def deliver_callback(
    url: str,
    body: dict[str, Any],
    *,
    policy: CallbackPolicy,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], Any] = time.sleep,
) -> None:
    """POST ``body`` as JSON to ``url``; CallbackUndeliverable when it never got a 2xx."""
    post_with_retries(
        url,
        target="the callback URL",
        user_agent=USER_AGENT,
        json=body,
        policy=policy,
        transport=transport,
        sleep=sleep,
    )


def post_with_retries(
    url: str,
    *,
    target: str,
    user_agent: str,
    policy: CallbackPolicy,
    json: Any = None,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], Any] = time.sleep,
) -> None:
    """POST ``json`` (or the ready ``content``) to ``url``, retried per ``policy`` on network errors,
    5xx, 408 and 429; never follows a redirect. CallbackUndeliverable naming ``target`` (``the
    callback URL``) when it never got a 2xx."""
    client = pooled_client(origin_of(url), transport)

    def attempt() -> None:
        response = client.post(
            url,
            json=json,
            content=content,
            headers={"User-Agent": user_agent, "Content-Type": JSON_CONTENT_TYPE, **(headers or {})},
            timeout=policy.timeout,
            follow_redirects=False,
        )
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise _Transient(response.status_code)
        if not response.is_success:
            raise CallbackUndeliverable(f"{target} answered {response.status_code}")

    retrying = Retrying(
        retry=retry_if_exception(lambda e: isinstance(e, (_Transient, httpx.TransportError))),
        stop=stop_after_attempt(policy.attempts),
        wait=wait_random_exponential(multiplier=policy.backoff_initial, max=policy.backoff_max),
        sleep=sleep,
        reraise=True,
    )
    try:
        retrying(attempt)
    except _Transient as transient:
        raise CallbackUndeliverable(f"{target} answered {transient.status}") from None
    except httpx.TransportError as error:
        raise CallbackUndeliverable(f"{target} was unreachable ({type(error).__name__})") from None
