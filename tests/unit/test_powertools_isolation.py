"""The local stack serves every function on threads of one process: two requests handled at once
each read their own event from Powertools' resolver (on Lambda a process serves one at a time)."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from devstack.powertools_isolation import isolate_requests_per_thread
from tests.conftest import api_event


def test_two_requests_in_flight_each_read_their_own_body() -> None:
    isolate_requests_per_thread()
    both_inside = threading.Barrier(2, timeout=10)
    first, second = APIGatewayRestResolver(), APIGatewayRestResolver()  # two functions

    def echo(app: APIGatewayRestResolver) -> dict[str, Any]:
        both_inside.wait()  # the other request has set its event by now
        return {"seen": app.current_event.json_body["n"]}

    first.post("/echo")(lambda: echo(first))
    second.post("/echo")(lambda: echo(second))

    def call(app: APIGatewayRestResolver, n: int) -> Any:
        event = api_event("POST", "/echo", body={"n": n})
        return json.loads(app.resolve(event, None)["body"])["seen"]

    with ThreadPoolExecutor(2) as pool:
        seen = list(pool.map(call, [first, second], [1, 2]))
    assert seen == [1, 2]
