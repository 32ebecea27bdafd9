"""The supervisor's board right now: each agent's load and each group's queue.

Everything is read from the conversations table through its inbox indexes (open and
waiting conversations are few), plus one day of replies for "handled today", counted
exactly as :func:`agentdesk.workflow.kpi.compute` counts ``handled``.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from agentdesk.config import TimerSettings
from agentdesk.models import GROUPS
from agentdesk.workflow import kpi


@dataclass(frozen=True)
class AgentLine:
    id: str
    name: str
    status: str  # online | away | offline
    groups: tuple[str, ...]
    open: int  # open conversations assigned to this agent
    waiting: int  # of those, with the customer waiting now
    longest_wait_since: float | None  # the oldest of those waits (None: nobody waits)
    handled_today: int  # conversations with a human reply from this agent since day_start


@dataclass(frozen=True)
class QueueLine:
    group: str
    waiting: int  # open conversations in this group whose customer waits now
    unassigned: int  # of those, with nobody assigned
    longest_wait_since: float | None
    #: Of the waiting, how many have waited at least amber / red / late seconds
    #: (each "at least": red includes late).
    amber: int
    red: int
    late: int


@dataclass(frozen=True)
class Board:
    agents: list[AgentLine]  # role 'agent', by id
    queues: list[QueueLine]  # one per group, in GROUPS order


def board(conn: sqlite3.Connection, now: float, day_start: float, timers: TimerSettings) -> Board:
    with kpi.snapshot(conn):
        agents = conn.execute(
            "SELECT id, name, status, groups FROM agents WHERE role = 'agent' ORDER BY id"
        ).fetchall()
        # ix_inbox_assignee_status: (assignee_id, status, wait_rank, …) per agent.
        load = {
            aid: (n, int(waiting or 0), since)
            for aid, n, waiting, since in conn.execute(
                "SELECT assignee_id, count(*), sum(wait_rank = 0), min(waiting_since) FROM conversations "
                "WHERE status = 'open' AND assignee_id IS NOT NULL GROUP BY assignee_id"
            )
        }
        handled = kpi.handled_by_agent(conn, day_start, now)
        queues = {
            grp: QueueLine(grp, n, int(unassigned), since, int(amber), int(red), int(late))
            for grp, n, unassigned, since, amber, red, late in conn.execute(
                "SELECT grp, count(*), total(assignee_id IS NULL), min(waiting_since), "
                "total(waiting_since <= :amber), total(waiting_since <= :red), total(waiting_since <= :late) "
                "FROM conversations WHERE status = 'open' AND wait_rank = 0 GROUP BY grp",
                {"amber": now - timers.amber_seconds, "red": now - timers.red_seconds,
                 "late": now - timers.late_seconds},
            )
        }
    lines = []
    for aid, name, status, groups in agents:
        n, waiting, since = load.get(aid, (0, 0, None))
        lines.append(AgentLine(
            id=aid, name=name, status=status, groups=tuple(json.loads(groups or "[]")), open=n,
            waiting=waiting, longest_wait_since=since, handled_today=handled.get(aid, 0),
        ))
    return Board(
        agents=lines,
        queues=[queues.get(g) or QueueLine(g, 0, 0, None, 0, 0, 0) for g in GROUPS],
    )
