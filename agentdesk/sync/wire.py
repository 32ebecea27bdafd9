"""Checking what the server sends before it touches the cache.

A server payload is hostile input like customer text: each object is validated field by
field (text is stored as sent and cleaned where it is shown), and a bad one raises :class:`PayloadError` naming the object and field, e.g.
``conversation cv-1: status: expected one of open, pending, snoozed, resolved, got 'x'``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agentdesk.models import (
    AGENT_STATUSES,
    CONVERSATION_STATUSES,
    FOLLOWUP_STATUSES,
    GROUPS,
    ORDER_STATUSES,
    PRIORITIES,
    SENDER_KINDS,
)


class PayloadError(ValueError):
    """One object from the server is malformed; nothing of it is stored."""


class Obj:
    """Typed access to one JSON object with errors that name it."""

    def __init__(self, kind: str, data: Any, *, part: bool = False) -> None:
        if not isinstance(data, dict):
            raise PayloadError(f"{kind}: expected an object, got {type(data).__name__}")
        self.kind = kind
        self.data = data
        self.name = kind if part else f"{kind} {data.get('id', '?')}"  # a part is named by its whole

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

    def bool(self, field: str, default: bool = False) -> bool:
        value = self.data.get(field, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(field, f"expected true or false, got {value!r}")
        return value

    def obj(self, field: str) -> dict | None:
        value = self.data.get(field)
        if value is not None and not isinstance(value, dict):
            raise self.fail(field, f"expected an object or null, got {type(value).__name__}")
        return value

    def strings(self, field: str) -> list[str]:
        value = self.data.get(field) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(field, "expected a list of strings")
        return list(value)


def agent(data: Any) -> dict:
    """``status`` (online | away | offline) is the presence; a server from before it
    existed sends only the ``online`` flag. ``online`` is kept as status == online."""
    o = Obj("agent", data)
    fallback = "online" if o.data.get("online") is True else "offline"
    status = o.choice("status", AGENT_STATUSES, fallback) if o.data.get("status") is not None else fallback
    return {
        "id": o.str("id"), "name": o.str("name"), "role": o.choice("role", ("agent", "supervisor"), "agent"),
        "groups": o.strings("groups"), "status": status, "online": status == "online",
    }


def customer(data: Any) -> dict:
    o = Obj("customer", data)
    vip = o.int("vip_level", 0)
    if not 0 <= vip <= 10:
        raise o.fail("vip_level", f"out of range: {vip}")
    return {
        "id": o.str("id"), "name": o.str("name"), "vip_level": vip, "tags": o.strings("tags"),
        "location": o.str("location", required=False, default=""), "first_seen": o.time("first_seen"),
        "updated_at": o.time("updated_at"), "opt_out": o.bool("opt_out"),
    }


def order(data: Any) -> dict:
    o = Obj("order", data)
    items = o.data.get("items") or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise o.fail("items", "expected a list of objects")
    clean_items = []
    for n, raw in enumerate(items):
        i = Obj(f"{o.name} item {n}", raw, part=True)
        clean_items.append({
            "title": i.str("title"), "sku": i.str("sku", required=False, default=""),
            "qty": i.int("qty", 1), "price": i.num("price", 0.0),
        })
    remarks = o.data.get("remarks") or []
    if not isinstance(remarks, list):
        raise o.fail("remarks", "expected a list of objects")
    clean_remarks = []
    for n, raw in enumerate(remarks):
        r = Obj(f"{o.name} remark {n}", raw, part=True)
        clean_remarks.append({"body": r.str("body"), "agent_id": r.str("agent_id", required=False),
                              "at": r.time("at")})
    refund = None
    if o.obj("refund") is not None:
        r = Obj(f"{o.name} refund", o.data["refund"], part=True)
        refund = {"reason": r.str("reason", required=False, default=""), "amount": r.num("amount"),
                  "agent_id": r.str("agent_id", required=False), "at": r.time("at"),
                  "status": r.choice("status", ("requested", "approved"))}
    return {
        "id": o.str("id"), "customer_id": o.str("customer_id"), "items": clean_items,
        "amount": o.num("amount", 0.0), "status": o.choice("status", ORDER_STATUSES),
        "carrier": o.str("carrier", required=False), "tracking_no": o.str("tracking_no", required=False),
        "address": o.str("address", required=False, default=""),
        "created_at": o.time("created_at"), "paid_at": o.time("paid_at"), "shipped_at": o.time("shipped_at"),
        "delivered_at": o.time("delivered_at"), "updated_at": o.time("updated_at"),
        "remarks": clean_remarks, "refund": refund,
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
        "meta": o.obj("meta"),
    }


def note(data: Any) -> dict:
    o = Obj("note", data)
    return {
        "id": o.str("id"), "seq": o.int("seq"), "customer_id": o.str("customer_id"),
        "agent_id": o.str("agent_id", required=False), "body": o.str("body"),
        "at": o.time("created_at", required=True), "client_id": o.str("client_id", required=False),
    }


def followup(data: Any) -> dict:
    o = Obj("followup", data)
    return {
        "id": o.str("id"), "customer_id": o.str("customer_id"), "order_id": o.str("order_id", required=False),
        "conversation_id": o.str("conversation_id", required=False), "agent_id": o.str("agent_id", required=False),
        "due_at": o.time("due_at", required=True), "note": o.str("note", required=False, default=""),
        "status": o.choice("status", FOLLOWUP_STATUSES), "client_id": o.str("client_id", required=False),
        "created_at": o.time("created_at"), "updated_at": o.time("updated_at"),
    }
