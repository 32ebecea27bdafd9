"""A short list to pick one thing from (order actions): Enter or a digit picks, Esc cancels."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option


class ChoiceScreen(ModalScreen[str | None]):
    """Dismisses with the chosen key, or None."""

    BINDINGS = [Binding("escape", "cancel", show=False)] + [
        Binding(str(n), f"pick({n})", show=False) for n in range(1, 10)
    ]

    def __init__(self, title: str, choices: list[tuple[str, Text | str]]) -> None:
        super().__init__()
        self._title = title
        self._choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(id="choice-box") as box:
            box.border_title = Text(self._title)
            options = []
            for n, (key, label) in enumerate(self._choices, 1):
                line = Text(f"{n} ", style="bold #5fd7ff") if n < 10 else Text("  ")
                line.append_text(label if isinstance(label, Text) else Text(label))
                options.append(Option(line, id=key))
            yield OptionList(*options, id="choice-list")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_pick(self, n: int) -> None:
        if 1 <= n <= len(self._choices):
            self.dismiss(self._choices[n - 1][0])

    def action_cancel(self) -> None:
        self.dismiss(None)
