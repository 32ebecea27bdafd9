"""Find (Ctrl+F): one box over customers, orders and the whole message history.

Type or paste – a nickname (characters, pinyin, initials), an order number or part of
it, a tracking number, any words of a message – and filters (``from:`` ``to:``
``agent:`` ``group:`` ``status:`` ``customer:``, see :mod:`agentdesk.find.query`).
↑/↓ PgUp/PgDn move through the results, Enter opens the conversation at the matched
message, Esc closes. The searching is done by the app's workers (``FindHost``); this
screen asks, a short pause after the last keystroke, and shows the newest answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Input, Static

from agentdesk.find.finder import Found, terms
from agentdesk.i18n import Catalog
from agentdesk.safetext import one_line
from agentdesk.ui.messages import FindAnswered, FindMore
from agentdesk.ui.widgets.find_list import FindList, Row

#: Seconds after the last keystroke before asking (a paste is one change).
DEBOUNCE = 0.12


@dataclass(frozen=True)
class Target:
    """What Enter chose: a result row and the query it was found by."""

    row: Row
    query: str
    terms: tuple[str, ...]


class FindScreen(ModalScreen[Target | None]):
    BINDINGS = [
        Binding("escape", "dismiss(None)", show=False),
        Binding("up", "move(-1)", show=False, priority=True),
        Binding("down", "move(1)", show=False, priority=True),
        Binding("pageup", "move(-10)", show=False, priority=True),
        Binding("pagedown", "move(10)", show=False, priority=True),
    ]

    def __init__(self, *, t: Catalog, now, host, query: str = "") -> None:
        """``host`` runs the searches: ``find_search(screen, text, generation)`` and
        ``find_more(screen, text, after, generation)`` answer with FindAnswered/FindMore."""
        super().__init__()
        self.t = t
        self._now = now
        self.host = host
        self.initial = query
        self.generation = 0
        self.answered = 0  # the generation on screen
        self.found: Found | None = None
        self._timer: Timer | None = None
        #: Enter came before the answer to what was typed: open its first result when it comes.
        self._open_on_answer = False

    def compose(self) -> ComposeResult:
        with Vertical(id="find-box"):
            yield Static(Text.assemble((self.t("find.title"), "bold"), "  ", (self.t("find.keys"), "dim")),
                         id="find-head")
            yield Input(value=self.initial, placeholder=self.t("find.placeholder"), id="find-input")
            yield Static(id="find-status")
            yield FindList(t=self.t, now=self._now, id="find-results")

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._status()
        if self.initial:
            self._ask(self.initial)
        else:
            self.query_one(FindList).show([], [], [], None, (), hint=self.t("find.hint"))

    @on(Input.Changed, "#find-input")
    def _changed(self, event: Input.Changed) -> None:
        if self._timer is not None:
            self._timer.stop()
        text = event.value
        self._timer = self.set_timer(DEBOUNCE, lambda: self._ask(text))

    def _ask(self, text: str) -> None:
        self._timer = None
        self.generation += 1
        if not text.strip():
            self.found = None
            self.answered = self.generation
            self.query_one(FindList).show([], [], [], None, (), hint=self.t("find.hint"))
            self._status()
            return
        self._status(searching=True)
        self.host.find_search(self, text, self.generation)

    @property
    def text(self) -> str:
        return self.query_one(Input).value

    @on(FindAnswered)
    def _answered(self, event: FindAnswered) -> None:
        if event.generation < self.answered or event.generation != self.generation:
            return  # an answer to something typed before
        found: Found = event.found  # type: ignore[assignment]
        self.found = found
        self.answered = event.generation
        page = found.messages
        self.query_one(FindList).show(found.customers, found.orders, page.hits, page.next, terms(found.query))
        self._status()
        if self._open_on_answer:
            self._open_on_answer = False
            self.query_one(FindList).choose()

    @on(FindList.NeedMore)
    def _need_more(self, event: FindList.NeedMore) -> None:
        if self.found is not None:
            self.host.find_more(self, self.found.query.text, event.after, self.answered)

    @on(FindMore)
    def _more(self, event: FindMore) -> None:
        if event.generation == self.answered:
            self.query_one(FindList).add_page(event.page.hits, event.page.next)  # type: ignore[attr-defined]
            self._status()

    def _status(self, searching: bool = False) -> None:
        t = self.t
        line = Text()
        found = self.found
        if searching:
            line.append(t("find.searching"), style="dim")
        elif found is not None:
            q = found.query
            if q.problems:
                line.append(t("find.problem", what=one_line(" ".join(q.problems), limit=80)) + "  ",
                            style="bold #ff5f5f")
            filters = [f"{k}:{one_line(str(v), limit=30)}" for k, v in (
                ("agent", q.agent), ("group", q.group), ("status", q.status), ("customer", q.customer)) if v]
            if q.since is not None or q.until is not None:
                filters.append(t("find.dates"))
            if filters:
                line.append(t("find.filters", what=" ".join(filters)) + "  ", style="#af87ff")
            if found.indexed < 1.0 or found.queued:
                line.append(t("find.indexing", pct=int(found.indexed * 100)), style="#ffd75f")
        self.query_one("#find-status", Static).update(line)

    def action_move(self, delta: int) -> None:
        self.query_one(FindList).move(delta)

    @on(Input.Submitted, "#find-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._timer is not None:  # typed, not asked yet: ask now and open what it finds
            self._timer.stop()
            self._open_on_answer = True
            self._ask(event.value)
        elif self.answered != self.generation:  # asked, no answer yet
            self._open_on_answer = True
        else:
            self.query_one(FindList).choose()

    @on(FindList.Chosen)
    def _chosen(self, event: FindList.Chosen) -> None:
        found = self.found
        if found is not None:
            self.dismiss(Target(event.row, found.query.text, terms(found.query)))

