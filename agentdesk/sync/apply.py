"""Idempotent upserts of server objects into the cache.

Each function takes a validated payload (see :mod:`agentdesk.sync.wire`) and returns
True if the cache changed. Applying the same object twice, or an older version after a
newer one, changes nothing: that is what makes at-least-once delivery, duplicate and
out-of-order events, and a resumed sync harmless.
"""

from __future__ import annotations

import json
import sqlite3

from agentdesk.store import history, writes



def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def agent(conn: sqlite3.Connection, a: dict) -> bool:
    """Presence is ``status``; ``online`` stays as status == online for older readers."""
    cur = conn.execute(
        "INSERT INTO agents (id, name, role, groups, status, online) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role, "
        "groups = excluded.groups, status = excluded.status, online = excluded.online "
        "WHERE (name, role, groups, status, online) IS NOT "
        "(excluded.name, excluded.role, excluded.groups, excluded.status, excluded.online)",
        [a["id"], a["name"], a["role"], _json(a["groups"]), a["status"], int(a["status"] == "online")],
    )
    return cur.rowcount > 0


def customer(conn: sqlite3.Connection, c: dict) -> bool:
    cur = conn.execute(
        "INSERT INTO customers (id, name, vip_level, tags, location, first_seen, updated_at, opt_out) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
        "vip_level = excluded.vip_level, tags = excluded.tags, location = excluded.location, "
        "first_seen = excluded.first_seen, updated_at = excluded.updated_at, opt_out = excluded.opt_out "
        "WHERE coalesce(customers.updated_at, -1) < coalesce(excluded.updated_at, 0)",
        [c["id"], c["name"], c["vip_level"], _json(c["tags"]), c["location"], c["first_seen"], c["updated_at"],
         int(c["opt_out"])],
    )
    return cur.rowcount > 0


def order(conn: sqlite3.Connection, o: dict) -> bool:
    cur = conn.execute(
        "INSERT INTO orders (id, customer_id, items, amount, status, carrier, tracking_no, address, "
        "created_at, paid_at, shipped_at, delivered_at, updated_at, remarks, refund) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, items = excluded.items, "
        "amount = excluded.amount, status = excluded.status, carrier = excluded.carrier, "
        "tracking_no = excluded.tracking_no, address = excluded.address, created_at = excluded.created_at, "
        "paid_at = excluded.paid_at, shipped_at = excluded.shipped_at, delivered_at = excluded.delivered_at, "
        "updated_at = excluded.updated_at, remarks = excluded.remarks, refund = excluded.refund "
        "WHERE coalesce(orders.updated_at, -1) < coalesce(excluded.updated_at, 0)",
        [o["id"], o["customer_id"], _json(o["items"]), o["amount"], o["status"], o["carrier"], o["tracking_no"],
         o["address"], o["created_at"], o["paid_at"], o["shipped_at"], o["delivered_at"], o["updated_at"],
         _json(o["remarks"]), _json(o["refund"]) if o["refund"] else None],
    )
    return cur.rowcount > 0


def conversation(conn: sqlite3.Connection, c: dict) -> bool:
    """Apply only a newer ``version`` than the cache holds."""
    old = conn.execute("SELECT version, status, stage FROM conversations WHERE id = ?", [c["id"]]).fetchone()
    if old is not None and old[0] >= c["version"]:
        return False
    conn.execute(
        "INSERT INTO conversations (id, customer_id, grp, status, snoozed_until, assignee_id, priority, tags, "
        "order_id, stage, version, created_at, updated_at, last_message_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, coalesce(?, 0)) "
        "ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, grp = excluded.grp, "
        "status = excluded.status, snoozed_until = excluded.snoozed_until, assignee_id = excluded.assignee_id, "
        "priority = excluded.priority, tags = excluded.tags, order_id = excluded.order_id, stage = excluded.stage, "
        "version = excluded.version, created_at = excluded.created_at, updated_at = excluded.updated_at",
        [c["id"], c["customer_id"], c["group"], c["status"], c["snoozed_until"], c["assignee_id"], c["priority"],
         _json(c["tags"]), c["order_id"], c["stage"], c["version"], c["created_at"], c["updated_at"],
         c["created_at"]],
    )
    if c["status"] != "open":
        conn.execute("UPDATE conversations SET waiting_since = NULL, unread = 0 WHERE id = ?", [c["id"]])
    elif c["stage"] == "bot":  # the shop bot is handling it: nobody waits for a human yet
        conn.execute("UPDATE conversations SET waiting_since = NULL WHERE id = ?", [c["id"]])
    elif old is not None and (old[1] != "open" or old[2] == "bot"):
        writes.refresh_summary(conn, c["id"])  # reopened or handed to humans: who waits?
    return True


