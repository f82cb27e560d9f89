"""A fake clock for the rate-limit tests: nothing really waits, a sleep moves the clock."""

from __future__ import annotations


class SleepingClock:
    """Epoch seconds that only move when something sleeps (``sleep``) or a test sets ``now``."""

    def __init__(self, start: float) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
