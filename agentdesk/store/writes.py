"""Writes to the cache. Each function runs inside the single writer's transaction
(see :class:`agentdesk.store.Store`), so the message and the conversation summary it
changes are committed together or not at all."""

from __future__ import annotations

import json
import sqlite3

from agentdesk.safetext import one_line
from agentdesk.store import history

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
    auto: bool = False,
    meta: dict | None = None,
) -> int:
    """Store a message and update its conversation's preview, unread count and
    "customer waiting since" (a customer message starts the clock of an open
    conversation a human is to answer – not one the shop bot is handling – an agent's
    reply stops it; bots, notes and system lines leave it alone). An *automatic* agent
    message (an auto-greeting) answers nobody and leaves the preview alone, so the
    customer keeps waiting for a human and the inbox still shows what they asked."""
    cur = conn.execute(
        "INSERT INTO messages (conversation_id, sender, agent_id, body, at, server_id, "
        "client_id, state, auto, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [conversation_id, sender, agent_id, body, at, server_id, client_id, state, int(auto),
         json.dumps(meta, ensure_ascii=False) if meta else None],
    )
    # A greeting would hide what the customer asked: the preview keeps their words.
    shows = sender in _PREVIEW_SENDERS and not (sender == "agent" and auto)
    preview = one_line(body, limit=200) if shows else None
    if sender == "customer":
        conn.execute(
            "UPDATE conversations SET "
            "waiting_since = CASE WHEN status = 'open' AND stage != 'bot' THEN coalesce(waiting_since, ?) END, "
            "unread = unread + 1, preview = ?, last_message_at = max(last_message_at, ?) "
            "WHERE id = ?",
            [at, preview, at, conversation_id],
        )
    elif sender == "agent" and not auto:
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
    history.index_new(conn)  # searchable from the same commit on
    return int(cur.lastrowid)


def refresh_summary(conn: sqlite3.Connection, conversation_id: str) -> None:
    """Recompute preview and "customer waiting since" from the thread itself (after a
    local message is withdrawn, or a conversation is reopened by the shop)."""
    r = conn.execute(
        "SELECT body FROM messages WHERE conversation_id = ? AND (sender IN ('customer', 'bot') OR (sender = 'agent' AND auto = 0)) "
        "ORDER BY at DESC, id DESC LIMIT 1",
        [conversation_id],
    ).fetchone()
    if r:
        conn.execute(
            "UPDATE conversations SET preview = ? WHERE id = ?", [one_line(r[0], limit=200), conversation_id]
        )
    conn.execute(
        "UPDATE conversations SET waiting_since = CASE WHEN status = 'open' AND stage != 'bot' THEN ("
        " SELECT min(m.at) FROM messages m WHERE m.conversation_id = ?1 AND m.sender = 'customer'"
        " AND m.at > coalesce((SELECT max(at) FROM messages WHERE conversation_id = ?1"
        " AND sender = 'agent' AND auto = 0), -1)) END WHERE id = ?1",
        [conversation_id],
    )


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
