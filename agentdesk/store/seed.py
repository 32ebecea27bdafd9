"""Writing a whole shop (the demo fixtures) into an empty cache in one transaction."""

from __future__ import annotations

import json
import sqlite3

from agentdesk.demo.fixtures import ShopData
from agentdesk.store import lookup, writes


def write_shop(conn: sqlite3.Connection, data: ShopData, *, me: str | None = None) -> None:
    """Insert ``data``. Messages are replayed through :func:`writes.add_message` so
    waiting times, unread counts and previews follow the same rules as live traffic."""
    writes.set_meta(conn, "shop_id", data.shop_id)
    writes.set_meta(conn, "shop_name", data.shop_name)
    if me:
        writes.set_meta(conn, "me", me)
    conn.executemany(
        "INSERT OR REPLACE INTO agents (id, name, role, groups, online) VALUES (?, ?, ?, ?, ?)",
        [(a.id, a.name, a.role, json.dumps(a.groups, ensure_ascii=False), int(a.online)) for a in data.agents],
    )
    conn.executemany(
        "INSERT OR REPLACE INTO customers (id, name, vip_level, tags, location, first_seen, opt_out) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(c.id, c.name, c.vip_level, json.dumps(c.tags, ensure_ascii=False), c.location, c.first_seen, int(c.opt_out))
         for c in data.customers],
    )
    conn.executemany(
        "INSERT OR REPLACE INTO orders (id, customer_id, items, amount, status, carrier, "
        "tracking_no, address, created_at, paid_at, shipped_at, delivered_at, refund) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                o.id, o.customer_id,
                json.dumps([{"title": i.title, "sku": i.sku, "qty": i.qty, "price": i.price} for i in o.items], ensure_ascii=False),
                o.amount, o.status, o.carrier, o.tracking_no, o.address,
                o.created_at, o.paid_at, o.shipped_at, o.delivered_at,
                json.dumps(o.refund, ensure_ascii=False) if o.refund else None,
            )
            for o in data.orders
        ],
    )
    for conv in data.conversations:
        created = conv.messages[0].at if conv.messages else 0.0
        conn.execute(
            "INSERT OR REPLACE INTO conversations (id, customer_id, grp, status, assignee_id, "
            "priority, order_id, tags, created_at, last_message_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [conv.id, conv.customer_id, conv.group, "open", conv.assignee_id, conv.priority,
             conv.order_id, json.dumps(conv.tags, ensure_ascii=False), created, created],
        )
        for m in conv.messages:
            writes.add_message(conn, conv.id, m.sender, m.body, m.at, agent_id=m.agent_id)
        writes.set_status(conn, conv.id, conv.status)
    conn.executemany(
        "INSERT INTO customer_notes (customer_id, agent_id, body, at) VALUES (?, ?, ?, ?)",
        [(n.customer_id, n.agent_id, n.body, n.at) for n in data.notes],
    )
    # The shop numbers the demo's follow-ups f_000001… in due order: the same server ids
    # here, so a later sync updates these rows instead of adding copies.
    conn.executemany(
        "INSERT INTO followups (server_id, customer_id, order_id, conversation_id, agent_id, due_at, note, "
        "status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?)",
        [(f"f_{n:06d}", f.customer_id, f.order_id, f.conversation_id, f.agent_id, f.due_at, f.note, f.created_at)
         for n, f in enumerate(sorted(data.followups, key=lambda f: f.due_at), 1)],
    )
    lookup.index_new(conn, limit=len(data.customers) + len(data.orders) + 1)
