"""Turning SQLite rows into model records (one place, so every query agrees)."""

from __future__ import annotations

import json
import sqlite3

from agentdesk.models import (
    ConversationSummary,
    Customer,
    CustomerNote,
    Followup,
    InboxRow,
    Message,
    Order,
    OrderItem,
)

INBOX_COLUMNS = (
    "c.id, c.customer_id, cu.name, cu.vip_level, c.preview, c.grp, c.status, c.assignee_id, "
    "c.priority, c.unread, c.last_message_at, c.waiting_since, c.wait_rank, c.rank_ts, "
    "c.complaint, c.tags"
)


def inbox_row(r: sqlite3.Row | tuple) -> InboxRow:
    return InboxRow(
        id=r[0],
        customer_id=r[1],
        customer_name=r[2] or r[1],
        vip_level=r[3] or 0,
        preview=r[4],
        group=r[5],
        status=r[6],
        assignee_id=r[7],
        priority=r[8],
        unread=r[9],
        last_message_at=r[10],
        waiting_since=r[11],
        key=(r[12], r[13], r[0]),
        complaint=r[14] or 0,
        tags=tuple(json.loads(r[15] or "[]")),
    )


MESSAGE_COLUMNS = (
    "m.id, m.conversation_id, m.sender, m.body, m.at, m.agent_id, a.name, m.server_id, m.state, "
    "m.client_id, m.error, m.auto, m.meta"
)


def message(r: tuple) -> Message:
    return Message(
        id=r[0],
        conversation_id=r[1],
        sender=r[2],
        body=r[3],
        at=r[4],
        agent_id=r[5],
        author=r[6] or "",
        server_id=r[7],
        state=r[8],
        client_id=r[9],
        error=r[10],
        auto=bool(r[11]),
        meta=json.loads(r[12]) if len(r) > 12 and r[12] else None,
    )


def customer(r: tuple) -> Customer:
    return Customer(
        id=r[0],
        name=r[1],
        vip_level=r[2],
        tags=tuple(json.loads(r[3] or "[]")),
        location=r[4] or "",
        first_seen=r[5],
        opt_out=bool(r[6]) if len(r) > 6 else False,
    )


ORDER_COLUMNS = (
    "id, customer_id, items, amount, status, carrier, tracking_no, address, "
    "created_at, paid_at, shipped_at, delivered_at, remarks, refund"
)


def order(r: tuple) -> Order:
    items = tuple(
        OrderItem(
            title=str(i.get("title", "")),
            sku=str(i.get("sku", "")),
            qty=int(i.get("qty", 1)),
            price=float(i.get("price", 0)),
        )
        for i in json.loads(r[2] or "[]")
    )
    return Order(
        id=r[0],
        customer_id=r[1],
        items=items,
        amount=r[3],
        status=r[4],
        carrier=r[5],
        tracking_no=r[6],
        address=r[7] or "",
        created_at=r[8],
        paid_at=r[9],
        shipped_at=r[10],
        delivered_at=r[11],
        remarks=tuple(json.loads(r[12] or "[]")) if len(r) > 12 else (),
        refund=json.loads(r[13]) if len(r) > 13 and r[13] else None,
    )


def summary(r: tuple) -> ConversationSummary:
    return ConversationSummary(
        id=r[0],
        group=r[1],
        status=r[2],
        assignee_id=r[3],
        preview=r[4],
        last_message_at=r[5],
        message_count=r[6],
    )


def note(r: tuple) -> CustomerNote:
    return CustomerNote(
        id=r[0], customer_id=r[1], agent_id=r[2], body=r[3], at=r[4], author=r[5] or ""
    )


FOLLOWUP_COLUMNS = (
    "f.id, f.customer_id, f.due_at, f.note, f.order_id, f.conversation_id, f.agent_id, f.status, "
    "f.server_id, cu.name"
)


def followup(r: tuple) -> Followup:
    return Followup(
        id=r[0], customer_id=r[1], due_at=r[2], note=r[3], order_id=r[4], conversation_id=r[5],
        agent_id=r[6], status=r[7], server_id=r[8], customer_name=r[9] or r[1],
    )
