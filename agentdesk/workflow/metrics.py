"""How my day is going, and how long the team's queue is.

A *response* is a waiting episode answered: the episode starts at the first customer
message after the previous human agent reply (an automatic greeting does not end a wait)
and is answered by the next human reply. Response time = reply time − episode start, so
a customer who wrote at 23:59 and was answered at 00:01 counts two minutes, today.
"""

from __future__ import annotations

import sqlite3
import statistics
from dataclasses import dataclass

from agentdesk.config import TimerSettings
from agentdesk.models import GROUPS


@dataclass(frozen=True)
class MyDay:
    #: Conversations I answered (a human reply from me) since the start of the day.
    handled: int
    #: Median seconds from a customer's first waiting message to my reply (None: no responses).
    first_response_median: float | None
    #: Share of responses faster than amber / faster than late (None: no responses).
    within_amber_share: float | None
    within_late_share: float | None
    #: My open conversations whose customer is waiting right now.
    waiting_now: int
    #: Number of responses the median and shares are taken over.
    responses: int = 0


#: Conversations with a message since :start, through ix_inbox_all only: one not waiting
#: has rank_ts = -last_message_at (a range); waiting ones are few and checked directly.
_TOUCHED = (
    "SELECT id FROM conversations WHERE wait_rank = 1 AND rank_ts <= -:start "
    "UNION ALL SELECT id FROM conversations WHERE wait_rank = 0 AND last_message_at >= :start"
)

_MY_REPLIES = (
    f"WITH touched(id) AS ({_TOUCHED}), "
    "replies AS ("
    " SELECT r.conversation_id AS cid, r.at AS at, ("
    "  SELECT p.at FROM messages p WHERE p.conversation_id = r.conversation_id AND p.sender = 'agent'"
    "  AND p.auto = 0 AND p.state != 'failed' AND (p.at, p.id) < (r.at, r.id) ORDER BY p.at DESC, p.id DESC LIMIT 1"
    " ) AS prev"
    " FROM touched t JOIN messages r ON r.conversation_id = t.id AND r.at >= :start AND r.at <= :now"
    " WHERE r.sender = 'agent' AND r.agent_id = :me AND r.auto = 0 AND r.state != 'failed') "
    "SELECT cid, at, (SELECT min(q.at) FROM messages q WHERE q.conversation_id = replies.cid"
    " AND q.sender = 'customer' AND q.at > coalesce(replies.prev, -1) AND q.at <= replies.at) "
    "FROM replies"
)


def my_day(conn: sqlite3.Connection, me: str, day_start: float, now: float, timers: TimerSettings) -> MyDay:
    """My numbers from ``day_start`` to ``now`` (reads one day of messages, not the cache)."""
    handled: set[str] = set()
    times: list[float] = []
    for cid, at, started in conn.execute(_MY_REPLIES, {"start": day_start, "now": now, "me": me}):
        handled.add(cid)
        if started is not None:
            times.append(at - started)
    waiting_now = conn.execute(
        "SELECT count(*) FROM conversations WHERE assignee_id = ? AND status = 'open' AND wait_rank = 0", [me]
    ).fetchone()[0]
    if not times:
        return MyDay(len(handled), None, None, None, waiting_now, 0)
    return MyDay(
        handled=len(handled),
        first_response_median=float(statistics.median(times)),
        within_amber_share=sum(t < timers.amber_seconds for t in times) / len(times),
        within_late_share=sum(t < timers.late_seconds for t in times) / len(times),
        waiting_now=waiting_now,
        responses=len(times),
    )


@dataclass(frozen=True)
class QueueCount:
    """Customers waiting in one group; red includes late (each is "at least")."""

    waiting: int = 0
    red: int = 0
    late: int = 0


def team_queue(conn: sqlite3.Connection, now: float, timers: TimerSettings) -> dict[str, QueueCount]:
    """Waiting / red / late per group (every group present), for the supervisor board."""
    counts = {g: QueueCount() for g in GROUPS}
    for grp, waiting, red, late in conn.execute(
        "SELECT grp, count(*), total(waiting_since <= :red), total(waiting_since <= :late) FROM conversations "
        "WHERE status = 'open' AND wait_rank = 0 GROUP BY grp",
        {"red": now - timers.red_seconds, "late": now - timers.late_seconds},
    ):
        counts[grp] = QueueCount(waiting, int(red), int(late))
    return counts
