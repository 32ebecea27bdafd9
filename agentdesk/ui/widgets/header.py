"""The header line: product, shop, who you are (and whether you are away), connection
state and the clock."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from agentdesk.i18n import Catalog
from agentdesk.safetext import one_line

CONNECTION_STYLE = {"online": "#5fd787", "demo": "#5fafff", "offline": "#ff875f", "syncing": "#ffd75f"}
AWAY_STYLE = "bold #ffd75f"


class HeaderBar(Widget):
    shop = reactive("")
    agent = reactive("")
    connection = reactive("offline")
    last_sync: reactive[float | None] = reactive(None)
    pending = reactive(0)
    #: I set myself away (Alt+L); the app reads it from the cache with my identity.
    away = reactive(False)
    #: agent | supervisor: how "who you are" is labelled.
    role = reactive("agent")

    def __init__(self, *, now: Callable[[], float], t: Catalog, id: str | None = None) -> None:
        super().__init__(id=id)
        self._now = now
        self._t = t

    def on_mount(self) -> None:
        self.set_interval(1.0, self.refresh)

    def render(self) -> Text:
        t = self._t
        dot_style = CONNECTION_STYLE.get(self.connection, "")
        clock = time.strftime("%H:%M:%S", time.localtime(self._now()))
        left = Text.assemble(
            (" agentdesk ", "bold reverse"),
            "  ",
            (one_line(self.shop), "bold"),
            ("  │  ", "grey50"),
            (t("header.supervisor" if self.role == "supervisor" else "header.agent") + " ", "grey58"),
            (one_line(self.agent), "bold"),
        )
        if self.away:
            left.append(" ◐ " + t("header.away"), style=AWAY_STYLE)
        left.append_text(Text.assemble(
            ("  │  ", "grey50"),
            ("● ", dot_style),
            (t(f"conn.{self.connection}"), dot_style),
        ))
        if self.connection != "demo":
            if self.connection != "online":
                when = time.strftime("%H:%M", time.localtime(self.last_sync)) if self.last_sync else None
                left.append("  " + (t("conn.last_sync", t=when) if when else t("conn.never")), style="grey58")
            if self.pending:
                left.append("  " + t("conn.pending", n=self.pending), style="#ffd75f")
        right = Text(clock + " ", style="grey66")
        gap = max(1, self.size.width - left.cell_len - right.cell_len)
        return Text.assemble(left, " " * gap, right)
