"""The team's service KPIs over a time window, per agent, per group and for the team.

Definitions (README "KPI definitions" says the same for users). A window is
``[start, end)``: a message at ``start`` is inside it, one at ``end`` is not.

* A *human reply* is a message with sender ``agent``, ``auto = 0`` (not an automatic
  greeting) and a state other than ``failed`` (a pending one counts: it is on its way).
  Bot, system and note lines never answer anybody.
* A *round* (咨询轮次) starts at a customer message when no round is open and ends at the
  next human reply, whose ``agent_id`` is the round's *responder*. Further customer
  messages inside an open round belong to it.
* A round belongs to the window its START is in. A round already open at the window
  start (found exactly, from the conversation's last customer message or human reply
  before ``start``) belongs to the earlier window even where it goes on inside this one:
  its reply is no answer here. A round that starts inside the window is answered by the
  next human reply even if that comes after ``end``; without one it is *unanswered*.
* Response time = the answering reply's time − the round's start.
* First response time (FRT): per conversation, the response time of the first round that
  started in the window and was answered. Median (of the middle two when even) and p90 by
  nearest rank (the ⌈0.9·n⌉-th smallest) over those conversations.
* ``within_share``: answered rounds with response time ≤ ``reply_within_seconds`` ÷
  answered rounds (all hours).
* 3-minute response rate: of the rounds starting inside business hours (local clock,
  start inclusive, end exclusive: with 08:00-23:00, 08:00:00 and 22:59:59 count,
  07:59:59 and 23:00:00 do not), those answered within 180 s (≤ 180) ÷ those counted. An
  unanswered round is counted – as a miss – once it has waited more than 180 s by the
  window end (it can no longer be answered in time); a younger one is not counted yet.
* ``handled``: distinct conversations with a human reply in the window (per agent: a
  reply by that agent).
* ``resolution_rate``: handled conversations whose status is now ``resolved`` ÷ handled.
* ``complaint_rate``: conversations with a customer message in the window that are
  complaints (``conversations.complaint`` set, or group 客诉) ÷ conversations with a
  customer message in the window (``conversations``). Per agent: among those the agent
  handled; per group: by the conversation's current group.
* Attribution: an answered round (and a conversation's FRT) goes to its responder, an
  unanswered round to the conversation's current assignee (unassigned: team and group
  only); per group by the conversation's current group; the team has everything.
  Agent rows are those with role ``agent``; a supervisor's replies count for the group
  and the team only.

Only what the window needs is read: the conversations with a message since ``start``
(through ``ix_inbox_all``, see :data:`TOUCHED`), their messages inside the window and
their last customer message or human reply before it (both through
``ix_messages_thread``), and for rounds still open at ``end`` the next human reply. All
of it in one read transaction, so the numbers are of one moment of the cache.
"""

from __future__ import annotations

import sqlite3
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from agentdesk.config import KpiSettings
from agentdesk.models import GROUPS

#: The 3-minute response rate's limit, as the platforms count it (seconds).
THREE_MINUTES = 180.0
COMPLAINT_GROUP = "客诉"

#: Conversations with a message since :start, through ix_inbox_all only: one not waiting
#: has rank_ts = -last_message_at (a range); waiting ones are few and checked directly.
TOUCHED = (
    "SELECT id FROM conversations WHERE wait_rank = 1 AND rank_ts <= -:start "
    "UNION ALL SELECT id FROM conversations WHERE wait_rank = 0 AND last_message_at >= :start"
)
#: A message that answers a customer (see the module docstring), for a messages alias.
HUMAN_REPLY = "{m}.sender = 'agent' AND {m}.auto = 0 AND {m}.state != 'failed'"

