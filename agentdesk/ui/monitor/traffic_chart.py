"""Customer messages per hour: today beside the 7-day average, for shift planning.

Two bars per hour on one shared scale (Textual's Sparkline scales each series to its
own maximum, so today and the average could not be compared by height). Bars are
drawn in eighth blocks; hours still to come today are left empty.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.console import Group
from rich.text import Text
from textual.widget import Widget

from agentdesk.i18n import Catalog
from agentdesk.workflow.kpi import Traffic

BLOCKS = " ▁▂▃▄▅▆▇█"
TODAY, AVERAGE, NOW = "#5fd7ff", "grey50", "bold #ffd75f"
HOUR_WIDTH = 3  # today's bar, the average's bar, a gap
AXIS = 5  # the scale labels on the left


def bar_rows(today: list[float], average: list[float], height: int, current_hour: int) -> list[Text]:
    """``height`` lines of bars, top line first, on one scale (the larger maximum)."""
    top = max(max(today, default=0), max(average, default=0), 1)
    rows: list[Text] = []
    for r in range(height):
        level_from_bottom = height - 1 - r
        line = Text()
        line.append(_axis_label(top, r, height), style="grey50")
        for hour in range(24):
            for value, style, shown in ((today[hour], NOW if hour == current_hour else TODAY, hour <= current_hour),
                                        (average[hour], AVERAGE, True)):
                eighths = round(value / top * height * 8) - level_from_bottom * 8 if shown else 0
                line.append(BLOCKS[max(0, min(8, eighths))], style=style)
            line.append(" ")
        rows.append(line)
    return rows


def _axis_label(top: float, row: int, height: int) -> str:
    if row == 0:
        return f"{top:>{AXIS - 1}.0f}┤"
    if row == height - 1:
        return f"{0:>{AXIS - 1}}┤"
    return " " * (AXIS - 1) + "│"


def hour_axis() -> Text:
    line = Text(" " * AXIS, style="grey58")
    for hour in range(24):
        line.append(f"{hour:<{HOUR_WIDTH}}" if hour % 3 == 0 else " " * HOUR_WIDTH)
    return line


def peak_hours(average: list[float], span: int = 3) -> tuple[int, int] | None:
    """The busiest ``span`` consecutive hours of the average day, as (first, last + 1)."""
    if not any(average):
        return None
    best = max(range(24 - span + 1), key=lambda h: (sum(average[h:h + span]), -h))
    return best, best + span


class TrafficChart(Widget):
    def __init__(self, *, now: Callable[[], float], t: Catalog, id: str | None = None) -> None:
        super().__init__(id=id)
        self._now = now
        self._t = t
        self.traffic: Traffic | None = None

    def show(self, traffic: Traffic) -> None:
        self.traffic = traffic
        self.refresh()

    def render(self) -> Group | Text:
        t = self._t
        if self.traffic is None:
            return Text(t("board.loading"), style="grey50")
        height = max(3, self.size.height - 2)
        hour = datetime.fromtimestamp(self._now()).hour
        legend = Text.assemble(("█ ", TODAY), t("traffic.today", n=sum(self.traffic.today)), "   ",
                               ("█ ", AVERAGE), t("traffic.average", n=round(sum(self.traffic.average))))
        peak = peak_hours(self.traffic.average)
        if peak:
            legend.append("   " + t("traffic.peak", start=peak[0], end=peak[1]), style="bold")
        return Group(legend, *bar_rows(self.traffic.today, self.traffic.average, height, hour), hour_axis())
