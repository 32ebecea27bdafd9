"""The automatic greeting: a customer waiting for me hears from a person-shaped voice
within seconds ("I'm 小美, one moment"), once per wait, while I finish another chat.

"Once" is read from the thread: a conversation that has any message of mine (a reply or
an earlier greeting) is not greeted again; one handed over to me by a colleague is.
"""

from __future__ import annotations

import sqlite3

from agentdesk.store import outbox
from agentdesk.workflow.templates import fill


#: A greeting is for the start of a wait: past this, the customer is owed an apology
#: and an answer (see sla.needs_apology), not "one moment please".
WINDOW = 600.0


def due(conn: sqlite3.Connection, me: str, now: float, after_seconds: float, window: float = WINDOW) -> list[str]:
    """Conversations to greet now, longest wait first: assigned to me, open, with a human
    agent (not the bot or a queue), waiting between ``after_seconds`` and
    ``after_seconds + window``, and that have not heard from me yet (no reply and no
    greeting of mine: the conversation has just *reached* me, new or handed over)."""
    sql = (
        "SELECT c.id FROM conversations c "
        "WHERE c.assignee_id = ?1 AND c.status = 'open' AND c.wait_rank = 0 "
        "AND c.rank_ts <= ?2 AND c.rank_ts >= ?3 AND c.stage = 'agent' AND NOT EXISTS ("
        " SELECT 1 FROM messages a WHERE a.conversation_id = c.id AND a.sender = 'agent' AND a.agent_id = ?1) "
        "ORDER BY c.rank_ts, c.id"
    )
    return [r[0] for r in conn.execute(sql, [me, now - after_seconds, now - after_seconds - window])]


def text(template: str, agent_name: str) -> str:
    """The configured greeting with ``{agent_name}`` filled in."""
    return fill(template, agent_name=agent_name)


def send(conn: sqlite3.Connection, cid: str, text: str, now: float, me: str) -> str:
    """Queue the greeting as an automatic reply; returns its outbox id. The draft stays:
    the agent may be typing in this very conversation."""
    return outbox.send_message(conn, cid, text, now, agent_id=me, auto=True, clear_draft=False)
