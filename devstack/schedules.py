"""EventBridge schedules, locally: the template's ``Type: Schedule`` events invoke their function
with a ``Scheduled Event`` at their rate, under the function's local IAM policy.

``rate(N minute|minutes|hour|hours|day|days)`` runs every N units from start-up (the first run
one interval after start, as EventBridge does); ``cron(...)`` expressions are not timed locally
and run only on demand. Any schedule runs now with :meth:`Schedules.run_now` (tests) or
``POST /_dev/schedules/run`` (``?name=Function.Event`` for one; every schedule without it).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from devstack import iam
from devstack.apigw import LambdaContext, load_handler
from devstack.aws import ACCOUNT_ID, REGION
from devstack.lambda_environments import ExecutionEnvironments
from devstack.template import FunctionSpec, Resolver, functions

log = logging.getLogger("devstack.schedules")
_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def rate_seconds(expression: str) -> float | None:
    """The interval of a ``rate(...)`` expression (None for ``cron(...)``); ValueError otherwise."""
    text = expression.strip()
    if text.startswith("cron(") and text.endswith(")"):
        return None
    found = re.fullmatch(r"rate\(\s*(\d+)\s+([a-z]+)\s*\)", text)
    if not found or found.group(2) not in _UNITS or int(found.group(1)) < 1:
        raise ValueError(f"not an EventBridge schedule expression: {expression!r}")
    return int(found.group(1)) * _UNITS[found.group(2)]


@dataclass(frozen=True)
class ScheduleSpec:
    """One ``Type: Schedule`` event of one function."""

    spec: FunctionSpec
    event: str
    expression: str
    interval: float | None
    enabled: bool = True

    @property
    def name(self) -> str:
        return f"{self.spec.logical_id}.{self.event}"


def schedule_specs(template: Mapping[str, Any], resolver: Resolver) -> list[ScheduleSpec]:
    """Every Schedule event of the template, its expression resolved (parameters included)."""
    found = []
    for spec in functions(template):
        for event_name, event in spec.events.items():
            if event.get("Type") != "Schedule":
                continue
            props = event.get("Properties", {})
            expression = str(resolver.resolve(props["Schedule"]))
            enabled = str(resolver.resolve(props.get("Enabled", True))).lower() != "false"
            found.append(ScheduleSpec(spec, event_name, expression, rate_seconds(expression), enabled))
    return found


def scheduled_event(schedule: ScheduleSpec) -> dict[str, Any]:
    """The event EventBridge sends for a schedule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{schedule.name}"],
        "detail": {},
    }


@dataclass
class _Running:
    schedule: ScheduleSpec
    policy: iam.Policy
    environments: ExecutionEnvironments
    runs: int = 0
    last_result: Any = None


@dataclass
class Schedules:
    """The stack's schedules: one timer thread per rate schedule; :meth:`stop` ends them."""

    running: dict[str, _Running] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def run_now(self, name: str | None = None) -> dict[str, Any]:
        """Invoke one schedule's function (or each) now, synchronously; results by name."""
        chosen = [r for n, r in self.running.items() if name in (None, n)]
        if name is not None and not chosen:
            raise KeyError(f"no schedule {name}; known: {sorted(self.running)}")
        return {r.schedule.name: self._invoke(r) for r in chosen}

    def _invoke(self, run: _Running) -> Any:
        with run.environments.invocation() as handler, iam.acting_as(run.policy):
            result = handler(scheduled_event(run.schedule), LambdaContext(run.schedule.spec))
        run.runs += 1
        run.last_result = result
        return result

    def _timer(self, run: _Running) -> None:
        interval = run.schedule.interval
        assert interval is not None
        while not self._stop.wait(interval):
            try:
                self._invoke(run)
            except Exception:  # as on AWS, a failed scheduled invocation is logged, the schedule goes on
                log.exception("schedule %s failed", run.schedule.name)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)
        self._threads = []

    def describe(self) -> list[str]:
        """A line per schedule, for dev.json and the start-up summary."""
        return [
            f"{r.schedule.expression} -> {r.schedule.name}"
            + ("" if r.schedule.enabled and r.schedule.interval else " (on demand only)")
            for r in self.running.values()
        ]

    def http_route(self, request: Any) -> Any:
        """``POST /_dev/schedules/run[?name=Function.Event]``: run now, answer the results."""
        from werkzeug.wrappers import Response

        if request.method != "POST":
            return Response(json.dumps({"schedules": self.describe()}), content_type="application/json")
        try:
            results = self.run_now(request.args.get("name"))
        except KeyError as unknown:
            return Response(json.dumps({"error": str(unknown)}), status=404, content_type="application/json")
        return Response(json.dumps({"results": results}, default=str), content_type="application/json")


def start_schedules(template: Mapping[str, Any], resolver: Resolver) -> Schedules:
    """The template's schedules, their rate timers started."""
    policies = iam.policies(template, resolver)
    iam.install()
    schedules = Schedules()
    for schedule in schedule_specs(template, resolver):
        run = _Running(
            schedule,
            policies[schedule.spec.logical_id],
            # Its own module copies: the function's SQS poller loads instance 0, 1, ...
            ExecutionEnvironments(schedule.spec, lambda spec, i: load_handler(spec, 1000 + i)),
        )
        schedules.running[schedule.name] = run
        if schedule.enabled and schedule.interval is not None:
            thread = threading.Thread(
                target=schedules._timer, args=(run,), name=f"schedule-{schedule.name}", daemon=True
            )
            thread.start()
            schedules._threads.append(thread)
    return schedules
