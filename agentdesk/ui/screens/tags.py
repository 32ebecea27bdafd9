"""Edit a conversation's tags and priority.

Tags are typed into one line, separated by commas (either width), 顿号 or spaces; the
suggested tags below are toggled with Enter. Priority is one of low/normal/high/urgent:
←/→ cycle it and 1–4 set it whenever the tag line does not have focus (there those
keys edit text). Enter in the tag line or Ctrl+S saves; Esc cancels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from agentdesk.i18n import Catalog
from agentdesk.models import PRIORITIES
from agentdesk.safetext import one_line
from agentdesk.ui.screens.workflow_box import WorkflowBox

#: low → urgent, the order ←/→ and 1–4 walk.
LEVELS = tuple(sorted(PRIORITIES, key=PRIORITIES.__getitem__))
_SEPARATORS = re.compile(r"[,，、;；\s]+")
MAX_TAG = 20  # characters: a tag is a word, not a sentence


@dataclass(frozen=True)
class TagsAndPriority:
    tags: tuple[str, ...]
    priority: str


def split_tags(text: str) -> tuple[str, ...]:
    """``"退款, 物流 退款 #加急"`` → ``("退款", "物流", "加急")``: cleaned, no repeats."""
    seen: dict[str, None] = {}
    for part in _SEPARATORS.split(one_line(text, limit=2000)):
        tag = part.strip().lstrip("#")[:MAX_TAG]
        if tag:
            seen.setdefault(tag, None)
    return tuple(seen)


class PriorityBar(Static, can_focus=True):
    """The four levels in a row, the current one marked; the screen owns the keys."""


class TagsScreen(ModalScreen[TagsAndPriority | None]):
    BINDINGS = [
        Binding("escape", "cancel", show=False),
        Binding("ctrl+s", "save", show=False, priority=True),
        Binding("enter", "save", show=False),
        Binding("left", "cycle(-1)", show=False),
        Binding("right", "cycle(1)", show=False),
        *[Binding(str(i + 1), f"set_priority({i})", show=False) for i in range(len(LEVELS))],
    ]

    def __init__(self, t: Catalog, tags: list[str], suggestions: list[str], priority: str) -> None:
        super().__init__()
        self.t = t
        self.initial = split_tags(" ".join(tags))
        self.suggestions = list(split_tags(" ".join(suggestions)))
        self.priority = priority if priority in LEVELS else "normal"

    def compose(self) -> ComposeResult:
        with WorkflowBox(id="tags-box", title=self.t("tags.title"), keys=self.t("tags.keys")):
            yield Static(Text(self.t("tags.tags")), classes="workflow-label")
            yield Input(value=" ".join(self.initial), select_on_focus=False, id="tags-input")
            if self.suggestions:
                yield Static(Text(self.t("tags.suggestions")), classes="workflow-label")
                yield OptionList(id="tags-suggestions")
            yield Static(Text(self.t("tags.priority")), classes="workflow-label")
            yield PriorityBar(id="tags-priority")

    def on_mount(self) -> None:
        self._render_suggestions()
        self._render_priority()
        self.query_one("#tags-input").focus()

    @property
    def tags(self) -> tuple[str, ...]:
        return split_tags(self.query_one("#tags-input", Input).value)

    # -- tags ------------------------------------------------------------------------

    @on(Input.Changed, "#tags-input")
    def _typed(self) -> None:
        self._render_suggestions()

    def _render_suggestions(self) -> None:
        if not self.suggestions:
            return
        chips = self.query_one("#tags-suggestions", OptionList)
        keep = chips.highlighted or 0
        have = set(self.tags)
        chips.clear_options()
        for tag in self.suggestions:
            chip = Text("✓ " if tag in have else "+ ", style="green" if tag in have else "dim")
            chip.append(tag, style="bold" if tag in have else "")
            chips.add_option(Option(chip))
        chips.highlighted = min(keep, len(self.suggestions) - 1)

    @on(OptionList.OptionSelected, "#tags-suggestions")
    def _toggle(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        tag = self.suggestions[event.option_index]
        tags = self.tags
        tags = tuple(x for x in tags if x != tag) if tag in tags else tags + (tag,)
        self.query_one("#tags-input", Input).value = " ".join(tags)

    @on(Input.Submitted, "#tags-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    # -- priority --------------------------------------------------------------------

    def _render_priority(self) -> None:
        bar = Text()
        for i, level in enumerate(LEVELS):
            label = f" {i + 1} {self.t(f'tags.priority.{level}')} "
            current = level == self.priority
            style = ("bold reverse red" if level == "urgent" else "bold reverse") if current else "dim"
            bar.append(label, style=style)
            bar.append(" ")
        self.query_one("#tags-priority", PriorityBar).update(bar)

    def action_cycle(self, delta: int) -> None:
        self.action_set_priority((LEVELS.index(self.priority) + delta) % len(LEVELS))

    def action_set_priority(self, index: int) -> None:
        self.priority = LEVELS[index]
        self._render_priority()

    # -- result ----------------------------------------------------------------------

    def action_save(self) -> None:
        self.dismiss(TagsAndPriority(self.tags, self.priority))

    def action_cancel(self) -> None:
        self.dismiss(None)