def message(conn: sqlite3.Connection, m: dict) -> bool:
    """Store a message once. A message we sent ourselves is already in the thread as
    pending (matched by its client id): it becomes sent instead of appearing twice."""
    if conn.execute("SELECT 1 FROM messages WHERE server_id = ?", [m["id"]]).fetchone():
        return False
    if m["client_id"]:  # only a local row still waiting for its server id is ours to adopt
        cur = conn.execute(
            "UPDATE messages SET server_id = ?, seq = ?, state = 'sent', error = NULL "
            "WHERE client_id = ? AND server_id IS NULL",
            [m["id"], m["seq"], m["client_id"]],
        )
        if cur.rowcount:
            conn.execute("DELETE FROM outbox WHERE id = ?", [m["client_id"]])
            return True
    conn.execute(
        "INSERT OR IGNORE INTO conversations (id, customer_id, version) VALUES (?, '', 0)", [m["conversation_id"]]
    )
    mid = writes.add_message(
        conn, m["conversation_id"], m["sender"], m["body"], m["at"],
        agent_id=m["agent_id"], server_id=m["id"], client_id=m["client_id"], auto=m["auto"], meta=m["meta"],
    )
    conn.execute("UPDATE messages SET seq = ? WHERE id = ?", [m["seq"], mid])
    return True


def note(conn: sqlite3.Connection, n: dict) -> bool:
    if conn.execute("SELECT 1 FROM customer_notes WHERE server_id = ?", [n["id"]]).fetchone():
        return False
    if n["client_id"]:
        cur = conn.execute(
            "UPDATE customer_notes SET server_id = ? WHERE client_id = ? AND server_id IS NULL",
            [n["id"], n["client_id"]],
        )
        if cur.rowcount:
            conn.execute("DELETE FROM outbox WHERE id = ?", [n["client_id"]])
            return True
    conn.execute(
        "INSERT INTO customer_notes (customer_id, agent_id, body, at, server_id, client_id) VALUES (?, ?, ?, ?, ?, ?)",
        [n["customer_id"], n["agent_id"], n["body"], n["at"], n["id"], n["client_id"]],
    )
    return True


def followup(conn: sqlite3.Connection, f: dict) -> bool:
    """Upsert by server id, keeping the newest ``updated_at``. One scheduled here is
    already a local row with this client id: it gains the server id (and the shop's
    version of it) instead of appearing twice."""
    values = [f["id"], f["client_id"], f["customer_id"], f["order_id"], f["conversation_id"], f["agent_id"],
              f["due_at"], f["note"], f["status"], f["created_at"], f["updated_at"]]
    sets = ("server_id = ?, client_id = ?, customer_id = ?, order_id = ?, conversation_id = ?, agent_id = ?, "
            "due_at = ?, note = ?, status = ?, created_at = ?, updated_at = ?")
    if conn.execute("SELECT 1 FROM followups WHERE server_id = ?", [f["id"]]).fetchone():
        cur = conn.execute(f"UPDATE followups SET {sets} WHERE server_id = ? "
                           "AND coalesce(updated_at, -1) < coalesce(?, 0)", [*values, f["id"], f["updated_at"]])
        return cur.rowcount > 0
    if f["client_id"]:
        cur = conn.execute(f"UPDATE followups SET {sets} WHERE client_id = ? AND server_id IS NULL",
                           [*values, f["client_id"]])
        if cur.rowcount:
            conn.execute("DELETE FROM outbox WHERE id = ? AND kind = 'followup'", [f["client_id"]])
            return True
    conn.execute(
        "INSERT INTO followups (server_id, client_id, customer_id, order_id, conversation_id, agent_id, due_at, "
        "note, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values,
    )
    return True


