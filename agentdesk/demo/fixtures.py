"""Reading the demo fixtures (package data) into model records.

Fixture times are offsets from an *anchor* ("-3m", "-2d4h"; "+2m" for what is still to
come, like a follow-up's due time), so the demo looks live whenever its cache is built;
tests pass a fixed anchor for reproducible screens.
A broken fixture raises :class:`FixtureError` naming the file and the field.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from agentdesk.models import (
    CONVERSATION_STATUSES,
    GROUPS,
    ORDER_STATUSES,
    PRIORITIES,
    SENDER_KINDS,
    Agent,
    Customer,
    Order,
    OrderItem,
)

_OFFSET = re.compile(r"^([-+])(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
#: Orders in these states carry their refund request ({"reason", "amount", "agent_id", "at", "status"}).
_REFUND_STATUS = {"退款中": "requested", "已退款": "approved"}


class FixtureError(ValueError):
    pass


@dataclass(frozen=True)
class MessageSeed:
    sender: str
    body: str
    at: float
    agent_id: str | None = None


@dataclass(frozen=True)
class ConversationSeed:
    id: str
    customer_id: str
    group: str
    status: str
    assignee_id: str | None
    priority: int
    tags: tuple[str, ...]
    order_id: str | None
    messages: tuple[MessageSeed, ...]


@dataclass(frozen=True)
class NoteSeed:
    customer_id: str
    agent_id: str | None
    body: str
    at: float


@dataclass(frozen=True)
class FollowupSeed:
    customer_id: str
    agent_id: str
    due_at: float
    note: str
    order_id: str | None = None
    conversation_id: str | None = None
    created_at: float | None = None


@dataclass
class ShopData:
    shop_id: str
    shop_name: str
    agents: list[Agent] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)  # agent id -> demo token
    customers: list[Customer] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    conversations: list[ConversationSeed] = field(default_factory=list)
    notes: list[NoteSeed] = field(default_factory=list)
    followups: list[FollowupSeed] = field(default_factory=list)


def parse_offset(text: str, anchor: float) -> float:
    m = _OFFSET.match(text or "")
    if not m or not any(m.groups()[1:]):
        raise ValueError(f"not a time offset like -3m, -2d4h or +2m: {text!r}")
    d, h, mi, s = (int(g or 0) for g in m.groups()[1:])
    seconds = d * 86400 + h * 3600 + mi * 60 + s
    return anchor + seconds if m.group(1) == "+" else anchor - seconds


def load(anchor: float) -> ShopData:
    """Every fixture file of the package, resolved against ``anchor`` (epoch seconds)."""
    folder = resources.files("agentdesk.demo") / "fixtures"
    shop_raw = _read(folder / "shop.json", "shop.json")
    data = _shop(shop_raw)
    names = sorted(p.name for p in folder.iterdir() if p.name.startswith("customers") and p.name.endswith(".json"))
    for name in names:
        _customers(_read(folder / name, name), name, data, anchor)
    return data


def load_shop() -> ShopData:
    """Only the shop and its agents (with their demo tokens), without the customers."""
    folder = resources.files("agentdesk.demo") / "fixtures"
    return _shop(_read(folder / "shop.json", "shop.json"))


def _read(path: Any, name: str) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise FixtureError(f"{name}: invalid JSON at line {exc.lineno}: {exc.msg}") from None


def _shop(raw: dict) -> ShopData:
    shop = raw["shop"]
    data = ShopData(shop_id=shop["id"], shop_name=shop["name"])
    for a in raw["agents"]:
        data.agents.append(
            Agent(id=a["id"], name=a["name"], role=a.get("role", "agent"), groups=tuple(a.get("groups", ())))
        )
        if a.get("token"):
            data.tokens[a["id"]] = a["token"]
    return data


def _customers(raw: dict, fname: str, data: ShopData, anchor: float) -> None:
    agent_ids = {a.id for a in data.agents}

    def when(value: str | None, where: str) -> float | None:
        if value is None:
            return None
        try:
            return parse_offset(value, anchor)
        except ValueError as exc:
            raise FixtureError(f"{fname}: {where}: {exc}") from None

    def check(ok: bool, where: str, what: str) -> None:
        if not ok:
            raise FixtureError(f"{fname}: {where}: {what}")

    for c in raw.get("customers", []):
        cid = c["id"]
        data.customers.append(
            Customer(
                id=cid,
                name=c["name"],
                vip_level=int(c.get("vip_level", 0)),
                tags=tuple(c.get("tags", ())),
                location=c.get("location", ""),
                first_seen=when(c.get("first_seen"), f"{cid}.first_seen"),
                opt_out=bool(c.get("opt_out", False)),
            )
        )
        for i, n in enumerate(c.get("notes", [])):
            check(n.get("agent") in agent_ids, f"{cid}.notes[{i}].agent", "unknown agent")
            data.notes.append(NoteSeed(cid, n["agent"], n["body"], when(n["at"], f"{cid}.notes[{i}].at")))
        order_ids = set()
        for o in c.get("orders", []):
            where = f"{cid}.orders.{o.get('id')}"
            check(o.get("status") in ORDER_STATUSES, f"{where}.status", f"unknown status {o.get('status')!r}")
            order_ids.add(o["id"])
            created_at = when(o.get("created_at"), f"{where}.created_at")
            paid_at = when(o.get("paid_at"), f"{where}.paid_at")
            refund = None
            if o["status"] in _REFUND_STATUS:  # the request that put it there
                refund = {"reason": o.get("refund_reason", "客户申请退款"), "amount": float(o["amount"]),
                          "agent_id": None, "at": paid_at or created_at, "status": _REFUND_STATUS[o["status"]]}
            data.orders.append(
                Order(
                    id=o["id"],
                    customer_id=cid,
                    items=tuple(OrderItem(i["title"], i.get("sku", ""), int(i.get("qty", 1)), float(i["price"])) for i in o["items"]),
                    amount=float(o["amount"]),
                    status=o["status"],
                    carrier=o.get("carrier"),
                    tracking_no=o.get("tracking_no"),
                    address=o.get("address", ""),
                    created_at=created_at,
                    paid_at=paid_at,
                    shipped_at=when(o.get("shipped_at"), f"{where}.shipped_at"),
                    delivered_at=when(o.get("delivered_at"), f"{where}.delivered_at"),
                    refund=refund,
                )
            )
        conversation_ids = {conv.get("id") for conv in c.get("conversations", [])}
        for i, f in enumerate(c.get("followups", [])):
            where = f"{cid}.followups[{i}]"
            check(f.get("agent") in agent_ids, f"{where}.agent", "unknown agent")
            check(f.get("order_id") in order_ids | {None}, f"{where}.order_id", "not this customer's order")
            check(f.get("conversation_id") in conversation_ids | {None}, f"{where}.conversation_id",
                  "not this customer's conversation")
            data.followups.append(FollowupSeed(
                cid, f["agent"], when(f["due"], f"{where}.due"), f.get("note", ""), f.get("order_id"),
                f.get("conversation_id"), when(f.get("created", "-1d"), f"{where}.created"),
            ))
        for conv in c.get("conversations", []):
            where = f"{cid}.conversations.{conv.get('id')}"
            check(conv.get("group") in GROUPS, f"{where}.group", f"unknown group {conv.get('group')!r}")
            check(conv.get("status") in CONVERSATION_STATUSES, f"{where}.status", "unknown status")
            check(conv.get("priority", "normal") in PRIORITIES, f"{where}.priority", "unknown priority")
            check(conv.get("assignee") in agent_ids | {None}, f"{where}.assignee", "unknown agent")
            check(conv.get("order_id") in order_ids | {None}, f"{where}.order_id", "not this customer's order")
            messages = []
            for k, m in enumerate(conv.get("messages", [])):
                check(m.get("from") in SENDER_KINDS, f"{where}.messages[{k}].from", "unknown sender")
                messages.append(MessageSeed(m["from"], m["body"], when(m["at"], f"{where}.messages[{k}].at"), m.get("agent")))
            data.conversations.append(
                ConversationSeed(
                    id=conv["id"],
                    customer_id=cid,
                    group=conv["group"],
                    status=conv["status"],
                    assignee_id=conv.get("assignee"),
                    priority=PRIORITIES[conv.get("priority", "normal")],
                    tags=tuple(conv.get("tags", ())),
                    order_id=conv.get("order_id"),
                    messages=tuple(messages),
                )
            )
