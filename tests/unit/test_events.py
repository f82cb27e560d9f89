"""events/ has one sample per route of template.yaml, and each matches its route."""

from __future__ import annotations

import json
from pathlib import Path

from devstack.template import functions, load_template

EVENTS = Path(__file__).resolve().parents[2] / "events"


def test_one_sample_event_per_route() -> None:
    routes = {(s.logical_id, r.method, r.path) for s in functions(load_template()) for r in s.routes}
    found = set()
    for path in EVENTS.glob("*.json"):
        function = path.name.split(".")[0]
        event = json.loads(path.read_text())
        assert event["requestContext"]["stage"] == "live"
        assert event["resource"] == event["requestContext"]["resourcePath"]
        found.add((function, event["httpMethod"], event["resource"]))
    assert found == routes
