"""Find's results: customers, orders, messages, each group under its header, one line a
result, drawn with the Line API (only the lines on screen are rendered). Messages come
a page at a time; when the cursor nears the last one loaded the list asks for the next
page (:class:`FindList.NeedMore`). The matched words are highlighted; a message line
shows the part of the message around its first match.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual import events
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from agentdesk import timefmt
from agentdesk.i18n import Catalog
from agentdesk.safetext import fit, one_line, pad
from agentdesk.textfold import spans
from agentdesk.ui.widgets.inbox_list import text_strip

if TYPE_CHECKING:  # records only: the list never reads the cache
    from agentdesk.store.history import Hit
    from agentdesk.store.lookup import CustomerHit, OrderHit

MARGIN = 10
MATCH = Style(color="black", bgcolor="#ffd75f", bold=True)
DIM = Style(color="grey58")


@dataclass(frozen=True)
class Row:
    kind: str  # header | customer | order | message | note (a line of text, not selectable)
    label: str = ""
    item: object = None

    @property
    def selectable(self) -> bool:
        return self.kind in ("customer", "order", "message")


class FindList(Widget, can_focus=False):
    COMPONENT_CLASSES = {"find-list--cursor"}

    class NeedMore(Message):
        def __init__(self, after: tuple) -> None:
            super().__init__()
            self.after = after

    class Chosen(Message):
        def __init__(self, row: Row) -> None:
            super().__init__()
            self.row = row

    def __init__(self, *, t: Catalog, now: Callable[[], float], id: str | None = None) -> None:
        super().__init__(id=id)
        self._t = t
        self._now = now
        self.rows: list[Row] = []
        self.cursor = -1
        self.top = 0
        self.terms: tuple[str, ...] = ()
        self.next: tuple | None = None
        self._asked = False
        self._message_count = 0

    # -- data in ---------------------------------------------------------------------

    def show(self, customers: list[CustomerHit], orders: list[OrderHit], messages: list[Hit], more: tuple | None,
             terms: tuple[str, ...], *, hint: str = "") -> None:
        t = self._t
        rows: list[Row] = []
        if customers:
            rows.append(Row("header", "customers", len(customers)))
            rows += [Row("customer", item=c) for c in customers]
        if orders:
            rows.append(Row("header", "orders", len(orders)))
            rows += [Row("order", item=o) for o in orders]
        if messages or more is not None:
            rows.append(Row("header", "messages"))
            rows += [Row("message", item=h) for h in messages]
        if not rows:
            rows.append(Row("note", hint or t("find.none")))
        self.rows, self.terms, self.next = rows, terms, more
        self._message_count = len(messages)
        self._asked = False
        self.top = 0
        self.cursor = next((i for i, r in enumerate(rows) if r.selectable), -1)
        self._maybe_ask()
        self.refresh()

    def add_page(self, messages: list[Hit], more: tuple | None) -> None:
        self._asked = False
        self.rows.extend(Row("message", item=h) for h in messages)
        self._message_count += len(messages)
        self.next = more
        if self.cursor < 0:
            self.cursor = next((i for i, r in enumerate(self.rows) if r.selectable), -1)
        self._maybe_ask()
        self.refresh()

    @property
    def highlighted(self) -> Row | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    @property
    def message_count(self) -> int:
        return self._message_count

    # -- movement --------------------------------------------------------------------

    def move(self, delta: int) -> None:
        chosen = [i for i, r in enumerate(self.rows) if r.selectable]
        if not chosen:
            return
        if self.cursor not in chosen:
            self.cursor = chosen[0]
        else:
            at = chosen.index(self.cursor)
            self.cursor = chosen[max(0, min(len(chosen) - 1, at + delta))]
        self._clamp()
        self._maybe_ask()
        self.refresh()

    def choose(self) -> None:
        row = self.highlighted
        if row is not None and row.selectable:
            self.post_message(self.Chosen(row))

    def _clamp(self) -> None:
        height = max(1, self.size.height)
        if self.cursor >= 0:
            # keep the group header of the first row in view
            if self.cursor < self.top:
                self.top = max(0, self.cursor - 1 if self.cursor and self.rows[self.cursor - 1].kind == "header"
                               else self.cursor)
            elif self.cursor >= self.top + height:
                self.top = self.cursor - height + 1
        self.top = max(0, min(self.top, max(0, len(self.rows) - height)))

    def _maybe_ask(self) -> None:
        if self.next is not None and not self._asked and (
            len(self.rows) - max(self.cursor, self.top + self.size.height) <= MARGIN
        ):
            self._asked = True
            self.post_message(self.NeedMore(self.next))

    def on_resize(self) -> None:
        self._clamp()
        self._maybe_ask()

    def _on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.top = min(max(0, len(self.rows) - self.size.height), self.top + 2)
        self._maybe_ask()
        self.refresh()

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.top = max(0, self.top - 2)
        self.refresh()

    def _on_click(self, event: events.Click) -> None:
        index = self.top + event.y
        if 0 <= index < len(self.rows) and self.rows[index].selectable:
            self.cursor = index
            self.refresh()
            if event.chain >= 2:
                self.choose()

    # -- drawing ---------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        index = self.top + y
        base = self.rich_style
        if index >= len(self.rows):
            return Strip.blank(width, base)
        row = self.rows[index]
        style = base + self.get_component_rich_style("find-list--cursor") if index == self.cursor else base
        return text_strip(self.app.console, self._line(row, width), width, style)

    def _line(self, row: Row, width: int) -> Text:
        if row.kind == "header":
            # The messages group counts what is loaded, with a + while more may follow.
            n = row.item if row.item is not None else (
                f"{self._message_count}+" if self.next is not None else self._message_count)
            return Text(" " + self._t(f"find.{row.label}", n=n), style="bold #5fd7ff")
        if row.kind == "note":
            return Text(" " + row.label, style=DIM)
        if row.kind == "customer":
            return self._customer(row.item, width)  # type: ignore[arg-type]
        if row.kind == "order":
            return self._order(row.item, width)  # type: ignore[arg-type]
        return self._message(row.item, width)  # type: ignore[arg-type]

    def _marked(self, text: str, style: Style | str = "") -> Text:
        out = Text(text, style=style)
        for a, b in spans(text, self.terms):
            out.stylize(MATCH, a, b)
        return out

    def _customer(self, c: CustomerHit, width: int) -> Text:
        line = Text("   ")
        line.append_text(self._marked(pad(one_line(c.name, limit=60), 20), "bold"))
        line.append(f" V{c.vip_level}" if c.vip_level else "   ", style="#ffd75f")
        line.append("  ")
        line.append_text(self._marked(pad(one_line(c.location, limit=40), 12), DIM))
        tags = " ".join("#" + one_line(tag, limit=20) for tag in c.tags[:4])
        line.append_text(self._marked(fit(tags, max(0, width - 62)), DIM))
        when = timefmt.clock(c.last_contact, self._now()) if c.last_contact else self._t("find.no_conversation")
        return _right(line, Text(when, style=DIM), width)

    def _order(self, o: OrderHit, width: int) -> Text:
        line = Text("   ")
        line.append_text(self._marked(one_line(o.id, limit=40), "bold"))
        line.append("  " + pad(one_line(o.status, limit=10), 6), style="#af87ff")
        if o.tracking_no:
            line.append("  " + one_line(o.carrier or "", limit=12) + " ", style=DIM)
            line.append_text(self._marked(one_line(o.tracking_no, limit=40), DIM))
        line.append("  ")
        line.append_text(Text(fit(one_line(o.customer, limit=40), 18)))
        when = timefmt.day(o.created_at, self._now()) if o.created_at else ""
        return _right(line, Text(when, style=DIM), width)

    def _message(self, h: Hit, width: int) -> Text:
        now = self._now()
        who = {"customer": self._t("find.sender.customer"), "agent": h.author or self._t("thread.you"),
               "note": "📝 " + (h.author or ""), "bot": self._t("thread.bot"),
               "system": self._t("thread.system")}.get(h.sender, h.sender)
        head = Text("   ")
        head.append(pad(one_line(h.customer or h.conversation_id, limit=40), 16), style="bold")
        head.append(" " + pad(one_line(who, limit=20), 8), style=DIM if h.sender != "customer" else "")
        when = Text(timefmt.clock(h.at, now), style=DIM)
        room = max(10, width - head.cell_len - when.cell_len - 3)
        return _right(Text.assemble(head, "  ", self._snippet(one_line(h.body, limit=2000), room)), when, width)

    def _snippet(self, body: str, room: int) -> Text:
        """The body from a little before its first match, cut to ``room`` cells."""
        found = spans(body, self.terms)
        start = max(0, found[0][0] - 8) if found else 0
        text = ("…" if start else "") + body[start:]
        return self._marked(fit(text, room))


def _right(left: Text, right: Text, width: int) -> Text:
    left.truncate(max(0, width - right.cell_len - 2), overflow="ellipsis")
    gap = max(1, width - left.cell_len - right.cell_len - 1)
    return Text.assemble(left, " " * gap, right)
