"""The conversation thread: a ScrollView drawn with the Line API.

Loaded messages (the newest page, plus older pages fetched on scroll-up) are laid out
once per width into strips; drawing a frame only slices those strips. Customer text
is cleaned and wrapped in ``Text`` – never parsed as markup.

Opened at a message (from Find, or a search in the thread) it holds a window around
that message instead: older pages load on scroll-up, newer ones on scroll-down
(:class:`NeedNewer`) until it reaches the newest and follows it again. The marked
message has a heavy yellow border; the searched words are highlighted in every bubble,
and ``n`` / ``N`` go to the next older / newer match (:class:`NeedMessage` when that
one is not loaded).
"""

from __future__ import annotations

from collections.abc import Callable

from rich.align import Align
from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.style import Style
from rich.text import Text
from rich import box
from textual.geometry import Size
from textual.message import Message as TextualMessage
from textual.scroll_view import ScrollView
from textual.strip import Strip

from agentdesk import timefmt
from agentdesk.i18n import Catalog
from agentdesk.models import Message
from agentdesk.safetext import clean, one_line
from agentdesk.textfold import spans
from agentdesk.ui import actions

BORDER = {
    "customer": "#5fafff",
    "agent": "#5fd787",
    "bot": "grey50",
    "note": "#ffd75f",
}


MARK = "#ffd700"
MATCH_STYLE = Style(color="black", bgcolor="#ffd75f", bold=True)


