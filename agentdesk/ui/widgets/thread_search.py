"""Search inside the open conversation: a one-line bar under the thread (Ctrl+F while the
thread has focus, or opened by Find at a message).

Typing asks, a short pause after the last key (:class:`ThreadSearchBar.Changed`); Enter
goes back to the thread, where ``n`` / ``N`` step through the matches; Esc closes the
bar and clears the highlighting. The count shows which match is marked.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static

from agentdesk.i18n import Catalog

DEBOUNCE = 0.12


class ThreadSearchBar(Horizontal):
    BINDINGS = [Binding("escape", "close", show=False)]

    class Changed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Done(Message):
        """Enter (go back to the thread) or Esc (``closed``: clear the search)."""

        def __init__(self, closed: bool) -> None:
            super().__init__()
            self.closed = closed

    def __init__(self, *, t: Catalog, id: str | None = None) -> None:
        super().__init__(id=id)
        self._t = t
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text(self._t("thread_search.label"), style="bold"), id="thread-search-label")
        yield Input(placeholder=self._t("thread_search.placeholder"), id="thread-search-input")
        yield Static(id="thread-search-count")

    def on_mount(self) -> None:
        self.display = False

    @property
    def text(self) -> str:
        return self.query_one(Input).value

    def open(self, text: str | None = None, *, focus: bool = True) -> None:
        """Show the bar (with ``text``, when given, as if typed and answered)."""
        self.display = True
        field = self.query_one(Input)
        if text is not None and text != field.value:
            with field.prevent(Input.Changed):
                field.value = text
        if focus:
            field.focus()

    def count(self, index: int, total: int) -> None:
        label = self._t("thread_search.none") if not total else self._t("thread_search.count", i=index or "-", n=total)
        self.query_one("#thread-search-count", Static).update(Text(label, style="dim" if total else "#ff5f5f"))

    @on(Input.Changed, "#thread-search-input")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        text = event.value
        self._timer = self.set_timer(DEBOUNCE, lambda: self.post_message(self.Changed(text)))

    @on(Input.Submitted, "#thread-search-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._timer is not None:  # the last keys: ask now, not after the pause
            self._timer.stop()
            self._timer = None
            self.post_message(self.Changed(event.value))
        self.post_message(self.Done(closed=False))

    def action_close(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self.display = False
        self.post_message(self.Done(closed=True))
