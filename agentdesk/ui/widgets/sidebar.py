"""The customer sidebar: profile, orders, previous conversations, shared notes.

It renders a :class:`CustomerCard` the app read in a worker; everything the customer
or an order carries is cleaned and shown as plain ``Text``.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Group
from rich.padding import Padding
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from agentdesk import timefmt
from agentdesk.i18n import Catalog
from agentdesk.models import CustomerCard, Order
from agentdesk.safetext import fit, one_line

ORDER_STATUS_STYLE = {
    "待付款": "grey62",
    "待发货": "#ffaf00",
    "已发货": "#5fafff",
    "已签收": "#5fd787",
    "退款中": "#ff875f",
    "已退款": "grey62",
    "纠纷中": "bold #ff5f5f",
}


class Sidebar(VerticalScroll, can_focus=True):
    def __init__(self, *, now: Callable[[], float], t: Catalog, id: str | None = None) -> None:
        super().__init__(id=id)
        self._now = now
        self._t = t
        self.card: CustomerCard | None = None
        self.current_conversation: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text(self._t("sidebar.empty"), style="grey58"), id="profile", classes="section")
        yield Static(id="orders", classes="section")
        yield Static(id="followups", classes="section")
        yield Static(id="history", classes="section")
        yield Static(id="notes", classes="section")

    def show(self, card: CustomerCard | None, current_conversation: str | None = None) -> None:
        self.card = card
        self.current_conversation = current_conversation
        if card is None:
            self.query_one("#profile", Static).update(Text(self._t("sidebar.empty"), style="grey58"))
            for name in ("orders", "followups", "history", "notes"):
                self.query_one(f"#{name}", Static).update("")
            return
        self.query_one("#profile", Static).update(self._profile(card))
        self.query_one("#orders", Static).update(self._orders(card))
        followups = self.query_one("#followups", Static)
        followups.update(self._followups(card))
        followups.display = bool(card.followups)
        self.query_one("#history", Static).update(self._history(card))
        self.query_one("#notes", Static).update(self._notes(card))
        self.scroll_home(animate=False)

    # -- sections ----------------------------------------------------------------

    def _heading(self, key: str, **values) -> Text:
        return Text(self._t(key, **values), style="bold #87d7ff")

    def _profile(self, card: CustomerCard) -> Group:
        c = card.customer
        t = self._t
        name = Text(one_line(c.name, limit=60), style="bold")
        if c.vip_level:
            name.append(f"  VIP{c.vip_level}", style="bold #ffd75f")
        lines = [name]
        rows = [
            (t("sidebar.vip"), f"V{c.vip_level}" if c.vip_level else t("vip.none")),
            (t("sidebar.location"), one_line(c.location, limit=80) or "—"),
            (t("sidebar.first_seen"), timefmt.date(c.first_seen) if c.first_seen else "—"),
        ]
        if c.tags:
            rows.append((t("sidebar.tags"), " · ".join(one_line(x, limit=20) for x in c.tags)))
        for label, value in rows:
            lines.append(Text.assemble((f"{label}  ", "grey58"), value))
        if card.complaints:  # the team sees at a glance who has complained before
            lines.append(Text.assemble((f"{t('sidebar.complaints')}  ", "grey58"), (str(card.complaints), "bold #ff5f5f")))
        if c.opt_out:
            lines.append(Text(t("sidebar.opt_out"), style="#ff875f"))
        return Group(*lines)

    def _orders(self, card: CustomerCard) -> Group:
        t = self._t
        parts: list = [self._heading("sidebar.orders"), Text("")]
        if not card.orders:
            parts.append(Text(t("sidebar.no_orders"), style="grey58"))
        for order in card.orders:
            parts.extend(self._order(order))
        hidden = card.order_count - len(card.orders)
        if hidden > 0:
            parts.append(Text(t("sidebar.orders_more", n=hidden), style="grey58"))
        return Group(*parts)

    def _order(self, o: Order) -> list[Text]:
        width = max(20, self.size.width - 4)
        head = Text.assemble(
            (one_line(o.status, limit=20), ORDER_STATUS_STYLE.get(o.status, "")),
            ("  ¥" + f"{o.amount:,.2f}", "bold"),
            ("  " + (timefmt.date(o.created_at) if o.created_at else ""), "grey58"),
        )
        lines = [head, Text(one_line(o.id), style="grey66")]
        for item in o.items[:3]:
            label = one_line(item.title) + (f" ×{item.qty}" if item.qty != 1 else "")
            lines.append(Text("· " + fit(label, width - 2)))
            if item.sku:
                lines.append(Text("  " + fit(one_line(item.sku), width - 2), style="grey58"))
        if len(o.items) > 3:
            lines.append(Text(f"  … +{len(o.items) - 3}", style="grey58"))
        if o.carrier or o.tracking_no:
            lines.append(
                Text.assemble(
                    (self._t("sidebar.tracking") + " ", "grey58"),
                    one_line(o.carrier or "", limit=30),  # a carrier's name, a number: short
                    " ",
                    (one_line(o.tracking_no or "", limit=40), "underline"),
                )
            )
        if o.refund:
            reason = one_line(str(o.refund.get("reason", "")), limit=60)
            amount = _money(o.refund.get("amount", o.amount))
            lines.append(Text(self._t("sidebar.refund", amount=amount, reason=reason), style="#ff875f"))
        for remark in o.remarks[-3:]:
            body = one_line(str(remark.get("body", "")), limit=200)
            lines.append(Text.assemble((self._t("sidebar.remark") + " ", "grey58"), fit(body, width - 6)))
        lines.append(Text(""))
        return lines

    def _followups(self, card: CustomerCard) -> Group:
        now = self._now()
        parts: list = [self._heading("sidebar.followups")]
        for f in card.followups:
            when = timefmt.clock(f.due_at, now)
            style = "bold #ffaf00" if f.due_at <= now else "grey58"
            parts.append(Text.assemble(("⏲ " + when, style), ("  " + one_line(f.order_id or ""), "grey66")))
            if f.note:
                parts.append(Padding(Text(one_line(f.note, limit=200)), (0, 0, 0, 2)))
        return Group(*parts)

    def _history(self, card: CustomerCard) -> Group:
        t = self._t
        now = self._now()
        parts: list = [self._heading("sidebar.conversations")]
        others = [c for c in card.conversations if c.id != self.current_conversation]
        if not others:
            parts.append(Text(t("sidebar.no_conversations"), style="grey58"))
        for conv in others:
            parts.append(
                Text.assemble(
                    (timefmt.day(conv.last_message_at, now), "grey58"),
                    "  ",
                    (one_line(conv.group, limit=12), ""),
                    "  ",
                    (t.word("status", conv.status), "#af87ff"),
                    ("  " + t("sidebar.messages", n=conv.message_count), "grey58"),
                )
            )
            parts.append(Text("  " + fit(one_line(conv.preview), max(10, self.size.width - 6)), style="grey66"))
        return Group(*parts)

    def _notes(self, card: CustomerCard) -> Group:
        now = self._now()
        parts: list = [self._heading("sidebar.notes")]
        if not card.notes:
            parts.append(Text(self._t("sidebar.no_notes"), style="grey58"))
        for note in card.notes:
            author = one_line(note.author, limit=40) or "?"
            parts.append(Text.assemble(("📝 ", ""), (author, "bold"), ("  " + timefmt.clock(note.at, now), "grey58")))
            parts.append(Padding(Text(one_line(note.body, limit=500)), (0, 0, 0, 2)))
        return Group(*parts)


def _money(value) -> str:
    """An amount from the shop as it reads in the card ("—" when it is not a number)."""
    try:
        return f"{float(value or 0):,.2f}"
    except (TypeError, ValueError, OverflowError):
        return "—"