#: How each resource is stored (records from agentdesk.sync.wire), by its name there.
UPSERTS = {
    "agents": agent,
    "customers": customer,
    "orders": order,
    "conversations": conversation,
    "messages": message,
    "notes": note,
    "followups": followup,
}


def messages(conn: sqlite3.Connection, batch: list[dict]) -> list[dict]:
    """Many messages at once (a sync page): the same result as :func:`message` for each
    in seq order, with one INSERT for the page and one summary UPDATE per conversation
    instead of several statements per message. Returns the messages that changed the cache."""
    batch = sorted(batch, key=lambda m: m["seq"])
    known: set[str] = set()
    ids = [m["id"] for m in batch]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        known.update(r[0] for r in conn.execute(f"SELECT server_id FROM messages WHERE server_id IN ({marks})", chunk))
    changed: list[dict] = []
    fresh: list[dict] = []
    seen: set[str] = set()
    for m in batch:
        if m["id"] in known or m["id"] in seen:
            continue
        seen.add(m["id"])
        if m["client_id"] and conn.execute("SELECT 1 FROM messages WHERE client_id = ?", [m["client_id"]]).fetchone():
            if message(conn, m):  # our own pending message: becomes sent, in place
                changed.append(m)
            continue
        fresh.append(m)
    if not fresh:
        return changed
    conn.executemany(
        "INSERT INTO messages (conversation_id, sender, agent_id, body, at, server_id, client_id, seq, auto, meta) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(m["conversation_id"], m["sender"], m["agent_id"], m["body"], m["at"], m["id"], m["client_id"], m["seq"],
          int(m["auto"]), _json(m["meta"]) if m["meta"] else None) for m in fresh],
    )
    history.index_new(conn, limit=len(fresh) + 1000)  # searchable from this page's commit on
    by_conv: dict[str, list[dict]] = {}
    for m in fresh:
        by_conv.setdefault(m["conversation_id"], []).append(m)
    rows: dict[str, tuple] = {}
    cids = list(by_conv)
    for start in range(0, len(cids), 500):
        chunk = cids[start:start + 500]
        rows.update((r[0], r[1:]) for r in conn.execute(
            "SELECT id, status, stage, waiting_since, unread, preview, last_message_at FROM conversations "
            f"WHERE id IN ({','.join('?' * len(chunk))})", chunk))
    missing = [(cid,) for cid in cids if cid not in rows]
    conn.executemany("INSERT INTO conversations (id, customer_id, version) VALUES (?, '', 0)", missing)
    updates = []
    for cid, msgs in by_conv.items():
        status, stage, waiting, unread, preview, last = rows.get(cid, ("open", "agent", None, 0, "", 0.0))
        humans_wait = status == "open" and stage != "bot"
        for m in msgs:  # the rules of writes.add_message, in order
            sender = m["sender"]
            if sender == "customer":
                waiting = (waiting if waiting is not None else m["at"]) if humans_wait else None
                unread += 1
            elif sender == "agent" and not m["auto"]:  # an auto-greeting answers nobody
                waiting, unread = None, 0
            if sender in ("customer", "bot") or (sender == "agent" and not m["auto"]):
                preview = writes.one_line(m["body"], limit=200)
            last = max(last, m["at"])
        updates.append((waiting, unread, preview, last, cid))
    conn.executemany(
        "UPDATE conversations SET waiting_since = ?, unread = ?, preview = ?, last_message_at = ? WHERE id = ?",
        updates,
    )
    return changed + fresh
