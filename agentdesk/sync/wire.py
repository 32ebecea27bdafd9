"""Checking what the server sends before it touches the cache.

A server payload is hostile input like customer text: each object is validated field by
field (text is stored as sent and cleaned where it is shown), and a bad one raises :class:`PayloadError` naming the object and field, e.g.
``conversation cv-1: status: expected one of open, pending, snoozed, resolved, got 'x'``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agentdesk.models import CONVERSATION_STATUSES, GROUPS, ORDER_STATUSES, PRIORITIES, SENDER_KINDS


class PayloadError(ValueError):
    """One object from the server is malformed; nothing of it is stored."""


class Obj:
    """Typed access to one JSON object with errors that name it."""

    def __init__(self, kind: str, data: Any) -> None:
        if not isinstance(data, dict):
            raise PayloadError(f"{kind}: expected an object, got {type(data).__name__}")
        self.kind = kind
        self.data = data
        self.name = f"{kind} {data.get('id', '?')}"

    def fail(self, field: str, what: str) -> PayloadError:
        return PayloadError(f"{self.name}: {field}: {what}")

    def str(self, field: str, *, required: bool = True, default: str | None = None) -> str | None:
        value = self.data.get(field)
        if value is None:
            if required:
                raise self.fail(field, "missing")
            return default
        if not isinstance(value, str):
            raise self.fail(field, f"expected a string, got {type(value).__name__}")
        return value

    def int(self, field: str, default: int | None = None) -> int:
        value = self.data.get(field, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(field, f"expected an integer, got {value!r}")
        return value

    def num(self, field: str, default: float | None = None) -> float:
        value = self.data.get(field, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(field, f"expected a number, got {value!r}")
        return float(value)

    def time(self, field: str, *, required: bool = False) -> float | None:
        value = self.data.get(field)
        if value is None:
            if required:
                raise self.fail(field, "missing")
            return None
        if not isinstance(value, str):
            raise self.fail(field, f"expected an RFC 3339 time, got {value!r}")
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise self.fail(field, f"expected an RFC 3339 time, got {value!r}") from None
        if moment.tzinfo is None:
            raise self.fail(field, f"time without a timezone: {value!r}")
        return moment.timestamp()

    def choice(self, field: str, options: tuple[str, ...] | dict, default: str | None = None) -> str:
        value = self.data.get(field, default)
        if value not in options:
            raise self.fail(field, f"expected one of {', '.join(options)}, got {value!r}")
        return value

    def strings(self, field: str) -> list[str]:
        value = self.data.get(field) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(field, "expected a list of strings")
        return list(value)


def agent(data: Any) -> dict:
    o = Obj("agent", data)
    return {
        "id": o.str("id"), "name": o.str("name"), "role": o.choice("role", ("agent", "supervisor"), "agent"),
        "groups": o.strings("groups"), "online": bool(o.data.get("online", False)),
    }


def customer(data: Any) -> dict:
    o = Obj("customer", data)
    vip = o.int("vip_level", 0)
    if not 0 <= vip <= 10:
        raise o.fail("vip_level", f"out of range: {vip}")
    return {
        "id": o.str("id"), "name": o.str("name"), "vip_level": vip, "tags": o.strings("tags"),
        "location": o.str("location", required=False, default=""), "first_seen": o.time("first_seen"),
        "updated_at": o.time("updated_at"),
    }


def order(data: Any) -> dict:
    o = Obj("order", data)
    items = o.data.get("items") or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise o.fail("items", "expected a list of objects")
    clean_items = []
    for n, raw in enumerate(items):
        i = Obj(f"{o.name} item {n}", raw)
        clean_items.append({
            "title": i.str("title"), "sku": i.str("sku", required=False, default=""),
            "qty": i.int("qty", 1), "price": i.num("price", 0.0),
        })
    return {
        "id": o.str("id"), "customer_id": o.str("customer_id"), "items": clean_items,
        "amount": o.num("amount", 0.0), "status": o.choice("status", ORDER_STATUSES),
        "carrier": o.str("carrier", required=False), "tracking_no": o.str("tracking_no", required=False),
        "address": o.str("address", required=False, default=""),
        "created_at": o.time("created_at"), "paid_at": o.time("paid_at"), "shipped_at": o.time("shipped_at"),
        "delivered_at": o.time("delivered_at"), "updated_at": o.time("updated_at"),
    }


def conversation(data: Any) -> dict:
    o = Obj("conversation", data)
    return {
        "id": o.str("id"), "customer_id": o.str("customer_id"),
        "group": o.choice("group", GROUPS, "售前"), "status": o.choice("status", CONVERSATION_STATUSES),
        "snoozed_until": o.time("snoozed_until"), "assignee_id": o.str("assignee_id", required=False),
        "priority": PRIORITIES[o.choice("priority", PRIORITIES, "normal")], "tags": o.strings("tags"),
        "order_id": o.str("order_id", required=False), "stage": o.choice("stage", ("bot", "queued", "agent"), "agent"),
        "version": o.int("version", 1), "created_at": o.time("created_at"), "updated_at": o.time("updated_at"),
    }


def message(data: Any) -> dict:
    o = Obj("message", data)
    return {
        "id": o.str("id"), "seq": o.int("seq"), "conversation_id": o.str("conversation_id"),
        "sender": o.choice("sender", SENDER_KINDS), "agent_id": o.str("agent_id", required=False),
        "body": o.str("body"), "at": o.time("created_at", required=True),
        "client_id": o.str("client_id", required=False), "auto": bool(o.data.get("auto", False)),
    }


def note(data: Any) -> dict:
    o = Obj("note", data)
    return {
        "id": o.str("id"), "seq": o.int("seq"), "customer_id": o.str("customer_id"),
        "agent_id": o.str("agent_id", required=False), "body": o.str("body"),
        "at": o.time("created_at", required=True), "client_id": o.str("client_id", required=False),
    }
