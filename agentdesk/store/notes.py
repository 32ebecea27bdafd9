"""Customer notes (客户信息共享): written locally at once, then sent to the shop so every
agent sees them. The outbox id doubles as the note's client id, which the shop's answer
carries back, so the local row and the shop's become one (see sync/apply.note)."""

from __future__ import annotations

import sqlite3

from agentdesk.store import outbox


def add(conn: sqlite3.Connection, customer_id: str, body: str, now: float, *, agent_id: str | None) -> str:
    client_id = outbox.new_id()
    conn.execute(
        "INSERT INTO customer_notes (customer_id, agent_id, body, at, client_id) VALUES (?, ?, ?, ?, ?)",
        [customer_id, agent_id, body, now, client_id],
    )
    outbox.enqueue(conn, "customer_note", {"body": body}, now, customer_id=customer_id, client_id=client_id)
    return client_id
