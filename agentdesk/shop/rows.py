"""The shop database's rows as the contract's JSON objects. Times are stored as epoch
floats and served as RFC 3339 UTC with milliseconds ("2026-11-20T06:30:00.000Z")."""

from __future__ import annotations

import json
from datetime import datetime

from agentdesk.shop.problems import invalid
from agentdesk.timefmt import rfc3339

AGENT = "id, name, role, groups, status, read_only"
CONVERSATION = ("id, customer_id, grp, status, snoozed_until, assignee_id, priority, tags, order_id, stage, "
                "version, created_at, updated_at")
MESSAGE = "id, seq, conversation_id, sender, agent_id, body, created_at, client_id, auto, meta"
NOTE = "id, seq, customer_id, agent_id, body, created_at, client_id"
CUSTOMER = "id, name, vip_level, tags, location, first_seen, updated_at, opt_out"
ORDER = ("id, customer_id, items, amount, status, carrier, tracking_no, address, created_at, paid_at, shipped_at, "
         "delivered_at, updated_at, remarks, refund")
FOLLOWUP = ("id, customer_id, order_id, conversation_id, agent_id, due_at, note, status, client_id, created_at, "
            "updated_at")
EVENT = "cursor, type, at, data"


def parse_time(value, field: str) -> float | None:
    """An RFC 3339 time from a request body (None stays None)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(field, "expected an RFC 3339 time")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(field, "expected an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise invalid(field, "time needs a timezone")
    return moment.timestamp()


def agent(r, *, with_read_only: bool = False) -> dict:
    out = {"id": r[0], "name": r[1], "role": r[2], "groups": json.loads(r[3]), "online": r[4] == "online",
           "status": r[4]}
    if with_read_only:
        out["read_only"] = bool(r[5])
    return out


def conversation(r) -> dict:
    return {"id": r[0], "customer_id": r[1], "group": r[2], "status": r[3], "snoozed_until": rfc3339(r[4]),
            "assignee_id": r[5], "priority": r[6], "tags": json.loads(r[7]), "order_id": r[8], "stage": r[9],
            "version": r[10], "created_at": rfc3339(r[11]), "updated_at": rfc3339(r[12])}


def message(r) -> dict:
    return {"id": r[0], "seq": r[1], "conversation_id": r[2], "sender": r[3], "agent_id": r[4], "body": r[5],
            "created_at": rfc3339(r[6]), "client_id": r[7], "auto": bool(r[8]),
            "meta": json.loads(r[9]) if r[9] else None}


def note(r) -> dict:
    return {"id": r[0], "seq": r[1], "customer_id": r[2], "agent_id": r[3], "body": r[4],
            "created_at": rfc3339(r[5]), "client_id": r[6]}


def customer(r) -> dict:
    return {"id": r[0], "name": r[1], "vip_level": r[2], "tags": json.loads(r[3]), "location": r[4],
            "first_seen": rfc3339(r[5]), "updated_at": rfc3339(r[6]), "opt_out": bool(r[7])}


def order(r) -> dict:
    return {"id": r[0], "customer_id": r[1], "items": json.loads(r[2]), "amount": r[3], "status": r[4],
            "carrier": r[5], "tracking_no": r[6], "address": r[7], "created_at": rfc3339(r[8]),
            "paid_at": rfc3339(r[9]), "shipped_at": rfc3339(r[10]), "delivered_at": rfc3339(r[11]),
            "updated_at": rfc3339(r[12]), "remarks": [_timed(x) for x in json.loads(r[13] or "[]")],
            "refund": _timed(json.loads(r[14])) if r[14] else None}


def _timed(stored: dict) -> dict:
    """A remark or refund as stored (``at`` in epoch seconds) on the wire."""
    return {**stored, "at": rfc3339(stored.get("at"))}


def followup(r) -> dict:
    return {"id": r[0], "customer_id": r[1], "order_id": r[2], "conversation_id": r[3], "agent_id": r[4],
            "due_at": rfc3339(r[5]), "note": r[6], "status": r[7], "client_id": r[8],
            "created_at": rfc3339(r[9]), "updated_at": rfc3339(r[10])}


def event(r) -> dict:
    return {"cursor": str(r[0]), "type": r[1], "at": rfc3339(r[2]), "data": json.loads(r[3])}


#: keyset-paged resources: table -> (key column, columns, row to JSON)
PAGES = {
    "customers": ("id", CUSTOMER, customer),
    "orders": ("id", ORDER, order),
    "conversations": ("id", CONVERSATION, conversation),
    "messages": ("seq", MESSAGE, message),
    "notes": ("seq", NOTE, note),
    "followups": ("id", FOLLOWUP, followup),
}
