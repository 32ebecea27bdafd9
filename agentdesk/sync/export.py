"""The cache as plain JSON-ready dicts, for backup and analysis (``agentdesk export``)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

from agentdesk.models import PRIORITY_NAMES
from agentdesk.timefmt import rfc3339


def conversations(conn: sqlite3.Connection, page: int = 500) -> Iterator[dict]:
    """Every conversation (keyset by id) with its customer name and all its messages."""
    after = ""
    while True:
        rows = conn.execute(
            "SELECT c.id, c.customer_id, cu.name, c.grp, c.status, c.assignee_id, c.priority, c.tags, "
            "c.order_id, c.stage, c.created_at, c.last_message_at FROM conversations c "
            "LEFT JOIN customers cu ON cu.id = c.customer_id WHERE c.id > ? ORDER BY c.id LIMIT ?",
            [after, page],
        ).fetchall()
        if not rows:
            return
        for r in rows:
            messages = [
                {"id": m[0], "sender": m[1], "agent_id": m[2], "body": m[3], "at": rfc3339(m[4]), "state": m[5]}
                for m in conn.execute(
                    "SELECT coalesce(server_id, client_id, id), sender, agent_id, body, at, state FROM messages "
                    "WHERE conversation_id = ? ORDER BY at, id",
                    [r[0]],
                )
            ]
            yield {
                "id": r[0], "customer_id": r[1], "customer_name": r[2], "group": r[3], "status": r[4],
                "assignee_id": r[5], "priority": PRIORITY_NAMES.get(r[6], "normal"), "tags": json.loads(r[7] or "[]"),
                "order_id": r[8], "stage": r[9], "created_at": rfc3339(r[10]),
                "last_message_at": rfc3339(r[11]), "messages": messages,
            }
        after = rows[-1][0]
