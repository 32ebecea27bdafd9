"""Thread queries: the newest page first, older pages on demand (keyset on (at, id))."""

from __future__ import annotations

import sqlite3

from agentdesk.models import Message
from agentdesk.store.rows import MESSAGE_COLUMNS, message

_SELECT = (
    f"SELECT {MESSAGE_COLUMNS} FROM messages m LEFT JOIN agents a ON a.id = m.agent_id "
    "WHERE m.conversation_id = ?"
)


def latest(conn: sqlite3.Connection, conversation_id: str, limit: int = 50) -> list[Message]:
    """The newest ``limit`` messages, oldest first."""
    sql = _SELECT + " ORDER BY m.at DESC, m.id DESC LIMIT ?"
    rows = [message(r) for r in conn.execute(sql, [conversation_id, limit])]
    rows.reverse()
    return rows


def older(
    conn: sqlite3.Connection, conversation_id: str, before: tuple[float, int], limit: int = 50
) -> list[Message]:
    """Up to ``limit`` messages just before ``before``, oldest first."""
    sql = _SELECT + " AND (m.at, m.id) < (?, ?) ORDER BY m.at DESC, m.id DESC LIMIT ?"
    rows = [message(r) for r in conn.execute(sql, [conversation_id, *before, limit])]
    rows.reverse()
    return rows


def newer(
    conn: sqlite3.Connection, conversation_id: str, after: tuple[float, int], limit: int = 200
) -> list[Message]:
    """Messages after ``after`` (what arrived since the thread was drawn)."""
    sql = _SELECT + " AND (m.at, m.id) > (?, ?) ORDER BY m.at, m.id LIMIT ?"
    return [message(r) for r in conn.execute(sql, [conversation_id, *after, limit])]


def last_customer_message(conn: sqlite3.Connection, conversation_id: str) -> Message | None:
    sql = _SELECT + " AND m.sender = 'customer' ORDER BY m.at DESC, m.id DESC LIMIT 1"
    r = conn.execute(sql, [conversation_id]).fetchone()
    return message(r) if r else None


def since(conn: sqlite3.Connection, conversation_id: str, first: tuple[float, int] | None, limit: int = 50) -> list[Message]:
    """Everything from ``first`` (the oldest message on screen) to the newest; with no
    ``first``, the latest page. What the thread re-reads after a sync change."""
    if first is None:
        return latest(conn, conversation_id, limit)
    sql = _SELECT + " AND (m.at, m.id) >= (?, ?) ORDER BY m.at, m.id"
    return [message(r) for r in conn.execute(sql, [conversation_id, *first])]


def latest_handoff(conn: sqlite3.Connection, conversation_id: str) -> Message | None:
    """The newest transfer line (its meta carries who handed over, to whom, and the
    note), however far back in the thread: the receiving agent's banner."""
    sql = _SELECT + " AND m.meta IS NOT NULL AND json_extract(m.meta, '$.handoff') IS NOT NULL " \
        "ORDER BY m.at DESC, m.id DESC LIMIT 1"
    r = conn.execute(sql, [conversation_id]).fetchone()
    return message(r) if r else None


def last_customer_text(conn: sqlite3.Connection, conversation_id: str) -> str:
    """What the customer said last ("" if nothing yet)."""
    r = conn.execute(
        "SELECT body FROM messages WHERE conversation_id = ? AND sender = 'customer' "
        "ORDER BY at DESC, id DESC LIMIT 1",
        [conversation_id],
    ).fetchone()
    return r[0] if r else ""


def around(
    conn: sqlite3.Connection, conversation_id: str, message_id: int, *, before: int = 10, limit: int = 50
) -> tuple[list[Message], bool, bool] | None:
    """A window that opens the thread at one message: up to ``before`` messages before it,
    it, and up to ``limit`` after, oldest first, with whether older and newer messages
    exist beyond it. None when the message is not in this conversation (any more)."""
    r = conn.execute("SELECT at, id FROM messages WHERE id = ? AND conversation_id = ?",
                     [message_id, conversation_id]).fetchone()
    if r is None:
        return None
    key = (r[0], r[1])
    earlier = older(conn, conversation_id, key, before + 1)
    later = conn.execute(_SELECT + " AND (m.at, m.id) >= (?, ?) ORDER BY m.at, m.id LIMIT ?",
                         [conversation_id, *key, limit + 2]).fetchall()
    has_newer = len(later) > limit + 1
    return earlier[-before:] + [message(x) for x in later[:limit + 1]], len(earlier) > before, has_newer
