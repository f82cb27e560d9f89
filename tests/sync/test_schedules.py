"""The dev stack's EventBridge schedules (devstack/schedules.py): expressions, the template's
Schedule events with their parameter, the event shape, and the run-now route."""

from __future__ import annotations

import httpx
import pytest

from devstack.schedules import rate_seconds, schedule_specs, scheduled_event
from devstack.template import Resolver, load_template, parameter_defaults
from tests.sync.conftest import SCHEDULE, LinkedZoom


def test_rate_expressions_and_cron() -> None:
    assert rate_seconds("rate(1 minute)") == 60
    assert rate_seconds("rate(6 hours)") == 6 * 3600
    assert rate_seconds("rate(2 days)") == 2 * 86400
    assert rate_seconds("cron(0 3 * * ? *)") is None  # on demand only
    for wrong in ("rate(0 hours)", "rate(1 fortnight)", "every hour", "rate(-1 minutes)"):
        with pytest.raises(ValueError, match="schedule expression"):
            rate_seconds(wrong)


def test_the_templates_schedule_follows_its_parameter() -> None:
    template = load_template()
    for value, interval in (
        ("rate(6 hours)", 21600.0),
        ("rate(15 minutes)", 900.0),
        ("cron(0 3 * * ? *)", None),
    ):
        refs = parameter_defaults(template, {"ConnectionSyncSchedule": value})
        (found,) = schedule_specs(template, Resolver(refs=refs))
        assert found.name == SCHEDULE and found.expression == value and found.interval == interval
    assert template["Parameters"]["ConnectionSyncSchedule"]["Default"] == "rate(6 hours)"
    (spec,) = schedule_specs(template, Resolver(refs=parameter_defaults(template)))
    event = scheduled_event(spec)
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"


def test_schedules_run_now_over_http(linked: LinkedZoom) -> None:
    api = linked.flow.info["api_url"]
    listed = httpx.get(f"{api}/_dev/schedules/run").json()
    assert (
        listed
        == {"schedules": [f"rate(6 hours) -> {SCHEDULE}"]}
        == {"schedules": linked.flow.info["schedules"]}
    )
    ran = httpx.post(f"{api}/_dev/schedules/run", params={"name": SCHEDULE}).json()
    assert ran == {"results": {SCHEDULE: {"scheduled": 1}}}
    assert httpx.post(f"{api}/_dev/schedules/run", params={"name": "Nope.Never"}).status_code == 404
