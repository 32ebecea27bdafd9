"""What the sidebar shows about a customer, bounded so a customer with thousands of
orders costs the same as one with three."""

from __future__ import annotations

import sqlite3

from agentdesk.models import CustomerCard
from agentdesk.store import rows


def card(
    conn: sqlite3.Connection,
    customer_id: str,
    *,
    orders: int = 20,
    conversations: int = 10,
    notes: int = 20,
) -> CustomerCard | None:
    r = conn.execute(
        "SELECT id, name, vip_level, tags, location, first_seen, opt_out FROM customers WHERE id = ?",
        [customer_id],
    ).fetchone()
    if r is None:
        return None
    order_rows = conn.execute(
        f"SELECT {rows.ORDER_COLUMNS} FROM orders WHERE customer_id = ? "
        "ORDER BY created_at DESC LIMIT ?",
        [customer_id, orders],
    ).fetchall()
    order_count = conn.execute(
        "SELECT count(*) FROM orders WHERE customer_id = ?", [customer_id]
    ).fetchone()[0]
    convs = conn.execute(
        "SELECT c.id, c.grp, c.status, c.assignee_id, c.preview, c.last_message_at, "
        "(SELECT count(*) FROM messages m WHERE m.conversation_id = c.id) "
        "FROM conversations c WHERE c.customer_id = ? ORDER BY c.last_message_at DESC LIMIT ?",
        [customer_id, conversations],
    ).fetchall()
    note_rows = conn.execute(
        "SELECT n.id, n.customer_id, n.agent_id, n.body, n.at, a.name FROM customer_notes n "
        "LEFT JOIN agents a ON a.id = n.agent_id WHERE n.customer_id = ? "
        "ORDER BY n.at DESC LIMIT ?",
        [customer_id, notes],
    ).fetchall()
    complaints = conn.execute(
        "SELECT count(*) FROM conversations WHERE customer_id = ? AND (grp = '客诉' OR complaint > 0)",
        [customer_id],
    ).fetchone()[0]
    followup_rows = conn.execute(
        f"SELECT {rows.FOLLOWUP_COLUMNS} FROM followups f LEFT JOIN customers cu ON cu.id = f.customer_id "
        "WHERE f.customer_id = ? AND f.status = 'open' ORDER BY f.due_at LIMIT 10",
        [customer_id],
    ).fetchall()
    return CustomerCard(
        customer=rows.customer(r),
        orders=tuple(rows.order(o) for o in order_rows),
        order_count=order_count,
        conversations=tuple(rows.summary(c) for c in convs),
        notes=tuple(rows.note(n) for n in note_rows),
        complaints=complaints,
        followups=tuple(rows.followup(f) for f in followup_rows),
    )