_CONVERSATIONS = (
    f"WITH touched(id) AS ({TOUCHED}) "
    "SELECT c.id, c.grp, c.status, c.assignee_id, c.complaint > 0 OR c.grp = :complaint_group, ("
    " SELECT p.sender = 'customer' FROM messages p WHERE p.conversation_id = c.id AND p.at < :start"
    f" AND (p.sender = 'customer' OR ({HUMAN_REPLY.format(m='p')})) ORDER BY p.at DESC, p.id DESC LIMIT 1"
    ") FROM touched t JOIN conversations c ON c.id = t.id "
    "WHERE EXISTS (SELECT 1 FROM messages w WHERE w.conversation_id = c.id AND w.at >= :start AND w.at < :end)"
)
_MESSAGES = (
    f"WITH touched(id) AS ({TOUCHED}) "
    "SELECT m.conversation_id, m.sender = 'customer', m.agent_id, m.at, m.id "
    "FROM touched t JOIN messages m ON m.conversation_id = t.id AND m.at >= :start AND m.at < :end "
    f"WHERE m.sender = 'customer' OR ({HUMAN_REPLY.format(m='m')})"
)
_NEXT_REPLY = (
    "SELECT m.at, m.agent_id FROM messages m WHERE m.conversation_id = ? AND m.at >= ? "
    f"AND {HUMAN_REPLY.format(m='m')} ORDER BY m.at, m.id LIMIT 1"
)
_HANDLED = (
    f"WITH touched(id) AS ({TOUCHED}) "
    "SELECT m.agent_id, count(DISTINCT m.conversation_id) "
    "FROM touched t JOIN messages m ON m.conversation_id = t.id AND m.at >= :start AND m.at < :end "
    f"WHERE {HUMAN_REPLY.format(m='m')} GROUP BY m.agent_id"
)


@dataclass(frozen=True)
class Kpi:
    scope: str  # "team" | "agent" | "group"
    key: str  # "" for the team, the agent id, or the group name
    name: str  # the agent's name, the group name, "" for the team
    handled: int
    conversations: int  # with a customer message in the window
    rounds: int
    answered: int
    first_response_median: float | None
    first_response_p90: float | None
    within_share: float | None
    business_rounds: int  # counted in the 3-minute rate
    response_rate_3min: float | None
    resolution_rate: float | None
    complaints: int
    complaint_rate: float | None


@dataclass(frozen=True)
class KpiReport:
    start: float
    end: float
    team: Kpi
    agents: list[Kpi]  # every agent with role 'agent' (zero rows included), ordered by id
    groups: list[Kpi]  # in models.GROUPS order


#: The metrics with a target: (the KpiSettings field, how a value meets it).
TARGETS = {
    "first_response_median": ("first_response_median_seconds", "at_most"),
    "first_response_p90": ("first_response_p90_seconds", "at_most"),
    "within_share": ("within_share", "at_least"),
    "response_rate_3min": ("response_rate_3min", "at_least"),
    "resolution_rate": ("resolution_rate", "at_least"),
    "complaint_rate": ("complaint_rate", "below"),
}


def verdict(metric: str, value: float | None, settings: KpiSettings) -> bool | None:
    """True: ``value`` meets its target; False: it misses; None: no value or no target."""
    if value is None or metric not in TARGETS:
        return None
    name, how = TARGETS[metric]
    target = getattr(settings, name)
    if how == "at_most":
        return value <= target
    if how == "at_least":
        return value >= target
    return value < target


def target(metric: str, settings: KpiSettings) -> float | None:
    """The configured target of ``metric`` (None: it has none)."""
    return getattr(settings, TARGETS[metric][0]) if metric in TARGETS else None


# --- windows --------------------------------------------------------------------------


def _local(ts: float, tz: tzinfo | None) -> datetime:
    return datetime.fromtimestamp(ts, tz)


def midnight(day: date, tz: tzinfo | None = None) -> float:
    """The first instant of local ``day`` (where midnight does not exist, the moment the
    clock jumps past it: a datetime in a gap with fold=0 maps to the transition)."""
    return datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()


def day_start(now: float, tz: tzinfo | None = None) -> float:
    """Local midnight of the day ``now`` is in (``tz`` None: the machine's zone)."""
    return midnight(_local(now, tz).date(), tz)


def today(now: float, tz: tzinfo | None = None) -> tuple[float, float]:
    """(local midnight, now)."""
    return day_start(now, tz), now


def last_days(now: float, days: int = 7, tz: tzinfo | None = None) -> tuple[float, float]:
    """Today and the ``days - 1`` days before it: (midnight ``days - 1`` days ago, now)."""
    return midnight(_local(now, tz).date() - timedelta(days=days - 1), tz), now


def utc_offset(ts: float, tz: tzinfo | None = None) -> float:
    """Seconds the local clock is ahead of UTC at ``ts``."""
    t = datetime.fromtimestamp(ts, tz)
    return (t if tz is not None else t.astimezone()).utcoffset().total_seconds()


