"""Put a conversation aside: snooze it until a time (稍后) or set it pending (挂起).

The presets come from the caller with their times already worked out; the screen only
shows when each one ends, in local time, and returns the choice. Digits pick directly
(1 = the first preset, the last number = pending), so the whole thing is two keys.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from agentdesk import timefmt
from agentdesk.i18n import Catalog
from agentdesk.safetext import one_line, pad
from agentdesk.ui.screens.workflow_box import WorkflowBox

Preset = tuple[str, str, float]  # (key, label, until epoch)


@dataclass(frozen=True)
class SnoozeChoice:
    status: Literal["snoozed", "pending"]
    until: float | None  # None when pending


def when_text(t: Catalog, ts: float, now: float) -> str:
    """``今天 14:30`` / ``明天 09:00`` / ``11-23 09:00``: where a time lands, from now."""
    then, today = time.localtime(ts), time.localtime(now)
    hhmm = time.strftime("%H:%M", then)
    if (then.tm_year, then.tm_yday) == (today.tm_year, today.tm_yday):
        return t("snooze.today", time=hhmm)
    tomorrow = time.localtime(time.mktime((today.tm_year, today.tm_mon, today.tm_mday + 1, 12, 0, 0, 0, 0, -1)))
    if (then.tm_year, then.tm_yday) == (tomorrow.tm_year, tomorrow.tm_yday):
        return t("snooze.tomorrow", time=hhmm)
    return timefmt.clock(ts, now)


class SnoozeScreen(ModalScreen[SnoozeChoice | None]):
    BINDINGS = [
        Binding("escape", "cancel", show=False),
        *[Binding(str(d), f"pick({d - 1})", show=False) for d in range(1, 10)],
    ]

    def __init__(self, t: Catalog, now: float, presets: list[Preset]) -> None:
        super().__init__()
        self.t = t
        self.now = now
        self.presets = list(presets)[:8]  # digits 1..9 reach every row, pending included

    def compose(self) -> ComposeResult:
        with WorkflowBox(id="snooze-box", title=self.t("snooze.title"), keys=self.t("snooze.keys")):
            yield OptionList(*self._options(), id="snooze-options")

    def _options(self) -> list[Option]:
        options = []
        for i, (_key, label, until) in enumerate(self.presets):
            row = Text(f"{i + 1}  ", style="bold")
            row.append(pad(one_line(label), 14))
            row.append("→ " + when_text(self.t, until, self.now), style="dim")
            options.append(Option(row))
        row = Text(f"{len(self.presets) + 1}  ", style="bold")
        row.append(self.t("snooze.pending"))
        options.append(Option(row))
        return options

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()

    @on(OptionList.OptionSelected, "#snooze-options")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_pick(event.option_index)

    def action_pick(self, index: int) -> None:
        if index < len(self.presets):
            self.dismiss(SnoozeChoice("snoozed", self.presets[index][2]))
        elif index == len(self.presets):
            self.dismiss(SnoozeChoice("pending", None))

    def action_cancel(self) -> None:
        self.dismiss(None)
