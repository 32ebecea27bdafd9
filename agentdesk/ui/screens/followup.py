"""Schedule a follow-up (回访) on a customer, optionally about one of their orders.

Three fields, Tab between them: when (tomorrow, in N days, in 7 days, and — when an
order is already delivered — 3 days after delivery), which order (none first), and a
note. Enter walks forward through the fields and confirms on the note; Ctrl+S confirms
from anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from agentdesk.i18n import Catalog
from agentdesk.ui.screens.workflow_box import WorkflowBox
from agentdesk.safetext import editable, fit, one_line, pad
from agentdesk.ui.screens.snooze import when_text

DAY = 86400.0
#: Words in an order's label that mean the parcel has arrived.
DELIVERED = ("已签收", "已收货", "已送达", "delivered")
AFTER_DELIVERY_DAYS = 3


@dataclass(frozen=True)
class FollowupRequest:
    due_at: float
    order_id: str | None
    note: str


@dataclass(frozen=True)
class _When:
    label: str
    due_at: float
    order_id: str | None = None  # "after delivery" belongs to one order


def is_delivered(label: str) -> bool:
    low = label.lower()
    return any(word in low for word in DELIVERED)


class FollowupScreen(ModalScreen[FollowupRequest | None]):
    BINDINGS = [
        Binding("escape", "cancel", show=False),
        Binding("ctrl+s", "submit", show=False, priority=True),
    ]

    def __init__(
        self,
        t: Catalog,
        now: float,
        customer_name: str,
        orders: list[tuple[str, str]],
        default_days: int,
        suggested_note: str,
    ) -> None:
        super().__init__()
        self.t = t
        self.now = now
        self.customer_name = customer_name
        self.orders = list(orders)
        self.suggested_note = suggested_note
        self.whens, self.default_when = self._whens(max(1, int(default_days)))

    def _whens(self, default_days: int) -> tuple[list[_When], int]:
        t, now = self.t, self.now
        days = sorted({1, default_days, 7})
        whens = [_When(t("followup.tomorrow") if d == 1 else t("followup.in_days", n=d), now + d * DAY) for d in days]
        delivered = next((o for o in self.orders if is_delivered(o[1])), None)
        if delivered is not None:
            label = t("followup.after_delivery", order=one_line(delivered[0], limit=40))
            whens.append(_When(label, now + AFTER_DELIVERY_DAYS * DAY, delivered[0]))
        return whens, days.index(default_days)

    def compose(self) -> ComposeResult:
        with WorkflowBox(id="followup-box", title=self.t("followup.title"), keys=self.t("followup.keys")):
            yield Static(Text(self.t("followup.customer", name=one_line(self.customer_name, limit=60))), id="followup-customer")
            yield Static(Text(self.t("followup.when")), classes="workflow-label")
            yield OptionList(*self._when_options(), id="followup-when")
            yield Static(Text(self.t("followup.order")), classes="workflow-label")
            yield OptionList(*self._order_options(), id="followup-order")
            yield Static(Text(self.t("followup.note")), classes="workflow-label")
            yield Input(value=editable(self.suggested_note), select_on_focus=False, id="followup-note")

    def _when_options(self) -> list[Option]:
        rows = []
        for when in self.whens:
            row = Text(pad(when.label, 28))
            row.append("→ " + when_text(self.t, when.due_at, self.now), style="dim")
            rows.append(Option(row))
        return rows

    def _order_options(self) -> list[Option]:
        rows = [Option(Text(self.t("followup.no_order"), style="dim"))]
        for order_id, label in self.orders:
            row = Text(pad(one_line(order_id, limit=40), 20), style="bold")
            row.append(fit(one_line(label), 44))
            rows.append(Option(row))
        return rows

    def on_mount(self) -> None:
        when = self.query_one("#followup-when", OptionList)
        when.highlighted = self.default_when
        self.query_one("#followup-order", OptionList).highlighted = 0
        when.focus()

    @on(OptionList.OptionHighlighted, "#followup-when")
    def _when_moved(self, event: OptionList.OptionHighlighted) -> None:
        # "After delivery" is about one order: pick it, unless the agent already chose one.
        order_id = self.whens[event.option_index].order_id
        orders = self.query_one("#followup-order", OptionList)
        if order_id is not None and orders.highlighted in (None, 0):
            orders.highlighted = 1 + [o[0] for o in self.orders].index(order_id)

    @on(OptionList.OptionSelected, "#followup-when")
    def _when_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.query_one("#followup-order").focus()

    @on(OptionList.OptionSelected, "#followup-order")
    def _order_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.query_one("#followup-note").focus()

    @on(Input.Submitted, "#followup-note")
    def _note_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        when = self.whens[self.query_one("#followup-when", OptionList).highlighted or 0]
        index = self.query_one("#followup-order", OptionList).highlighted or 0
        order_id = self.orders[index - 1][0] if index > 0 else None
        note = self.query_one("#followup-note", Input).value.strip()
        self.dismiss(FollowupRequest(when.due_at, order_id, note))

    def action_cancel(self) -> None:
        self.dismiss(None)
