"""The ``?`` / F1 overlay: every binding, generated from the action registry."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from agentdesk.i18n import Catalog
from agentdesk.ui.actions import ACTIONS, ActionSpec, display


def help_table(t: Catalog, visible: list[ActionSpec], keymap: dict[str, str] | None = None) -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0), expand=True)
    table.add_column(style="bold #5fd7ff", no_wrap=True, width=14)
    table.add_column(ratio=1)
    for scope in ("app", "inbox", "thread", "composer", "conversation"):
        specs = [a for a in visible if a.scope == scope]
        if not specs:
            continue
        table.add_row(Text(t(f"help.scope.{scope}"), style="bold underline"), "")
        for spec in specs:
            table.add_row(display(spec, keymap), Text(t(spec.label + ".help")))
        table.add_row("", "")
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,f1,question_mark,q", "dismiss", show=False),
    ]

    def __init__(
        self,
        t: Catalog,
        read_only: bool = False,
        specs: list[ActionSpec] | None = None,
        keymap: dict[str, str] | None = None,
    ) -> None:
        """``specs``: the actions to list (the monitor passes its own registry);
        ``keymap``: the ``[keys]`` remaps, shown instead of the default keys."""
        super().__init__()
        self._t = t
        self._keymap = keymap
        self._visible = [a for a in (ACTIONS if specs is None else specs) if not (read_only and a.write)]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_title = Text(self._t("help.title"))
            box.border_subtitle = Text(self._t("help.close"))
            yield Static(help_table(self._t, self._visible, self._keymap))

    def action_dismiss(self) -> None:
        self.dismiss(None)
