"""Writes to the cache. Each function runs inside the single writer's transaction
(see :class:`agentdesk.store.Store`), so the message and the conversation summary it
changes are committed together or not at all."""

from __future__ import annotations

import sqlite3

from agentdesk.safetext import one_line

#: Senders whose words become the inbox preview.
_PREVIEW_SENDERS = ("customer", "agent", "bot")


def add_message(
    conn: sqlite3.Connection,
    conversation_id: str,
    sender: str,
    body: str,
    at: float,
    *,
    agent_id: str | None = None,
    server_id: str | None = None,
    client_id: str | None = None,
    state: str = "sent",
) -> int:
    """Store a message and update its conversation's preview, unread count and
    "customer waiting since" (a customer message starts the clock of an open
    conversation, an agent's reply stops it; bots, notes and system lines leave it alone)."""
    cur = conn.execute(
        "INSERT INTO messages (conversation_id, sender, agent_id, body, at, server_id, "
        "client_id, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [conversation_id, sender, agent_id, body, at, server_id, client_id, state],
    )
    preview = one_line(body, limit=200) if sender in _PREVIEW_SENDERS else None
    if sender == "customer":
        conn.execute(
            "UPDATE conversations SET "
            "waiting_since = CASE WHEN status = 'open' THEN coalesce(waiting_since, ?) END, "
            "unread = unread + 1, preview = ?, last_message_at = max(last_message_at, ?) "
            "WHERE id = ?",
            [at, preview, at, conversation_id],
        )
    elif sender == "agent":
        conn.execute(
            "UPDATE conversations SET waiting_since = NULL, unread = 0, preview = ?, "
            "last_message_at = max(last_message_at, ?) WHERE id = ?",
            [preview, at, conversation_id],
        )
    else:
        conn.execute(
            "UPDATE conversations SET preview = coalesce(?, preview), "
            "last_message_at = max(last_message_at, ?) WHERE id = ?",
            [preview, at, conversation_id],
        )
    return int(cur.lastrowid)


def mark_read(conn: sqlite3.Connection, conversation_id: str) -> None:
    conn.execute("UPDATE conversations SET unread = 0 WHERE id = ? AND unread != 0", [conversation_id])


def save_draft(conn: sqlite3.Connection, conversation_id: str, body: str, at: float) -> None:
    """Keep what the agent typed; an empty composer removes the draft."""
    if body.strip():
        conn.execute(
            "INSERT INTO drafts (conversation_id, body, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (conversation_id) DO UPDATE SET body = excluded.body, "
            "updated_at = excluded.updated_at",
            [conversation_id, body, at],
        )
    else:
        conn.execute("DELETE FROM drafts WHERE conversation_id = ?", [conversation_id])


def get_draft(conn: sqlite3.Connection, conversation_id: str) -> str:
    r = conn.execute("SELECT body FROM drafts WHERE conversation_id = ?", [conversation_id]).fetchone()
    return r[0] if r else ""


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )


def get_meta(conn: sqlite3.Connection, key: str, default: str = "") -> str:
    r = conn.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return r[0] if r else default


def set_status(conn: sqlite3.Connection, conversation_id: str, status: str) -> None:
    """Change a conversation's status. Only an open conversation has a customer
    waiting for a reply; any other status stops the clock and clears unread."""
    if status == "open":
        conn.execute("UPDATE conversations SET status = ? WHERE id = ?", [status, conversation_id])
    else:
        conn.execute(
            "UPDATE conversations SET status = ?, waiting_since = NULL, unread = 0 WHERE id = ?",
            [status, conversation_id],
        )
