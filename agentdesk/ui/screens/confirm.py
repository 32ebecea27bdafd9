"""A yes/no step before anything that changes an order: change the address, start or
approve a refund, add a remark.

The caller says what will happen (``lines``); the screen shows it and, when the action
needs one, a single-line field (new address, refund reason, remark). Enter or ``y``
confirms, Esc or ``n`` cancels; while the field has focus ``y``/``n`` are just letters.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from agentdesk.i18n import Catalog
from agentdesk.safetext import clean, editable, one_line
from agentdesk.ui.screens.workflow_box import WorkflowBox


@dataclass(frozen=True)
class Confirmed:
    value: str  # the field's text, stripped; "" when the screen has no field


class ConfirmScreen(ModalScreen[Confirmed | None]):
    BINDINGS = [
        Binding("escape,n", "cancel", show=False),
        Binding("enter,y", "confirm", show=False),
    ]

    def __init__(
        self,
        t: Catalog,
        title: str,
        lines: list[str | Text],
        *,
        field_label: str | None = None,
        field_value: str = "",
        field_required: bool = False,
        danger: bool = False,
    ) -> None:
        super().__init__()
        self.t = t
        self.title_text = title
        self.lines = lines
        self.field_label = field_label
        self.field_value = field_value
        self.field_required = field_required
        self.danger = danger

    def compose(self) -> ComposeResult:
        keys = self.t("confirm.keys" if self.field_label is None else "confirm.keys_field")
        with WorkflowBox(id="confirm-box", keys=keys) as box:
            box.set_class(self.danger, "-danger")
            yield Static(Text(one_line(self.title_text), style="bold red" if self.danger else "bold"), id="confirm-title")
            yield Static(self._body(), id="confirm-lines")
            if self.field_label is not None:
                yield Static(Text(one_line(self.field_label)), classes="workflow-label")
                yield Input(value=editable(self.field_value), select_on_focus=False, id="confirm-field")
            yield Static(id="confirm-error", classes="workflow-error")

    def _body(self) -> Text:
        body = Text()
        for i, line in enumerate(self.lines):
            if i:
                body.append("\n")
            # A caller's Text keeps its styles; a plain string may hold customer data.
            body.append_text(line if isinstance(line, Text) else Text(clean(line)))
        if self.danger:
            body.append("\n" if self.lines else "")
            body.append(self.t("confirm.danger"), style="bold red")
        return body

    def on_mount(self) -> None:
        self.query_one("#confirm-error").display = False
        if self.field_label is not None:
            self.query_one("#confirm-field", Input).focus()

    @on(Input.Submitted, "#confirm-field")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()

    def action_confirm(self) -> None:
        value = ""
        if self.field_label is not None:
            value = self.query_one("#confirm-field", Input).value.strip()
            if self.field_required and not value:
                error = self.query_one("#confirm-error", Static)
                error.update(Text(self.t("confirm.required", label=one_line(self.field_label))))
                error.display = True
                self.call_after_refresh(error.scroll_visible, animate=False)
                self.query_one("#confirm-field", Input).focus()
                return
        self.dismiss(Confirmed(value))

    def action_cancel(self) -> None:
        self.dismiss(None)
