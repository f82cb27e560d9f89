"""The simulator clock: wall time plus an offset that tests move forward."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class SimClock:
    """Wall-clock time plus an offset that tests move forward; never reads ``time`` directly.

    ``base`` is the underlying time source (``time.time`` by default; tests pass a constant
    function so that time only moves when they advance it).
    """

    def __init__(self, base: Callable[[], float] | None = None) -> None:
        self._base = base or time.time
        self._offset = 0.0

    def now(self) -> float:
        """Seconds since the epoch, as the simulator sees it."""
        return self._base() + self._offset

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds`` (never backwards) and return the new time."""
        if seconds < 0 or not math.isfinite(seconds):
            raise ValueError("the clock only moves forward")
        self._offset += seconds
        return self.now()