class LocalClock:
    """Seconds after local midnight, for many instants: the zone's offset is looked up
    once per quarter hour and trusted only where both ends of it agree (so an instant
    next to a daylight-saving change is still looked up on its own)."""

    def __init__(self, tz: tzinfo | None = None) -> None:
        self.tz = tz
        self._offsets: dict[float, float | None] = {}

    def seconds(self, ts: float) -> float:
        q = ts // 900
        off = self._offsets.get(q, 0.5)
        if off == 0.5:
            a, b = utc_offset(q * 900, self.tz), utc_offset(q * 900 + 899, self.tz)
            off = self._offsets[q] = a if a == b else None
        return (ts + (utc_offset(ts, self.tz) if off is None else off)) % 86400


def in_hours(ts: float, hours: tuple[int, int], tz: tzinfo | None = None, clock: LocalClock | None = None) -> bool:
    """Whether ``ts`` falls inside business ``hours`` (seconds after midnight, start
    inclusive, end exclusive; start > end wraps past midnight) on the local clock."""
    s = (clock or LocalClock(tz)).seconds(ts)
    open_, close = hours
    return open_ <= s < close if open_ < close else (s >= open_ or s < close)


@contextmanager
def snapshot(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One read transaction (unless the caller already has one open): every query sees
    the same cache even while the sync engine writes."""
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("ROLLBACK")  # nothing was written: just let the snapshot go


# --- computing ----------------------------------------------------------------------------


def nearest_rank(values: list[float], pct: int) -> float:
    """The ⌈pct/100·n⌉-th smallest value (integer arithmetic: no 0.9·10 = 9.000…1)."""
    ordered = sorted(values)
    rank = max(1, -(-pct * len(ordered) // 100))
    return ordered[rank - 1]


@dataclass
class _Tally:
    handled: int = 0
    resolved: int = 0
    conversations: int = 0
    complaints: int = 0
    rounds: int = 0
    times: list[float] = field(default_factory=list)  # response times of answered rounds
    first: list[float] = field(default_factory=list)  # one FRT per conversation
    business: int = 0
    business_met: int = 0

    def kpi(self, scope: str, key: str, name: str, within: float) -> Kpi:
        handled = self.handled
        return Kpi(
            scope=scope,
            key=key,
            name=name,
            handled=handled,
            conversations=self.conversations,
            rounds=self.rounds,
            answered=len(self.times),
            first_response_median=float(statistics.median(self.first)) if self.first else None,
            first_response_p90=float(nearest_rank(self.first, 90)) if self.first else None,
            within_share=sum(t <= within for t in self.times) / len(self.times) if self.times else None,
            business_rounds=self.business,
            response_rate_3min=self.business_met / self.business if self.business else None,
            resolution_rate=self.resolved / handled if handled else None,
            complaints=self.complaints,
            complaint_rate=self.complaints / self.conversations if self.conversations else None,
        )


#: A round: (start, answered at or None while unanswered, responder or None).
Round = tuple[float, float | None, str | None]


@dataclass(frozen=True, slots=True)
class Thread:
    """One conversation's part of a window: what every KPI is counted from."""

    id: str
    group: str  # now
    status: str  # now
    assignee: str | None  # now
    complaint: bool  # flagged, or in 客诉
    asked: bool  # a customer message in the window
    repliers: frozenset[str | None]  # who sent a human reply in the window
    rounds: tuple[Round, ...]  # the rounds that started in the window, oldest first


def threads(conn: sqlite3.Connection, start: float, end: float) -> list[Thread]:
    """Every conversation with a customer message or a human reply in ``[start, end)``
    (and those with only other lines there, with nothing to count), read as the module
    docstring says. Call it inside one transaction (:func:`snapshot`)."""
    params = {"start": start, "end": end, "complaint_group": COMPLAINT_GROUP}
    convs = conn.execute(_CONVERSATIONS, params).fetchall()
    lines: dict[str, list[tuple]] = {row[0]: [] for row in convs}
    for cid, customer, agent, at, mid in conn.execute(_MESSAGES, params):
        lines[cid].append((at, mid, customer, agent))
    out = []
    for cid, grp, status, assignee, complaint, open_before in convs:
        msgs = lines[cid]
        msgs.sort()
        rounds: list[Round] = []
        who: set[str | None] = set()
        round_start = None
        asked = False
        carried = bool(open_before)  # a round open at the window start: the earlier window's
        for at, _mid, customer, agent in msgs:
            if customer:
                asked = True
                if round_start is None and not carried:
                    round_start = at
                continue
            who.add(agent)
            carried = False  # that earlier round ends here, uncounted
            if round_start is not None:
                rounds.append((round_start, at, agent))
                round_start = None
        if round_start is not None:  # open at the window end: answered later, or not yet
            late = conn.execute(_NEXT_REPLY, [cid, end]).fetchone()
            rounds.append((round_start, *late) if late else (round_start, None, None))
        out.append(Thread(cid, grp, status, assignee, bool(complaint), asked, frozenset(who), tuple(rounds)))
    return out


def first_answered(rounds: tuple[Round, ...]) -> Round | None:
    """The round a conversation's first response time is taken from."""
    return next((r for r in rounds if r[1] is not None), None)


def compute(conn: sqlite3.Connection, start: float, end: float, settings: KpiSettings,
            tz: tzinfo | None = None) -> KpiReport:
    """The KPIs of ``[start, end)`` for the team, every agent and every group."""
    with snapshot(conn):
        agents = conn.execute("SELECT id, name FROM agents WHERE role = 'agent' ORDER BY id").fetchall()
        window = threads(conn, start, end)

    hours = settings.hours()
    clock = LocalClock(tz)
    team = _Tally()
    by_agent = {aid: _Tally() for aid, _ in agents}
    by_group = {g: _Tally() for g in GROUPS}
    nobody = _Tally()  # rounds and replies of no agent (unassigned, supervisors) land here

    for th in window:
        group = by_group.get(th.group, nobody)
        mine = [by_agent[a] for a in th.repliers if a in by_agent]
        if th.repliers:
            resolved = th.status == "resolved"
            for tally in (team, group, *mine):
                tally.handled += 1
                tally.resolved += resolved
        if th.asked:
            for tally in (team, group, *mine):
                tally.conversations += 1
                tally.complaints += th.complaint
        first_done = False
        for start_at, answered_at, responder in th.rounds:
            if answered_at is None:
                owner = by_agent.get(th.assignee, nobody)
                counted = end - start_at > THREE_MINUTES and in_hours(start_at, hours, clock=clock)
                for tally in (team, group, owner):
                    tally.rounds += 1
                    tally.business += counted
                continue
            rt = answered_at - start_at
            owner = by_agent.get(responder, nobody)
            business = in_hours(start_at, hours, clock=clock)
            met = business and rt <= THREE_MINUTES
            for tally in (team, group, owner):
                tally.rounds += 1
                tally.times.append(rt)
                tally.business += business
                tally.business_met += met
                if not first_done:
                    tally.first.append(rt)
            first_done = True

    within = settings.reply_within_seconds
    names = dict(agents)
    return KpiReport(
        start=start,
        end=end,
        team=team.kpi("team", "", "", within),
        agents=[by_agent[aid].kpi("agent", aid, names[aid], within) for aid, _ in agents],
        groups=[by_group[g].kpi("group", g, g, within) for g in GROUPS],
    )


def handled_by_agent(conn: sqlite3.Connection, start: float, end: float) -> dict[str | None, int]:
    """Conversations each agent replied to in ``[start, end)`` (a human reply, as above):
    the same count as :func:`compute`'s ``handled``, without reading anything else."""
    return dict(conn.execute(_HANDLED, {"start": start, "end": end}).fetchall())


# --- traffic ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Traffic:
    today: list[int]  # 24: customer messages per local hour today (hours after now: 0)
    average: list[float]  # 24: mean per hour over the full days before today


def traffic(conn: sqlite3.Connection, now: float, tz: tzinfo | None = None, days: int = 7) -> Traffic:
    """Customer messages per local hour today, against the mean of the ``days`` full days
    before today. Counted in SQL per elapsed hour since the first of those days, then
    labelled by the local clock (a 23- or 25-hour day puts its hours where they fell)."""
    first_day = _local(now, tz).date() - timedelta(days=days)
    first = midnight(first_day, tz)
    counts = [[0] * 24 for _ in range(days + 1)]
    with snapshot(conn):
        rows = conn.execute(
            f"WITH touched(id) AS ({TOUCHED}) "
            "SELECT CAST((m.at - :start) / 3600 AS INTEGER), count(*) "
            "FROM touched t JOIN messages m ON m.conversation_id = t.id AND m.at >= :start AND m.at < :now "
            "WHERE m.sender = 'customer' GROUP BY 1",
            {"start": first, "now": now},
        ).fetchall()
    for k, n in rows:
        local = _local(first + k * 3600, tz)
        day = (local.date() - first_day).days
        if 0 <= day <= days:
            counts[day][local.hour] += n
    return Traffic(
        today=counts[days],
        average=[sum(counts[d][h] for d in range(days)) / days for h in range(24)],
    )
