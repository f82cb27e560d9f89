"""Provider simulators: a registry and a starter.

``SIMULATORS`` maps provider names to ``"module:Class"`` paths, imported lazily so that a
provider whose module does not exist yet never breaks ``import devstack.simulators``.

Every simulator class is constructed as ``Cls(demo, *, seed=..., clock=None, **options)``.

>>> started = start_simulators(["zoom"])            # doctest: +SKIP
>>> started["zoom"].base_url, started["zoom"].dev_info()["account_id"]  # doctest: +SKIP
>>> stop_simulators(started)                         # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import logging
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from devstack.servers import RunningServer, serve_wsgi
from devstack.simulators.common import Simulator
from devstack.simulators.demo import DemoDirectory, build_demo_directory

logger = logging.getLogger(__name__)

SIMULATORS: dict[str, str] = {
    "zoom": "devstack.simulators.zoom:ZoomSimulator",
    "microsoft": "devstack.simulators.microsoft:MicrosoftSimulator",
    "google": "devstack.simulators.google:GoogleSimulator",
    "webex": "devstack.simulators.webex:WebexSimulator",
    "indeed": "devstack.simulators.indeed:IndeedSimulator",
}


class SimulatorUnavailable(LookupError):
    """The provider is unknown, or its module has not been written yet."""


@dataclass
class StartedSimulator:
    """A simulator serving on 127.0.0.1."""

    name: str
    simulator: Simulator
    server: RunningServer

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return self.server.url

    def dev_info(self) -> dict[str, Any]:
        """The ``simulators.<name>`` block of ``.orgconnect/dev.json``."""
        return self.simulator.dev_info(self.base_url)

    def stop(self) -> None:
        """Release held requests, then stop the server."""
        self.simulator.release_held_requests()
        self.server.stop()


def load_simulator_class(name: str) -> type[Simulator]:
    """Import the simulator class registered under ``name``.

    Raises ``SimulatorUnavailable`` when the name is unknown or its module does not exist.
    """
    try:
        dotted = SIMULATORS[name]
    except KeyError:
        raise SimulatorUnavailable(f"unknown provider {name!r}; known: {sorted(SIMULATORS)}") from None
    module_name, _, class_name = dotted.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:  # a missing dependency inside an existing module is a real bug
            raise
        raise SimulatorUnavailable(f"{module_name} does not exist yet") from exc
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Simulator)):
        raise SimulatorUnavailable(f"{dotted} is not a Simulator class")
    return cls


def available_simulators() -> list[str]:
    """Provider names whose simulator module can be imported now."""
    names = []
    for name in SIMULATORS:
        try:
            load_simulator_class(name)
        except SimulatorUnavailable:
            continue
        names.append(name)
    return names


def build_simulator(
    name: str,
    *,
    demo: DemoDirectory | None = None,
    seed: int = 7,
    options: Mapping[str, Any] | None = None,
) -> Simulator:
    """Construct (without serving) the simulator registered under ``name``."""
    cls = load_simulator_class(name)
    return cls(
        demo if demo is not None else build_demo_directory(seed=seed), seed=seed, **dict(options or {})
    )


def start_simulators(
    names: Iterable[str] | None = None,
    *,
    demo: DemoDirectory | None = None,
    seed: int = 7,
    ports: Mapping[str, int] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, StartedSimulator]:
    """Build and serve simulators on 127.0.0.1, one server each.

    ``names`` defaults to every registered provider; a provider whose module does not exist yet
    is skipped with a warning. ``ports`` maps a name to a fixed port (default: a free port).
    ``options`` maps a name to keyword options for its constructor. All simulators share one
    demo directory (built from ``seed`` unless given).
    """
    demo = demo if demo is not None else build_demo_directory(seed=seed)
    started: dict[str, StartedSimulator] = {}
    try:
        for name in names if names is not None else SIMULATORS:
            try:
                simulator = build_simulator(name, demo=demo, seed=seed, options=(options or {}).get(name))
            except SimulatorUnavailable as exc:
                warnings.warn(f"simulator {name!r} skipped: {exc}", RuntimeWarning, stacklevel=2)
                logger.warning("simulator %s skipped: %s", name, exc)
                continue
            server = serve_wsgi(simulator, name=f"sim-{name}", port=(ports or {}).get(name, 0))
            started[name] = StartedSimulator(name=name, simulator=simulator, server=server)
    except BaseException:
        stop_simulators(started)
        raise
    return started


def stop_simulators(started: Mapping[str, StartedSimulator]) -> None:
    """Stop every started simulator (each one independently; one failure does not stop the rest)."""
    for name, item in started.items():
        try:
            item.stop()
        except Exception:  # a failing stop must not leave the others running
            logger.exception("stopping simulator %s failed", name)


__all__ = [
    "SIMULATORS",
    "SimulatorUnavailable",
    "StartedSimulator",
    "available_simulators",
    "build_simulator",
    "load_simulator_class",
    "start_simulators",
    "stop_simulators",
]
