"""Snooze presets as times: "30m", "2h", "tomorrow" (and any "<n>m", "<n>h", "<n>d").

"tomorrow" is 09:00 on the next calendar day in the agent's time zone – when the shop's
day shift starts – computed on the calendar, not as now + 24 h, so it is right across
midnight and on days a daylight-saving zone has 23 or 25 hours.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta, tzinfo

PRESETS = ("30m", "2h", "tomorrow")
#: When "tomorrow" starts (local time).
MORNING = time(9, 0)

_DURATION = re.compile(r"(\d+)([mhd])")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}


def snooze_until(preset: str, now: float, tz: tzinfo | None = None) -> float:
    """Epoch seconds the preset ends at. ``tz`` defaults to the local zone.

    Raises ValueError for an unknown preset.
    """
    preset = preset.strip().lower()
    if preset == "tomorrow":
        return tomorrow_morning(now, tz)
    m = _DURATION.fullmatch(preset)
    if m is None or int(m.group(1)) == 0:
        raise ValueError(f"unknown snooze preset {preset!r} (try {', '.join(PRESETS)})")
    return now + int(m.group(1)) * _UNIT_SECONDS[m.group(2)]


def presets(
    now: float, tz: tzinfo | None = None, labels: dict[str, str] | None = None
) -> list[tuple[str, str, float]]:
    """(key, label, until) for each preset, as the snooze picker lists them. ``labels``
    maps a key to the UI's words for it (the core has no language); default: the key."""
    labels = labels or {}
    return [(key, labels.get(key, key), snooze_until(key, now, tz)) for key in PRESETS]


def tomorrow_morning(now: float, tz: tzinfo | None = None) -> float:
    """09:00 on the calendar day after ``now`` in ``tz`` (local time if None)."""
    today = datetime.fromtimestamp(now, tz).date()
    # A naive datetime's .timestamp() uses the local zone's rules for *that* date.
    return datetime.combine(today + timedelta(days=1), MORNING, tzinfo=tz).timestamp()
