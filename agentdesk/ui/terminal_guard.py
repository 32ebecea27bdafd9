"""What leaves either app for the terminal is guarded here, once, for every widget.

Each widget shows outside text as ``Text`` built from :mod:`agentdesk.safetext`; these
two guards make sure a call site that forgets cannot crash the app or reach the
terminal raw:

* **Toasts never parse markup.** ``notify`` (the app's, and every widget's, which
  calls it) always shows the message as plain, cleaned text: a customer called ``[/]``
  in a complaint alert is a name, not a ``MarkupError`` that kills the app.
* **Every rendered line passes the width model.** A Textual line filter runs
  :func:`~agentdesk.safetext.same_cells` over each segment of each widget's strips: no
  escape, control, bidi control, surrogate or character the terminal measures otherwise
  than Rich gets out, and each line keeps the cells Rich laid it out in.

The line filter is Textual's ``App.get_line_filters`` hook (the one its NO_COLOR and
dim modes use); ``tests/test_hostile_ui.py`` fails loudly if Textual stops calling it.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter
from textual.notifications import SeverityLevel

from agentdesk.safetext import clean, one_line, same_cells

#: Longest toast: a server's 100 kB error page must not fill the screen.
NOTICE_LIMIT = 600


class CellGuard(LineFilter):
    """The width model over every segment Textual is about to write."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        out: list[Segment] | None = None
        for index, segment in enumerate(segments):
            text = segment.text
            safe = text if segment.control else same_cells(text)
            if safe != text:
                if out is None:
                    out = list(segments)
                out[index] = Segment(safe, segment.style, segment.control)
        return segments if out is None else out


class TerminalGuard:
    """Mixed into both apps, before ``textual.app.App``."""

    _cell_guard: CellGuard | None = None

    @property
    def cell_guard(self) -> CellGuard:
        if self._cell_guard is None:
            self._cell_guard = CellGuard()
        return self._cell_guard

    def get_line_filters(self) -> Sequence[LineFilter]:
        filters = list(super().get_line_filters())  # type: ignore[misc]
        if self.cell_guard.enabled:
            filters.append(self.cell_guard)
        return filters

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """A toast of plain text, whatever the caller asked: ``markup`` is ignored."""
        super().notify(  # type: ignore[misc]
            clean(str(message), limit=NOTICE_LIMIT),
            title=one_line(str(title), limit=80),
            severity=severity,
            timeout=timeout,
            markup=False,
        )
