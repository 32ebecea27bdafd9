"""How times read on screen: short, fixed-width-ish, in the machine's local zone."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def duration(seconds: float) -> str:
    """A waiting time: ``45s``, ``3:07``, ``1h05``, ``2d03h``."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}:{s % 60:02d}"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}"
    return f"{s // 86400}d{(s % 86400) // 3600:02d}h"


def clock(ts: float, now: float) -> str:
    """``14:32`` today, ``11-20 14:32`` on another day this year, else ``2025-11-20``."""
    t, n = time.localtime(ts), time.localtime(now)
    if (t.tm_year, t.tm_yday) == (n.tm_year, n.tm_yday):
        return time.strftime("%H:%M", t)
    if t.tm_year == n.tm_year:
        return time.strftime("%m-%d %H:%M", t)
    return time.strftime("%Y-%m-%d", t)


def date(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(ts))


def day(ts: float, now: float) -> str:
    """``14:32`` today, else ``11-20`` this year, else ``2025-11-20``: for short lists."""
    t, n = time.localtime(ts), time.localtime(now)
    if (t.tm_year, t.tm_yday) == (n.tm_year, n.tm_yday):
        return time.strftime("%H:%M", t)
    return time.strftime("%m-%d" if t.tm_year == n.tm_year else "%Y-%m-%d", t)


def rfc3339(ts: float | None) -> str | None:
    """UTC with milliseconds and a Z: the form the shop API reads and writes."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