class ThreadView(ScrollView, can_focus=True):
    BINDINGS = actions.bindings("thread")

    class NeedOlder(TextualMessage):
        def __init__(self, conversation_id: str, before: tuple[float, int]) -> None:
            super().__init__()
            self.conversation_id = conversation_id
            self.before = before

    class NeedNewer(TextualMessage):
        """Scrolled to the end of a window that stops short of the newest message."""

        def __init__(self, conversation_id: str, after: tuple[float, int]) -> None:
            super().__init__()
            self.conversation_id = conversation_id
            self.after = after

    class Marked(TextualMessage):
        """The marked search match changed: (1-based index, how many)."""

        def __init__(self, index: int, total: int) -> None:
            super().__init__()
            self.index = index
            self.total = total

    class NeedMessage(TextualMessage):
        """``n`` / ``N`` reached a match that is not loaded: open the thread at it."""

        def __init__(self, conversation_id: str, message_id: int) -> None:
            super().__init__()
            self.conversation_id = conversation_id
            self.message_id = message_id

    def __init__(self, *, now: Callable[[], float], t: Catalog, customer_name: str = "", id: str | None = None) -> None:
        super().__init__(id=id)
        self._now = now
        self._following = True  # sitting on the newest message (kept across resizes)
        self._t = t
        self.conversation_id: str | None = None
        self.customer_name = customer_name
        self.messages: list[Message] = []
        self.has_older = False
        self.has_newer = False
        self._asked_older = False
        self._asked_newer = False
        self._lines: list[Strip] = []
        self._laid_out_width = -1
        #: The marked message (opened at it, or the current search match).
        self.marked: int | None = None
        #: Folded search terms highlighted in every bubble, and the matching message ids,
        #: newest first (the whole conversation's, loaded or not).
        self.terms: tuple[str, ...] = ()
        self.matches: list[int] = []
        self._offsets: dict[int, tuple[int, int]] = {}  # message id -> (first line, end line)
        actions.localize(self._bindings, t)

    # -- data in -----------------------------------------------------------------

    def show(self, conversation_id: str, customer_name: str, messages: list[Message], has_older: bool,
             *, has_newer: bool = False, marked: int | None = None) -> None:
        """Show a thread: at its newest message, or (``marked``) at that message."""
        if conversation_id != self.conversation_id:
            self.terms, self.matches = (), []
        self.conversation_id = conversation_id
        self.customer_name = customer_name
        self.messages = list(messages)
        self.has_older = has_older
        self.has_newer = has_newer
        self._asked_older = self._asked_newer = False
        self.marked = marked if any(m.id == marked for m in messages) else None
        self._following = self.marked is None and not has_newer
        self._layout(force=True)
        if self.marked is None:
            self.scroll_to(y=self.virtual_size.height, animate=False, immediate=True, force=True)
        self.call_after_refresh(self._settle)

    def _settle(self) -> None:
        """After layout: sit on the newest message (or the marked one), or ask for older
        ones if all fits."""
        if self.marked is not None:
            self._scroll_to_marked()
        else:
            self.scroll_end(animate=False, immediate=True, force=True)
        self._check_older()
        self._check_newer()

    # -- marking and searching ------------------------------------------------------

    def mark(self, message_id: int | None) -> bool:
        """Mark a loaded message and bring it into view; False if it is not loaded."""
        if message_id is not None and message_id not in self._offsets:
            return False
        self.marked = message_id
        self._layout(force=True)
        if message_id is not None:
            self._following = False
            self._scroll_to_marked()
        if self.matches:
            self.post_message(self.Marked(*self.match_position))
        return True

    def _scroll_to_marked(self) -> None:
        span = self._offsets.get(self.marked) if self.marked is not None else None
        if span is None:
            return
        start, end = span
        height = self.scrollable_content_region.height
        pad = max(0, height - len(self._lines))  # a short thread sits at the bottom
        y = max(0, start - pad - max(0, (height - (end - start)) // 3))
        self.scroll_to(y=y, animate=False, immediate=True, force=True)

    def set_search(self, conversation_id: str, terms: tuple[str, ...], matches: list[int],
                   marked: int | None = None) -> None:
        """Highlight ``terms`` and step through ``matches`` (newest first) with n / N."""
        if conversation_id != self.conversation_id:
            return
        self.terms, self.matches = terms, matches
        if marked is None and matches:
            marked = next((m for m in matches if m in self._offsets), None)
            if marked is None:
                self._goto(matches[0])
                return
        self.mark(marked if marked in self._offsets else None)

    def clear_search(self) -> None:
        self.terms, self.matches = (), []
        self.marked = None
        self._layout(force=True)

    @property
    def match_position(self) -> tuple[int, int]:
        """(1-based index of the marked match, how many matches); (0, n) when none is marked."""
        index = self.matches.index(self.marked) + 1 if self.marked in self.matches else 0
        return index, len(self.matches)

    def action_next_match(self, delta: int) -> None:
        """``n``: the next older match, ``N``: the next newer (round the ends)."""
        if not self.matches:
            return
        index, _ = self.match_position
        nxt = (index - 1 + delta) % len(self.matches) if index else (0 if delta > 0 else len(self.matches) - 1)
        self._goto(self.matches[nxt])

    def _goto(self, message_id: int) -> None:
        if not self.mark(message_id) and self.conversation_id is not None:
            self.post_message(self.NeedMessage(self.conversation_id, message_id))

    def _check_older(self) -> None:
        if (
            self.scroll_offset.y <= 1
            and self.has_older
            and not self._asked_older
            and self.messages
            and self.conversation_id
        ):
            self._asked_older = True
            self.post_message(self.NeedOlder(self.conversation_id, self.messages[0].key))

    def clear(self) -> None:
        self.conversation_id = None
        self.messages = []
        self.has_older = self.has_newer = False
        self.marked = None
        self.terms, self.matches = (), []
        self._layout(force=True)

    def prepend(self, conversation_id: str, messages: list[Message], has_older: bool) -> None:
        """Older messages arrived: add them above without moving what the agent reads."""
        if conversation_id != self.conversation_id:
            return
        before = len(self._lines)
        self.messages[:0] = messages
        self.has_older = has_older
        self._asked_older = False
        self._layout(force=True)
        self.scroll_to(y=self.scroll_offset.y + len(self._lines) - before, animate=False, immediate=True, force=True)
        self.call_after_refresh(self._check_older)

    def refresh_from(self, conversation_id: str, messages: list[Message], has_older: bool | None = None) -> None:
        """Replace what is shown from the oldest loaded message on (sync brought new
        messages, or a pending one was sent or withdrawn), keeping the reading position:
        at the bottom it follows new messages, elsewhere it stays put. A window short of
        the newest is left alone: what changed is below it, read when scrolled to."""
        if conversation_id != self.conversation_id or self.has_newer:
            return
        at_bottom = self._following
        y = self.scroll_offset.y
        self.messages = list(messages)
        if has_older is not None:
            self.has_older = has_older
        self._layout(force=True)
        if at_bottom:
            self.scroll_end(animate=False, immediate=True, force=True)
            self._following = True
        else:
            self.scroll_to(y=y, animate=False, immediate=True, force=True)

    def extend_newer(self, conversation_id: str, messages: list[Message], has_newer: bool) -> None:
        """Newer messages arrived for a window short of the newest: add them below."""
        if conversation_id != self.conversation_id:
            return
        known = {m.id for m in self.messages}
        self.messages.extend(m for m in messages if m.id not in known)
        self.has_newer = has_newer
        self._asked_newer = False
        y = self.scroll_offset.y
        self._layout(force=True)
        self.scroll_to(y=y, animate=False, immediate=True, force=True)

    def append(self, conversation_id: str, messages: list[Message]) -> None:
        if conversation_id != self.conversation_id or not messages or self.has_newer:
            return
        known = {m.id for m in self.messages}
        fresh = [m for m in messages if m.id not in known]
        at_bottom = self._following
        self.messages.extend(fresh)
        self._layout(force=True)
        if at_bottom:
            self.scroll_end(animate=False, immediate=True, force=True)

    # -- layout ------------------------------------------------------------------

    def on_resize(self) -> None:
        # A pane growing or shrinking (the suggestion bar, a banner, the status line)
        # must not unstick a reader who was following the newest messages.
        follow = self._following
        self._layout()
        if follow:
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True, force=True)

    def _layout(self, force: bool = False) -> None:
        width = self.scrollable_content_region.width or self.size.width
        if width <= 0 or (not force and width == self._laid_out_width):
            return
        self._laid_out_width = width
        console = self.app.console
        options = console.options.update_width(width)
        lines: list[Strip] = []
        offsets: dict[int, tuple[int, int]] = {}
        if self.conversation_id is None:
            lines.append(Strip.blank(width))
            renderables: list[RenderableType] = [Align.center(Text(self._t("thread.empty"), style="grey58"))]
        else:
            edge = self._t("thread.older") if self.has_older else self._t("thread.start")
            renderables = [Align.center(Text(edge, style="grey50"))]
            renderables += [self._bubble(m, width) for m in self.messages]
            if self.has_newer:
                renderables.append(Align.center(Text(self._t("thread.newer"), style="grey50")))
        owners = [None, *(m.id for m in self.messages), None]
        for owner, renderable in zip(owners, renderables):
            start = len(lines)
            for segments in console.render_lines(renderable, options, pad=True):
                lines.append(Strip(segments, width))
            if owner is not None:
                offsets[owner] = (start, len(lines))
        self._lines = lines
        self._offsets = offsets
        self.virtual_size = Size(width, len(lines))
        self.refresh()

    def _bubble(self, m: Message, width: int) -> RenderableType:
        now = self._now()
        when = timefmt.clock(m.at, now)
        body = Text(clean(m.body))
        for a, b in spans(body.plain, self.terms):
            body.stylize(MATCH_STYLE, a, b)
        marked = m.id == self.marked
        if m.sender == "system":
            line = Text(f"— {one_line(m.body)} · {when} —", style=f"bold {MARK}" if marked else "grey58 italic")
            for a, b in spans(line.plain, self.terms):
                line.stylize(MATCH_STYLE, a, b)
            return Align.center(line)
        if m.sender == "customer":
            title = Text.assemble((one_line(self.customer_name, limit=40), "bold"), ("  " + when, "grey58"))
        elif m.sender == "agent":
            title = Text.assemble((one_line(m.author, limit=40) or self._t("thread.you"), "bold"), ("  " + when, "grey58"))
            if m.auto:
                title.append("  " + self._t("thread.auto"), style="italic #87afd7")
        elif m.sender == "note":
            title = Text.assemble(("📝 " + self._t("thread.note"), "bold #ffd75f"),
                                  ("  " + one_line(m.author, limit=40) + " · " + when, "grey58"))
        else:  # bot
            title = Text.assemble((self._t("thread.bot"), "bold grey66"), ("  " + when, "grey58"))
        panel = Panel(
            body,
            title=title,
            title_align="left",
            box=box.HEAVY if marked else box.ROUNDED,
            border_style=f"bold {MARK}" if marked else BORDER.get(m.sender, "grey50"),
            style=Style(bgcolor="#2a2a14") if m.sender == "note" else "",
            expand=False,
            width=min(max(_widest_line(body), title.cell_len + 2) + 4, int(width * 0.78)) if width > 20 else None,
            padding=(0, 1),
        )
        if m.state != "sent":  # the outbox has not delivered it (yet)
            if m.state == "failed":
                status = Text(self._t("thread.failed", e=one_line(m.error or "", limit=80)), style="bold #ff5f5f")
            else:
                status = Text(self._t("thread.pending"), style="#ffd75f")
            status.truncate(max(10, int(width * 0.78)), overflow="ellipsis")
            stack = Group(panel, Align.right(status) if m.sender == "agent" else status)
            return Align.right(stack) if m.sender == "agent" else stack
        return Align.right(panel) if m.sender == "agent" else panel

    # -- drawing -----------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width, height = self.scrollable_content_region.size
        # A short thread sits at the bottom, next to the composer, like any chat.
        index = scroll_y + y - max(0, height - len(self._lines))
        if not 0 <= index < len(self._lines):
            return Strip.blank(width, self.rich_style)
        return self._lines[index].crop(scroll_x, scroll_x + width).apply_style(self.rich_style)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._following = new >= self.max_scroll_y - 1 and not self.has_newer
        self._check_older()
        self._check_newer()

    def _check_newer(self) -> None:
        if (
            self.has_newer
            and not self._asked_newer
            and self.scroll_offset.y >= self.max_scroll_y - 1
            and self.messages
            and self.conversation_id
        ):
            self._asked_newer = True
            self.post_message(self.NeedNewer(self.conversation_id, self.messages[-1].key))


def _widest_line(text: Text) -> int:
    return max((cell_len(line) for line in text.plain.split("\n")), default=0)
