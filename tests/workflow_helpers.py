"""Building small, exact scenes in a real cache for the workflow tests."""

from __future__ import annotations

import json
import sqlite3

from agentdesk.store import writes

ME = "a01"
COLLEAGUE = "a02"
#: 2026-11-20 14:30:00 Asia/Shanghai.
NOW = 1_795_156_200.0


def customer(conn: sqlite3.Connection, cid: str, name: str = "", *, vip: int = 0, opt_out: bool = False) -> None:
    conn.execute(
        "INSERT INTO customers (id, name, vip_level, opt_out) VALUES (?, ?, ?, ?)",
        [cid, name or f"顾客{cid}", vip, int(opt_out)],
    )


def conversation(
    conn: sqlite3.Connection,
    cid: str,
    customer_id: str = "u1",
    *,
    group: str = "售前",
    status: str = "open",
    assignee: str | None = ME,
    priority: int = 1,
    stage: str = "agent",
) -> None:
    conn.execute(
        "INSERT INTO conversations (id, customer_id, grp, status, assignee_id, priority, stage) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [cid, customer_id, group, status, assignee, priority, stage],
    )


def say(conn: sqlite3.Connection, cid: str, body: str, at: float) -> int:
    """A customer message, through the store's own rules (waiting clock, unread)."""
    return writes.add_message(conn, cid, "customer", body, at)


def reply(
    conn: sqlite3.Connection, cid: str, at: float, *, agent: str = ME, auto: bool = False, state: str = "sent",
    body: str = "亲，在的",
) -> int:
    return writes.add_message(conn, cid, "agent", body, at, agent_id=agent, state=state, auto=auto)


def row(conn: sqlite3.Connection, cid: str) -> dict:
    cur = conn.execute("SELECT * FROM conversations WHERE id = ?", [cid])
    names = [d[0] for d in cur.description]
    r = cur.fetchone()
    return dict(zip(names, r)) if r else {}


def outbox_rows(conn: sqlite3.Connection) -> list[dict]:
    cur = conn.execute(
        "SELECT id, kind, conversation_id, customer_id, payload, next_at FROM outbox ORDER BY created_at, rowid"
    )
    return [
        {"id": r[0], "kind": r[1], "conversation_id": r[2], "customer_id": r[3], "payload": json.loads(r[4]),
         "next_at": r[5]}
        for r in cur
    ]
