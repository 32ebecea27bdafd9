"""How my day is going (the team's queues are on the supervisor's board: workflow.board).

"My day" is counted exactly as the supervisor's KPIs count it (:mod:`agentdesk.workflow.kpi`:
rounds, responders, the window ``[day_start, now)``), so the workstation's my-day line and
the monitor's board never disagree: a *response* is a round that started today and that I
answered (a round a customer opened yesterday at 23:59 and I answered at 00:01 is
yesterday's), and an automatic greeting answers nobody.
"""

from __future__ import annotations

import sqlite3
import statistics
from dataclasses import dataclass

from agentdesk.config import TimerSettings
from agentdesk.workflow import kpi


@dataclass(frozen=True)
class MyDay:
    #: Conversations I answered (a human reply from me) since the start of the day:
    #: the board's "handled today" and the KPIs' ``handled`` for me.
    handled: int
    #: Median first response time of the conversations whose first answered round today
    #: I answered – the KPIs' ``first_response_median`` for me (None: there are none).
    first_response_median: float | None
    #: Share of my responses within amber / within late seconds (≤; None: no responses).
    within_amber_share: float | None
    within_late_share: float | None
    #: My open conversations whose customer is waiting right now.
    waiting_now: int
    #: Rounds that started today and I answered: what the shares are taken over.
    responses: int = 0


def my_day(conn: sqlite3.Connection, me: str, day_start: float, now: float, timers: TimerSettings) -> MyDay:
    """My numbers from ``day_start`` to ``now`` (reads one day of messages, not the cache)."""
    with kpi.snapshot(conn):
        window = kpi.threads(conn, day_start, now)
        waiting_now = conn.execute(
            "SELECT count(*) FROM conversations WHERE assignee_id = ? AND status = 'open' AND wait_rank = 0", [me]
        ).fetchone()[0]
    handled = sum(me in th.repliers for th in window)
    times = [answered - start for th in window for start, answered, who in th.rounds
             if answered is not None and who == me]
    firsts = [r[1] - r[0] for th in window if (r := kpi.first_answered(th.rounds)) and r[2] == me]
    if not times:
        return MyDay(handled, None, None, None, waiting_now, 0)
    return MyDay(
        handled=handled,
        first_response_median=float(statistics.median(firsts)) if firsts else None,
        within_amber_share=sum(t <= timers.amber_seconds for t in times) / len(times),
        within_late_share=sum(t <= timers.late_seconds for t in times) / len(times),
        waiting_now=waiting_now,
        responses=len(times),
    )
