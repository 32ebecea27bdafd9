"""Follow-ups (回访) in the cache: the team's list, shared through the shop.

Scheduling one writes the local row and its outbox row in one transaction, so it shows
at once and reaches the shop exactly once; the shop's answer (or its event, whichever
comes first) gives the local row its server id. Until then the row is known by its
client id, which the shop also accepts in place of its own id.
"""

from __future__ import annotations

import sqlite3

from agentdesk.models import FOLLOWUP_STATUSES, Followup
from agentdesk.store import outbox, rows
from agentdesk.timefmt import rfc3339

_SELECT = f"SELECT {rows.FOLLOWUP_COLUMNS} FROM followups f LEFT JOIN customers cu ON cu.id = f.customer_id"


def schedule(
    conn: sqlite3.Connection,
    customer_id: str,
    due_at: float,
    note: str,
    now: float,
    *,
    agent_id: str | None,
    order_id: str | None = None,
    conversation_id: str | None = None,
) -> int:
    """A new open follow-up, shown at once and queued for the shop. Returns the local id.
    ``updated_at`` stays empty: it holds only the shop's times, so the shop's first
    version of the row always replaces this local one."""
    client_id = outbox.new_id()
    fid = conn.execute(
        "INSERT INTO followups (client_id, customer_id, order_id, conversation_id, agent_id, due_at, note, "
        "status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?)",
        [client_id, customer_id, order_id, conversation_id, agent_id, due_at, note, now],
    ).lastrowid
    payload: dict = {"customer_id": customer_id, "due_at": rfc3339(due_at), "note": note}
    if order_id:
        payload["order_id"] = order_id
    if conversation_id:
        payload["conversation_id"] = conversation_id
    outbox.enqueue(conn, "followup", payload, now, customer_id=customer_id, client_id=client_id)
    return int(fid)


def set_status(conn: sqlite3.Connection, followup_id: int, status: str, now: float) -> None:
    """Mark a follow-up done, cancelled or open again, here at once and at the shop
    (by its server id, or by its client id while the shop's id is not known yet)."""
    if status not in FOLLOWUP_STATUSES:
        raise ValueError(f"follow-up status must be one of {', '.join(FOLLOWUP_STATUSES)}, not {status!r}")
    r = conn.execute("SELECT server_id, client_id, customer_id FROM followups WHERE id = ?", [followup_id]).fetchone()
    if r is None:
        raise KeyError(f"no follow-up {followup_id}")
    conn.execute("UPDATE followups SET status = ? WHERE id = ?", [status, followup_id])
    outbox.enqueue(conn, "followup_patch", {"followup_id": r[0] or r[1], "status": status}, now, customer_id=r[2])


def due(conn: sqlite3.Connection, now: float, limit: int = 50) -> list[Followup]:
    """Open follow-ups whose time has come, the longest overdue first."""
    sql = _SELECT + " WHERE f.status = 'open' AND f.due_at <= ? ORDER BY f.due_at, f.id LIMIT ?"
    return [rows.followup(r) for r in conn.execute(sql, [now, limit])]


def count_due(conn: sqlite3.Connection, now: float) -> int:
    return conn.execute(
        "SELECT count(*) FROM followups WHERE status = 'open' AND due_at <= ?", [now]
    ).fetchone()[0]


def page(
    conn: sqlite3.Connection,
    after: tuple[float, int] | None = None,
    limit: int = 50,
    status: str = "open",
) -> list[Followup]:
    """One keyset page of follow-ups with ``status`` by (due_at, id); pass the last
    row's ``(due_at, id)`` as ``after`` for the next page."""
    if after is None:
        sql = _SELECT + " WHERE f.status = ? ORDER BY f.due_at, f.id LIMIT ?"
        params: list = [status, limit]
    else:
        sql = _SELECT + " WHERE f.status = ? AND (f.due_at, f.id) > (?, ?) ORDER BY f.due_at, f.id LIMIT ?"
        params = [status, *after, limit]
    return [rows.followup(r) for r in conn.execute(sql, params)]
