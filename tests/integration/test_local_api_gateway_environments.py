"""The local API Gateway runs concurrent requests in separate execution environments, as Lambda does."""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from devstack import apigw
from devstack.template import FunctionSpec, Resolver, load_template

PATH = "/v1/organizational_unit_authorization_link_tokens"


def test_concurrent_requests_never_share_a_handler(
    aws_resolver: Resolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    both_inside = threading.Barrier(2, timeout=10)
    busy: set[int] = set()
    shared: list[int] = []
    loaded: list[int] = []
    numbers = itertools.count()

    def load_handler(spec: FunctionSpec, instance: int = 0) -> apigw.LambdaHandler:
        environment = next(numbers)
        loaded.append(environment)

        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            if environment in busy:
                shared.append(environment)
            busy.add(environment)
            both_inside.wait()  # the two requests are in a handler at the same time
            busy.discard(environment)
            return {"statusCode": 200, "body": str(environment)}

        return handler

    monkeypatch.setattr(apigw, "load_handler", load_handler)
    gateway = apigw.LocalApiGateway(load_template(), aws_resolver)
    loaded.clear()  # one environment per function was started with the gateway
    request = Request(EnvironBuilder(method="POST", path=PATH, json={}).get_environ())

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: gateway.dispatch(request), range(2)))

    assert shared == []
    assert len(loaded) == 1  # the second concurrent request started a new environment
    assert len({a.get_data(as_text=True) for a in answers}) == 2
    assert [a.status_code for a in answers] == [200, 200]
