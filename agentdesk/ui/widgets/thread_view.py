"""The conversation thread: a ScrollView drawn with the Line API.

Loaded messages (the newest page, plus older pages fetched on scroll-up) are laid out
once per width into strips; drawing a frame only slices those strips. Customer text
is cleaned and wrapped in ``Text`` – never parsed as markup.
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

BORDER = {
    "customer": "#5fafff",
    "agent": "#5fd787",
    "bot": "grey50",
    "note": "#ffd75f",
}


class ThreadView(ScrollView, can_focus=True):
    class NeedOlder(TextualMessage):
        def __init__(self, conversation_id: str, before: tuple[float, int]) -> None:
            super().__init__()
            self.conversation_id = conversation_id
            self.before = before

    def __init__(self, *, now: Callable[[], float], t: Catalog, customer_name: str = "", id: str | None = None) -> None:
        super().__init__(id=id)
        self._now = now
        self._following = True  # sitting on the newest message (kept across resizes)
        self._t = t
        self.conversation_id: str | None = None
        self.customer_name = customer_name
        self.messages: list[Message] = []
        self.has_older = False
        self._asked_older = False
        self._lines: list[Strip] = []
        self._laid_out_width = -1

    # -- data in -----------------------------------------------------------------

    def show(self, conversation_id: str, customer_name: str, messages: list[Message], has_older: bool) -> None:
        self._following = True
        self.conversation_id = conversation_id
        self.customer_name = customer_name
        self.messages = list(messages)
        self.has_older = has_older
        self._asked_older = False
        self._layout(force=True)
        self.scroll_to(y=self.virtual_size.height, animate=False, immediate=True, force=True)
        self.call_after_refresh(self._settle)

    def _settle(self) -> None:
        """After layout: sit on the newest message, or ask for older ones if all fits."""
        self.scroll_end(animate=False, immediate=True, force=True)
        self._check_older()

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
        self.has_older = False
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
        at the bottom it follows new messages, elsewhere it stays put."""
        if conversation_id != self.conversation_id:
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

    def append(self, conversation_id: str, messages: list[Message]) -> None:
        if conversation_id != self.conversation_id or not messages:
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
        if self.conversation_id is None:
            lines.append(Strip.blank(width))
            renderables: list[RenderableType] = [Align.center(Text(self._t("thread.empty"), style="grey58"))]
        else:
            edge = self._t("thread.older") if self.has_older else self._t("thread.start")
            renderables = [Align.center(Text(edge, style="grey50"))]
            renderables += [self._bubble(m, width) for m in self.messages]
        for renderable in renderables:
            for segments in console.render_lines(renderable, options, pad=True):
                lines.append(Strip(segments, width))
        self._lines = lines
        self.virtual_size = Size(width, len(lines))
        self.refresh()

    def _bubble(self, m: Message, width: int) -> RenderableType:
        now = self._now()
        when = timefmt.clock(m.at, now)
        body = Text(clean(m.body))
        if m.sender == "system":
            return Align.center(Text(f"— {one_line(m.body)} · {when} —", style="grey58 italic"))
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
            box=box.ROUNDED,
            border_style=BORDER.get(m.sender, "grey50"),
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
        self._following = new >= self.max_scroll_y - 1
        self._check_older()


def _widest_line(text: Text) -> int:
    return max((cell_len(line) for line in text.plain.split("\n")), default=0)
