"""The inbox: a virtualized list drawn with Textual's Line API.

It holds a bounded *window* of rows (a few keyset pages) and draws only the lines on
screen. When the cursor or the scroll nears either end of the window it posts
:class:`InboxList.NeedRows` with the key of the edge row; the app reads the next page
in a worker and hands it back. A cursor at row 90,000 costs what row 1 costs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from agentdesk import timefmt
from agentdesk.config import TimerSettings
from agentdesk.i18n import Catalog
from agentdesk.models import InboxRow
from agentdesk.safetext import fit, one_line
from agentdesk.ui import actions

ROW_HEIGHT = 2
#: Rows kept in memory; beyond this the far side of the window is dropped.
WINDOW = 300
#: Ask for the next page when the cursor gets this close to the window's edge.
MARGIN = 20

GROUP_STYLE = {"售前": "#5fafff", "售后": "#d7af5f", "客诉": "bold #ff5f5f"}


@dataclass(frozen=True)
class Palette:
    name: Style = Style(bold=True)
    dim: Style = Style(color="grey58")
    vip: Style = Style(color="#ffd75f", bold=True)
    amber: Style = Style(color="#ffaf00", bold=True)
    red: Style = Style(color="white", bgcolor="#d70000", bold=True)
    unread: Style = Style(color="black", bgcolor="#5fd7ff", bold=True)
    urgent: Style = Style(color="#ff5f5f", bold=True)
    status: Style = Style(color="#af87ff")
    marker: Style = Style(color="#5fd7ff", bold=True)
    complaint: Style = Style(color="#ff5f5f", bold=True, reverse=False, underline=True)


class InboxList(Widget, can_focus=True):
    BINDINGS = actions.bindings("inbox")
    COMPONENT_CLASSES = {"inbox-list--cursor", "inbox-list--opened"}

    class NeedRows(Message):
        """The window needs the page after (or before) ``key``."""

        def __init__(self, direction: str, key: tuple) -> None:
            super().__init__()
            self.direction = direction
            self.key = key

    class Opened(Message):
        def __init__(self, row: InboxRow) -> None:
            super().__init__()
            self.row = row

    def __init__(
        self,
        *,
        now: Callable[[], float],
        timers: TimerSettings,
        t: Catalog,
        agent_names: dict[str, str] | None = None,
        show_assignee: bool = False,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        #: Name each row's agent (the supervisor's board lists everyone's conversations).
        self.show_assignee = show_assignee
        self._now = now
        self._thresholds = timers
        self._t = t
        self.agent_names = agent_names or {}
        self.rows: list[InboxRow] = []
        self.cursor = 0  # index into rows
        self.top = 0  # first visible row
        self.more_before = False
        self.more_after = False
        self.opened_id: str | None = None
        self._asked: set[str] = set()  # directions with a request in flight
        self._palette = Palette()
        actions.localize(self._bindings, t)

    # -- data in -----------------------------------------------------------------

    def set_rows(
        self,
        rows: list[InboxRow],
        *,
        more_before: bool = False,
        more_after: bool = False,
        keep: str | None = None,
    ) -> None:
        """Replace the window, keeping the cursor on conversation ``keep`` if present."""
        old_offset = self.cursor - self.top
        self.rows = rows
        self.more_before, self.more_after = more_before, more_after
        self._asked.clear()
        index = next((i for i, r in enumerate(rows) if r.id == keep), None) if keep else None
        self.cursor = index if index is not None else min(self.cursor, max(0, len(rows) - 1))
        if index is None and not keep:
            self.cursor = 0
        self.top = max(0, self.cursor - max(0, old_offset))
        self._clamp()
        self.refresh()

    def add_rows(self, direction: str, rows: list[InboxRow], more: bool) -> None:
        """Extend the window with a page read after/before its edge."""
        self._asked.discard(direction)
        if direction == "after":
            self.rows.extend(rows)
            self.more_after = more
            if len(self.rows) > WINDOW:  # drop from the top, keep positions stable
                drop = len(self.rows) - WINDOW
                del self.rows[:drop]
                self.cursor -= drop
                self.top -= drop
                self.more_before = True
        else:
            self.rows[:0] = rows
            self.cursor += len(rows)
            self.top += len(rows)
            self.more_before = more
            if len(self.rows) > WINDOW:
                del self.rows[WINDOW:]
                self.more_after = True
        self._clamp()
        self.refresh()

    @property
    def highlighted(self) -> InboxRow | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    @property
    def visible_rows(self) -> int:
        return max(1, self.size.height // ROW_HEIGHT)

    # -- movement ----------------------------------------------------------------

    def move(self, delta: int) -> None:
        if not self.rows:
            return
        self.cursor = max(0, min(len(self.rows) - 1, self.cursor + delta))
        self._clamp()
        self._maybe_ask()
        self.refresh()

    def action_cursor_down(self) -> None:
        self.move(1)

    def action_cursor_up(self) -> None:
        self.move(-1)

    def action_page_down(self) -> None:
        self.move(self.visible_rows)

    def action_page_up(self) -> None:
        self.move(-self.visible_rows)

    def action_open(self) -> None:
        if row := self.highlighted:
            self.post_message(self.Opened(row))

    def _on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.top = min(max(0, len(self.rows) - self.visible_rows), self.top + 2)
        self.cursor = max(self.cursor, self.top)
        self._maybe_ask()
        self.refresh()

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.top = max(0, self.top - 2)
        self.cursor = min(self.cursor, self.top + self.visible_rows - 1)
        self._maybe_ask()
        self.refresh()

    def _on_click(self, event: events.Click) -> None:
        index = self.top + event.y // ROW_HEIGHT
        if 0 <= index < len(self.rows):
            self.cursor = index
            self.refresh()
            if event.chain >= 2:
                self.action_open()

    def on_resize(self) -> None:
        self._clamp()

    def _clamp(self) -> None:
        if not self.rows:
            self.cursor = self.top = 0
            return
        self.cursor = max(0, min(self.cursor, len(self.rows) - 1))
        visible = self.visible_rows
        if self.cursor < self.top:
            self.top = self.cursor
        elif self.cursor >= self.top + visible:
            self.top = self.cursor - visible + 1
        self.top = max(0, min(self.top, max(0, len(self.rows) - visible)))

    def _maybe_ask(self) -> None:
        if not self.rows:
            return
        if self.more_after and "after" not in self._asked and (
            len(self.rows) - self.cursor <= MARGIN or len(self.rows) - self.top - self.visible_rows <= MARGIN
        ):
            self._asked.add("after")
            self.post_message(self.NeedRows("after", self.rows[-1].key))
        if self.more_before and "before" not in self._asked and min(self.cursor, self.top) <= MARGIN:
            self._asked.add("before")
            self.post_message(self.NeedRows("before", self.rows[0].key))

    # -- drawing -----------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        index, line = divmod(y, ROW_HEIGHT)
        index += self.top
        base = self.rich_style
        if index >= len(self.rows):
            if not self.rows and y == 1:
                return text_strip(self.app.console, Text(" " + self._t("inbox.empty"), style=self._palette.dim), width, base)
            return Strip.blank(width, base)
        row = self.rows[index]
        text = self._line_one(row, width) if line == 0 else self._line_two(row, width)
        style = base
        if index == self.cursor:
            style = base + self.get_component_rich_style("inbox-list--cursor")
        elif row.id == self.opened_id:
            style = base + self.get_component_rich_style("inbox-list--opened")
        return text_strip(self.app.console, text, width, style)

    def _line_one(self, row: InboxRow, width: int) -> Text:
        p = self._palette
        marker = Text("▌" if row.id == self.opened_id else " ", style=p.marker)
        right = self._clock_text(row)
        badge = Text(f" V{row.vip_level}", style=p.vip) if row.vip_level else Text("")
        urgent = Text("! ", style=p.urgent) if row.priority >= 2 else Text("")
        complaint = Text(" " + self._t("inbox.complaint"), style=p.complaint) if row.complaint else Text("")
        room = width - 1 - cell_len(right.plain) - badge.cell_len - urgent.cell_len - complaint.cell_len - 2
        name = Text(fit(one_line(row.customer_name, limit=60), room), style=p.name)
        left = Text.assemble(marker, urgent, name, badge, complaint)
        gap = max(1, width - left.cell_len - right.cell_len - 1)
        return Text.assemble(left, " " * gap, right, " ")

    def _line_two(self, row: InboxRow, width: int) -> Text:
        p = self._palette
        tag = Text(fit(one_line(row.group, limit=20), 8), style=GROUP_STYLE.get(row.group, ""))
        extra = Text("")
        if row.status != "open":
            extra = Text(" " + fit(self._t.word("status", row.status), 10), style=p.status)
        elif row.assignee_id is None:
            extra = Text(" " + self._t("inbox.unassigned"), style=p.status)
        if self.show_assignee and row.assignee_id:
            name = one_line(self.agent_names.get(row.assignee_id, row.assignee_id), limit=8)
            extra.append(" " + name, style=p.name)
        unread = Text(f" {row.unread} ", style=p.unread) if row.unread else Text("")
        room = width - 3 - tag.cell_len - extra.cell_len - unread.cell_len - 2
        preview = Text(" " + fit(one_line(row.preview), max(0, room)), style=p.dim)
        left = Text.assemble("  ", tag, extra, preview)
        gap = max(1, width - left.cell_len - unread.cell_len - 1)
        return Text.assemble(left, " " * gap, unread, " ")

    def _clock_text(self, row: InboxRow) -> Text:
        now = self._now()
        if row.waiting_since is None:
            return Text(timefmt.clock(row.last_message_at, now), style=self._palette.dim)
        waited = now - row.waiting_since
        label = timefmt.duration(waited)
        if waited >= self._thresholds.late_seconds:
            return Text(f" {self._t('inbox.late')} {label} ", style=self._palette.red)
        if waited >= self._thresholds.red_seconds:
            return Text(f" {label} ", style=self._palette.red)
        if waited >= self._thresholds.amber_seconds:
            return Text(label, style=self._palette.amber)
        return Text(label)


def text_strip(console, text: Text, width: int, style: Style) -> Strip:
    """One line of ``text`` as a Strip exactly ``width`` cells wide over ``style``."""
    text.no_wrap = True
    segments = [
        Segment(seg.text, style + seg.style if seg.style else style)
        for seg in text.render(console, end="")
    ]
    return Strip(segments).adjust_cell_length(width, style)
