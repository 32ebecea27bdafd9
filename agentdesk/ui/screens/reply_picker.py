"""The quick-reply picker (话术库), opened over the composer by ``/`` or Ctrl+R.

Type to filter (characters, pinyin, initials, shortcodes; when few replies hold the
words as typed, those sharing words with them follow, marked ≈), ↑/↓ to move, Enter inserts
the filled reply at the composer's cursor, Ctrl+Enter inserts and sends, Tab shows the
whole text, Ctrl+O fills from the customer's next order, Esc closes. Searching is an
in-memory call bounded to a few milliseconds (see ``bench/quickreply.py``), so it runs
right in the key handler: one frame per keystroke, no worker round trip.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from agentdesk.i18n import Catalog
from agentdesk.quickreply.search import Context, Hit, ReplyIndex
from agentdesk.quickreply.variables import fill, segments
from agentdesk.safetext import clean, inert, one_line

STYLES = {"text": "", "match": "bold reverse", "value": "underline", "missing": "bold white on red"}
LIMIT = 30


@dataclass(frozen=True)
class Picked:
    reply_id: str
    text: str  # the filled body, variables with no value left as written
    send: bool  # Ctrl+Enter: insert and send


def styled(pieces: list[tuple[str, str]], base: str = "") -> Text:
    """Display pieces (see :func:`agentdesk.quickreply.variables.segments`) as plain
    Text: reply text is never parsed as markup."""
    out = Text(style=base)
    for piece, kind in pieces:
        out.append(clean(piece), STYLES[kind])
    return out


class ReplyPicker(ModalScreen[Picked | None]):
    BINDINGS = [
        Binding("escape", "dismiss(None)", "close", show=False),
        Binding("up", "move(-1)", show=False, priority=True),
        Binding("down", "move(1)", show=False, priority=True),
        Binding("pageup", "move(-8)", show=False, priority=True),
        Binding("pagedown", "move(8)", show=False, priority=True),
        Binding("tab", "preview", show=False, priority=True),
        Binding("ctrl+o", "next_order", show=False, priority=True),
        Binding("ctrl+enter,ctrl+j", "choose(True)", show=False, priority=True),
    ]

    def __init__(
        self,
        index: ReplyIndex,
        *,
        t: Catalog,
        context: Context,
        values: list[dict[str, str | None]],
        orders: list[str],
        query: str = "",
    ) -> None:
        super().__init__()
        self.index = index
        self.t = t
        self.context = context
        self.values_by_order = values or [{}]
        self.orders = orders
        self.order_index = 0
        self.query_text = query
        self.hits: list[Hit] = []
        self.previewing = False

    @property
    def values(self) -> dict[str, str | None]:
        return self.values_by_order[self.order_index]

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Static(id="picker-head")
            yield Input(value=self.query_text, placeholder=self.t("picker.placeholder"), id="picker-input")
            yield OptionList(id="picker-results")
            yield Static(id="picker-preview")

    def on_mount(self) -> None:
        self.query_one("#picker-results", OptionList).can_focus = False
        self.query_one("#picker-preview").display = False
        self.query_one(Input).focus()
        self._render_head()
        self._search(self.query_text)

    def _render_head(self) -> None:
        order = ""
        if self.orders:
            order = self.t("picker.order", id=one_line(self.orders[self.order_index], limit=40), n=self.order_index + 1,
                           total=len(self.orders))
        head = Text(self.t("picker.title"), style="bold")
        if order:
            head.append("  " + order)
        head.append("  " + self.t("picker.keys"), style="dim")
        self.query_one("#picker-head", Static).update(head)

    @on(Input.Changed, "#picker-input")
    def _changed(self, event: Input.Changed) -> None:
        self._search(event.value)

    def _search(self, query: str) -> None:
        self.hits = self.index.search(query, limit=LIMIT, context=self.context)
        results = self.query_one("#picker-results", OptionList)
        results.clear_options()
        if not self.hits:
            results.add_option(Option(Text(self.t("picker.none"), style="dim"), disabled=True))
        else:
            results.add_options([Option(self._line(h), id=h.reply.id) for h in self.hits])
            results.highlighted = 0
        self._update_preview()

    def _line(self, hit: Hit) -> Text:
        r = hit.reply
        line = Text()
        code = r.shortcode or ""
        spans = hit.spans
        line.append_text(_marked(code.ljust(6), spans.get("shortcode", ()), "cyan"))
        line.append(" ")
        line.append_text(_marked(one_line(r.title), spans.get("title", ()), "bold"))
        line.append(f"  {one_line(r.category, limit=20)}" if r.category else "", style="dim")
        if hit.typo:
            line.append(" ~", style="dim")
        if hit.partial:  # found by shared words (characters, pinyin, synonyms), not as typed
            line.append(" " + self.t("picker.partial"), style="italic #87afd7")
        line.append("  ")
        body = segments(r.body, self.values, spans.get("body", ()))
        line.append_text(styled([(one_line(p), k) for p, k in body], base="dim"))
        # One row per reply (Tab shows the whole text); cut by terminal cells, not characters.
        width = self.query_one("#picker-results").size.width or self.app.size.width - 6
        line.truncate(max(20, width - 2), overflow="ellipsis")
        return line

    def _current(self) -> Hit | None:
        results = self.query_one("#picker-results", OptionList)
        i = results.highlighted
        if i is None or not self.hits or i >= len(self.hits):
            return None
        return self.hits[i]

    def _update_preview(self) -> None:
        preview = self.query_one("#picker-preview", Static)
        preview.display = self.previewing
        hit = self._current()
        if self.previewing and hit is not None:
            preview.update(styled(segments(hit.reply.body, self.values, hit.spans.get("body", ()))))

    def action_move(self, delta: int) -> None:
        results = self.query_one("#picker-results", OptionList)
        if not self.hits:
            return
        i = (results.highlighted or 0) + delta
        results.highlighted = max(0, min(len(self.hits) - 1, i))
        self._update_preview()

    def action_preview(self) -> None:
        self.previewing = not self.previewing
        self._update_preview()

    def action_next_order(self) -> None:
        if len(self.values_by_order) > 1:
            self.order_index = (self.order_index + 1) % len(self.values_by_order)
            self._render_head()
            self._search(self.query_one(Input).value)

    @on(Input.Submitted, "#picker-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_choose(False)

    @on(OptionList.OptionSelected)
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        self.action_choose(False)

    def action_choose(self, send: bool) -> None:
        hit = self._current()
        if hit is None:
            return
        filled = fill(inert(hit.reply.body), self.values)  # sent as written, emoji and all
        self.dismiss(Picked(hit.reply.id, filled.text, send))


def _marked(text: str, spans: tuple[tuple[int, int], ...], style: str) -> Text:
    out = Text(clean(text), style=style)
    for a, b in spans:
        out.stylize("bold reverse", a, b)
    return out
