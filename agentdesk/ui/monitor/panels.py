"""The board's panels: who is working, how the queues stand, the KPIs. Each keeps the
last figures a worker read and draws them; waits are drawn against the clock at draw
time, so a tick only redraws. Teams are tens of people, so these are tables, not
virtualized lists (the conversation list is the InboxList)."""

from __future__ import annotations

from collections.abc import Callable

from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from agentdesk import timefmt
from agentdesk.config import KpiSettings, TimerSettings
from agentdesk.i18n import Catalog
from agentdesk.safetext import one_line
from agentdesk.workflow import kpi, report
from agentdesk.workflow.board import AgentLine, QueueLine

STATUS_STYLE = {"online": "#5fd787", "away": "#ffd75f", "offline": "grey50"}
STATUS_DOT = {"online": "●", "away": "◐", "offline": "○"}
GOOD, BAD, NEUTRAL = "#5fd787", "bold #ff5f5f", ""


def wait_text(since: float | None, now: float, timers: TimerSettings) -> Text:
    if since is None:
        return Text("—", style="grey50")
    waited = now - since
    style = ("bold #ff5f5f" if waited >= timers.red_seconds else "#ffaf00" if waited >= timers.amber_seconds
             else "")
    return Text(timefmt.duration(waited), style=style)


def count_text(n: int, style: str = "") -> Text:
    return Text(str(n), style=style if n else "grey50")


def _table(*headers: str) -> Table:
    table = Table(box=None, expand=True, padding=(0, 0, 0, 1), header_style="bold grey66", show_edge=False)
    for i, header in enumerate(headers):
        table.add_column(header, justify="left" if i == 0 else "right", no_wrap=True)
    return table


class _Panel(Widget):
    """A table of lines from the board's worker; waits in it are drawn against the clock."""

    #: Rows the table draws besides one per line (header, and a total for the queues).
    EXTRA_ROWS = 1

    def __init__(self, *, now: Callable[[], float], t: Catalog, timers: TimerSettings, id: str | None = None) -> None:
        super().__init__(id=id)
        self._now = now
        self._t = t
        self._thresholds = timers
        self.lines: list = []

    def show(self, lines: list) -> None:
        self.lines = lines
        self.refresh(layout=True)

    def get_content_height(self, container, viewport, width: int) -> int:
        return max(2, len(self.lines) + self.EXTRA_ROWS)


class AgentsPanel(_Panel):
    """One line per agent: presence, open conversations, waiting, longest wait, handled."""

    lines: list[AgentLine]

    def render(self) -> Table:
        t, now = self._t, self._now()
        table = _table(t("board.agent"), t("board.status"), t("board.open"), t("board.waiting"),
                       t("board.longest"), t("board.handled"))
        for line in self.lines:
            style = STATUS_STYLE.get(line.status, "")
            table.add_row(
                Text(one_line(line.name, limit=16), style="bold"),
                Text(f"{STATUS_DOT.get(line.status, '?')} {t.word('presence', line.status, limit=12)}", style=style),
                count_text(line.open),
                count_text(line.waiting, "#ffaf00"),
                wait_text(line.longest_wait_since, now, self._thresholds),
                count_text(line.handled_today),
            )
        return table


class QueuesPanel(_Panel):
    """One line per group: customers waiting, nobody's yet, the longest, past each threshold."""

    lines: list[QueueLine]
    EXTRA_ROWS = 2  # header and total

    def render(self) -> Table:
        t, now, timers = self._t, self._now(), self._thresholds
        table = _table(t("board.group"), t("board.waiting"), t("board.unassigned"), t("board.longest"),
                       f">{timers.amber_seconds}s", f">{timers.red_seconds}s", t("board.late"))
        total = [0, 0, 0, 0, 0]
        for q in self.lines:
            table.add_row(
                Text(one_line(q.group, limit=16), style="bold #ff5f5f" if q.group == "客诉" else "bold"),
                count_text(q.waiting, "#ffaf00"),
                count_text(q.unassigned),
                wait_text(q.longest_wait_since, now, timers),
                count_text(q.amber, "#ffaf00"),
                count_text(q.red, "#ff5f5f"),
                count_text(q.late, "bold #ff5f5f"),
            )
            for i, n in enumerate((q.waiting, q.unassigned, q.amber, q.red, q.late)):
                total[i] += n
        longest = min((q.longest_wait_since for q in self.lines if q.longest_wait_since is not None), default=None)
        table.add_row(Text(t("board.total"), style="bold"), count_text(total[0], "bold #ffaf00"),
                      count_text(total[1]), wait_text(longest, now, timers), count_text(total[2], "#ffaf00"),
                      count_text(total[3], "#ff5f5f"), count_text(total[4], "bold #ff5f5f"))
        return table


#: The KPI columns: (Kpi field, i18n header, how it reads).
KPI_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("handled", "kpi.col.handled", "count"),
    ("first_response_median", "kpi.col.frt_median", "seconds"),
    ("first_response_p90", "kpi.col.frt_p90", "seconds"),
    ("within_share", "kpi.col.within", "share"),
    ("response_rate_3min", "kpi.col.rate_3min", "share"),
    ("resolution_rate", "kpi.col.resolution", "share"),
    ("complaint_rate", "kpi.col.complaints", "share"),
)


def kpi_cell(metric: str, value, how: str, settings: KpiSettings) -> Text:
    """A KPI value coloured by its target: green meets it, red misses it."""
    if value is None:
        return Text("—", style="grey50")
    if how == "count":
        return Text(str(value))
    text = timefmt.duration(value) if how == "seconds" else f"{value * 100:.1f}%"
    verdict = kpi.verdict(metric, value, settings)
    return Text(text, style=NEUTRAL if verdict is None else GOOD if verdict else BAD)


class KpiPanel(_Panel):
    """Team, groups and agents against the targets, for today or the last 7 days."""

    def __init__(self, *, settings: KpiSettings, **kwargs) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.report: kpi.KpiReport | None = None

    def show(self, report: kpi.KpiReport | None) -> None:
        self.report = report
        self.refresh(layout=True)

    def get_content_height(self, container, viewport, width: int) -> int:
        if self.report is None:
            return 1
        return len(self.report.groups) + len(self.report.agents) + 2

    def render(self) -> Table | Text:
        t = self._t
        if self.report is None:
            return Text(t("board.loading"), style="grey50")
        table = _table(t("board.col.scope"), *(t(header, secs=self.settings.reply_within_seconds) for _, header, _ in KPI_COLUMNS))
        rows = [(t("kpi.team"), self.report.team, "bold")]
        rows += [(k.name or k.key, k, "") for k in self.report.groups]
        rows += [(k.name or k.key, k, "") for k in self.report.agents]
        for i, (label, k, style) in enumerate(rows):
            table.add_row(Text(one_line(label, limit=16), style=style or ("#87afd7" if i <= len(self.report.groups)
                                                                            else "")),
                          *(kpi_cell(field, getattr(k, field), how, self.settings) for field, _, how in KPI_COLUMNS),
                          end_section=i in (0, len(self.report.groups)))
        return table

    def targets_line(self) -> Text:
        return Text(report.targets(self.settings, self._t.language), style="grey58")
