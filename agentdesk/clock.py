"""Time source. Everything that shows or compares "now" asks a Clock, so tests and
snapshots can freeze time while the app runs on the wall clock."""

from __future__ import annotations

import time
from dataclasses import dataclass


class Clock:
    """Wall clock, in epoch seconds (UTC)."""

    def now(self) -> float:
        return time.time()


@dataclass
class FixedClock(Clock):
    """A clock that only moves when told to; used by tests and snapshots."""

    at: float

    def now(self) -> float:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += seconds
