"""The header line: product, shop, who you are (and whether you are away), connection
state – with what stopped sync and when it tries again – and the clock."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from rich.cells import cell_len
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from agentdesk.i18n import CATALOG, Catalog
from agentdesk.safetext import fit, one_line

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
    #: What stopped sync or is holding it up (SyncStatus.error, error_kind, error_params).
    error = reactive("")
    error_kind = reactive("")
    error_params: reactive[tuple] = reactive(())
    #: time.monotonic() of the next attempt while sync waits for it.
    retry_at: reactive[float | None] = reactive(None)
    #: Objects from the shop quarantined in the cache.
    skipped = reactive(0)

    def __init__(self, *, now: Callable[[], float], t: Catalog, id: str | None = None) -> None:
        super().__init__(id=id)
        self._now = now
        self._t = t

    def on_mount(self) -> None:
        self.set_interval(1.0, self.refresh)

    def show_sync(self, status, *, demo: bool) -> None:
        """Show a SyncStatus. The demo's shop is in-process: online reads "offline demo"."""
        self.connection = "demo" if demo and status.state == "online" else status.state
        self.last_sync = status.last_sync_at
        self.pending = status.pending
        self.error = status.error or ""
        self.error_kind = status.error_kind
        self.error_params = status.error_params
        self.retry_at = status.retry_at
        self.skipped = status.skipped

    def copy_sync(self, other: HeaderBar) -> None:
        """Show what ``other`` shows (a header on a screen pushed later)."""
        for name in ("connection", "last_sync", "pending", "error", "error_kind", "error_params", "retry_at",
                     "skipped"):
            setattr(self, name, getattr(other, name))

    def _trouble(self) -> str:
        """The error in the UI's language where the catalog knows its kind."""
        t = self._t
        params = dict(self.error_params)
        key = f"syncerr.{self.error_kind}"
        if key in CATALOG:
            try:
                return t(key, **params)
            except (KeyError, IndexError, ValueError):
                pass
        return t("syncerr.other", e=self.error)

    def render(self) -> Text:
        t = self._t
        clock = time.strftime("%H:%M:%S", time.localtime(self._now()))
        parts: dict[str, tuple[str, str]] = {}  # name: (text, style)
        if self.connection not in ("demo", "online"):
            when = time.strftime("%H:%M", time.localtime(self.last_sync)) if self.last_sync else None
            parts["last"] = ("  " + (t("conn.last_sync", t=when) if when else t("conn.never")), "grey58")
        if self.pending and self.connection != "demo":
            parts["pending"] = ("  " + t("conn.pending", n=self.pending), "#ffd75f")
        if self.skipped:
            parts["skipped"] = ("  " + t("conn.skipped", n=self.skipped), "#ffaf5f")
        seconds = math.ceil(self.retry_at - time.monotonic()) if self.retry_at is not None else 0
        if seconds > 0:  # at 0 the next try is under way: nothing left to count
            parts["retry"] = ("  " + t("conn.retry_in", s=seconds), "#ffd75f")
        parts["clock"] = (clock + " ", "grey66")
        trouble = "  " + one_line(self._trouble()) if self.error else ""
        needed = min(cell_len(trouble), 40) + sum(
            cell_len(parts[name][0]) for name in ("retry", "pending", "skipped", "clock") if name in parts)
        head = self._head(compact=False)
        if self.size.width - head.cell_len - 1 < needed:
            head = self._head(compact=True)  # the product name and the role label give their room
        # What to keep when the line is still short: when sync tries again, then what is
        # wrong (up to 40 cells of it), the writes waiting, the skipped objects, the clock,
        # the last sync; the error then takes whatever room is left.
        room = self.size.width - head.cell_len - 1  # at least one space before the clock
        kept: set[str] = set()
        if "retry" in parts and cell_len(parts["retry"][0]) <= room - (12 if trouble else 0):
            kept.add("retry")
            room -= cell_len(parts["retry"][0])
        left_for_others = room - min(cell_len(trouble), 40)
        for name in ("pending", "skipped", "clock", "last"):
            width = cell_len(parts[name][0]) if name in parts else 0
            if width and width <= left_for_others:
                kept.add(name)
                left_for_others -= width
        left = head
        for name in ("last", "pending", "skipped"):
            if name in kept:
                left.append(*parts[name])
        error_room = room - sum(cell_len(parts[name][0]) for name in kept if name != "retry")
        if trouble and error_room >= 8:
            left.append(fit(trouble, error_room), style="#ff875f")
        if "retry" in kept:
            left.append(*parts["retry"])
        right = Text(*parts["clock"]) if "clock" in kept else Text()
        gap = max(1, self.size.width - left.cell_len - right.cell_len)
        return Text.assemble(left, " " * gap, right)

    def _head(self, *, compact: bool) -> Text:
        """Product, shop, who I am (away?), connection state."""
        t = self._t
        dot_style = CONNECTION_STYLE.get(self.connection, "")
        head = Text.assemble(
            ("" if compact else " agentdesk ", "bold reverse"),
            " " if compact else "  ",
            (one_line(self.shop), "bold"),
            ("  │  ", "grey50"),
            ("" if compact else t("header.supervisor" if self.role == "supervisor" else "header.agent") + " ",
             "grey58"),
            (one_line(self.agent), "bold"),
        )
        if self.away:
            head.append(" ◐ " + t("header.away"), style=AWAY_STYLE)
        head.append_text(Text.assemble(
            ("  │  ", "grey50"),
            ("● ", dot_style),
            (t(f"conn.{self.connection}"), dot_style),
        ))
        return head
