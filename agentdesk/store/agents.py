"""The shop's agents as the cache knows them (names, groups, presence)."""

from __future__ import annotations

import json
import sqlite3

from agentdesk.models import Agent


def all_agents(conn: sqlite3.Connection) -> list[Agent]:
    return [
        Agent(id=r[0], name=r[1], role=r[2], groups=tuple(json.loads(r[3] or "[]")), online=r[4] == "online",
              status=r[4])
        for r in conn.execute("SELECT id, name, role, groups, status FROM agents ORDER BY id")
    ]


def ids_matching(conn: sqlite3.Connection, name: str) -> tuple[str, ...]:
    """Agents called ``name`` or with that id; else those whose name contains it
    (a Find filter: ``agent:小美``)."""
    rows = conn.execute("SELECT id, name FROM agents ORDER BY id").fetchall()
    wanted = name.casefold()
    exact = tuple(i for i, n in rows if wanted in (i.casefold(), n.casefold()))
    return exact or tuple(i for i, n in rows if wanted in n.casefold())
