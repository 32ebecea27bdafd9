"""The Follow-ups tab (回访): due and upcoming follow-ups, soonest first.

An ``OptionList`` fed one bounded page the app read in a worker (follow-ups are a short
list by nature: what is due today and the next few days), never a widget per row.
Keys: Enter opens the customer's conversation with a suggested message, ``d`` marks the
follow-up done, ``x`` cancels it; each posts a message and the app does the work. The
inbox's tab keys (m u a f) work here too: this list is one of the tabs.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from agentdesk import timefmt
from agentdesk.i18n import Catalog
from agentdesk.models import Followup
from agentdesk.safetext import fit, one_line
from agentdesk.ui import actions


class FollowupList(OptionList):
    BINDINGS = [
        *actions.tab_bindings(),
        Binding("d", "finish('done')", "done", show=False),
        Binding("x", "finish('cancelled')", "cancel", show=False),
        Binding("j", "cursor_down", show=False),
        Binding("k", "cursor_up", show=False),
    ]

    class Chosen(Message):
        """Open this follow-up's conversation (``action`` "open"), or close it ("done"/"cancelled")."""

        def __init__(self, followup: Followup, action: str) -> None:
            super().__init__()
            self.followup = followup
            self.action = action

    def __init__(self, *, now: Callable[[], float], t: Catalog, id: str | None = None) -> None:
        super().__init__(id=id)
        self._now = now
        self._t = t
        self.items: list[Followup] = []
        self._due = -1  # how many were due at the last redraw (● vs ○ depends on it)
        actions.localize(self._bindings, t)

    def show(self, items: list[Followup], due: int = 0) -> None:
        """Redraw only when something changed: the app re-reads the list every few
        seconds (a follow-up comes due while nobody touches anything)."""
        if (items, due) == (self.items, self._due) and self.option_count:
            return
        self._due = due
        keep = self.highlighted
        self.items = list(items)
        self.clear_options()
        if not items:
            self.add_option(Option(Text(self._t("followups.empty"), style="grey58"), disabled=True))
            return
        self.add_options([Option(self._line(f), id=str(f.id)) for f in items])
        self.highlighted = min(keep or 0, len(items) - 1)

    def _line(self, f: Followup) -> Text:
        now = self._now()
        width = max(20, self.size.width - 2 if self.size.width else 38)
        due = f.due_at <= now
        head = Text.assemble(
            ("● " if due else "○ ", "bold #ffaf00" if due else "grey58"),
            (fit(one_line(f.customer_name, limit=40), width - 14), "bold"),
            ("  " + timefmt.clock(f.due_at, now), "bold #ffaf00" if due else "grey58"),
        )
        note = Text("  " + fit(one_line(f.note or f.order_id or "", limit=200), width - 2), style="grey66")
        return Text.assemble(head, "\n", note)

    def _selected(self) -> Followup | None:
        index = self.highlighted
        return self.items[index] if self.items and index is not None and index < len(self.items) else None

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if f := self._selected():
            self.post_message(self.Chosen(f, "open"))

    def action_finish(self, status: str) -> None:
        if f := self._selected():
            self.post_message(self.Chosen(f, status))
